// cap_log_at: copy-truncate rotation through a directory descriptor (see log_cap.hpp for why).
// Relies on: openat(2) with O_NOFOLLOW failing with ELOOP on a symlink; unlinkat(2) and
// renameat(2) acting on the name itself, never on what a symlink points to; ftruncate(2) on a
// file others hold open O_APPEND (their next write goes to the new end of file).
#include "sys/log_cap.hpp"

#include "sys/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fleetbox {

namespace {

// Copies the first `size` bytes of `from` to `to`.
Status copy_prefix(int from, int to, std::uint64_t size, const std::string& what) {
    std::vector<char> buf(256 * 1024);
    std::uint64_t done = 0;
    while (done < size) {
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - done));
        ssize_t n = ::pread(from, buf.data(), want, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno("read " + what, errno);
        if (n == 0)
            break; // shrank meanwhile
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(to, buf.data() + off, static_cast<std::size_t>(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return fail_errno("write " + what + ".1", errno);
            off += w;
        }
        done += static_cast<std::uint64_t>(n);
    }
    return {};
}

} // namespace

Result<bool> cap_log_at(int dir_fd, const std::string& name, std::uint64_t cap) {
    Fd log(::openat(dir_fd, name.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!log) {
        if (errno == ENOENT || errno == ELOOP)
            return false; // none yet, or a symlink (never ours to follow)
        return fail_errno("open " + name, errno);
    }
    struct stat st {};
    if (::fstat(log.get(), &st) != 0)
        return fail_errno("stat " + name, errno);
    if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) <= cap)
        return false;
    const std::string kept = name + ".1";
    const std::string temp = kept + ".tmp";
    (void)::unlinkat(dir_fd, temp.c_str(), 0);
    Fd copy(
        ::openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!copy)
        return fail_errno("create " + temp, errno);
    auto copied = copy_prefix(log.get(), copy.get(), static_cast<std::uint64_t>(st.st_size), name);
    if (copied && ::renameat(dir_fd, temp.c_str(), dir_fd, kept.c_str()) != 0)
        copied = fail_errno("rename " + temp + " to " + kept, errno);
    if (!copied)
        (void)::unlinkat(dir_fd, temp.c_str(), 0);
    // Truncate even when keeping the copy failed: the cap matters more than the old content.
    if (::ftruncate(log.get(), 0) != 0)
        return fail_errno("truncate " + name, errno);
    if (!copied)
        return fail(std::move(copied).error());
    return true;
}

Result<bool> cap_log_in(const std::string& dir, const std::string& name, std::uint64_t cap) {
    Fd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd) {
        if (errno == ENOENT)
            return false;
        return fail_errno("open " + dir, errno);
    }
    return cap_log_at(dir_fd.get(), name, cap);
}

} // namespace fleetbox
