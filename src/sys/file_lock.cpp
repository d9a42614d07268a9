// FileLock over flock(2). A timed acquire retries LOCK_NB with a short sleep: flock has no
// timed variant and a signal-based alarm would disturb the rest of the process.
// The lock file is opened with O_NOFOLLOW (a symlink planted at the lock path makes open(2)
// fail with ELOOP, so its target is never created nor opened) and O_NONBLOCK (a FIFO planted
// there cannot block the open); anything but a regular file is refused. New lock files are
// 0600: nobody but the store's owner has a reason to take a fleetbox lock. flock(2) needs no
// write access, so a lock file this process may only read (one left by root in a user's
// store by an older fleetbox run through sudo) is opened read-only and still locks.
#include "sys/file_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>

namespace fleetbox {

namespace {
Result<Fd> open_lock_file(const std::string& path) {
    constexpr int kFlags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | kFlags, 0600));
    if (!fd && errno == EACCES)
        fd.reset(::open(path.c_str(), O_RDONLY | kFlags));
    if (!fd && errno == ELOOP)
        return fail(ErrorKind::Permission, "open lock " + path,
                    "it is a symbolic link, which fleetbox never follows",
                    "remove " + path + " (fleetbox creates it again)");
    if (!fd)
        return fail_errno("open lock " + path, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail_errno("open lock " + path, errno);
    if (!S_ISREG(st.st_mode))
        return fail(ErrorKind::Permission, "open lock " + path, "it is not a regular file",
                    "remove " + path + " (fleetbox creates it again)");
    return fd;
}
int op_for(FileLock::Mode mode) {
    return mode == FileLock::Mode::Shared ? LOCK_SH : LOCK_EX;
}
} // namespace

Result<FileLock> FileLock::acquire(const std::string& path, Mode mode,
                                   std::optional<std::chrono::milliseconds> timeout) {
    Fd fd = FBX_TRY(open_lock_file(path));
    if (!timeout) {
        while (::flock(fd.get(), op_for(mode)) != 0) {
            if (errno != EINTR)
                return fail_errno("lock " + path, errno);
        }
        return FileLock(path, std::move(fd));
    }
    auto deadline = std::chrono::steady_clock::now() + *timeout;
    while (::flock(fd.get(), op_for(mode) | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return fail_errno("lock " + path, errno);
        if (std::chrono::steady_clock::now() >= deadline)
            return fail(ErrorKind::Timeout, "lock " + path, "held by another process");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return FileLock(path, std::move(fd));
}

Result<FileLock> FileLock::try_acquire(const std::string& path, Mode mode) {
    Fd fd = FBX_TRY(open_lock_file(path));
    while (::flock(fd.get(), op_for(mode) | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            return fail(ErrorKind::Busy, "lock " + path, "held by another process");
        return fail_errno("lock " + path, errno);
    }
    return FileLock(path, std::move(fd));
}

} // namespace fleetbox
