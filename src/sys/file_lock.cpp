// FileLock over flock(2). A timed acquire retries LOCK_NB with a short sleep: flock has no
// timed variant and a signal-based alarm would disturb the rest of the process.
#include "sys/file_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <thread>

namespace fleetbox {

namespace {
Result<Fd> open_lock_file(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd)
        return fail_errno("open lock " + path, errno);
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
