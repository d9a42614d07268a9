// Build results and the build log between root and the user (see build_handover.hpp).
// Everything goes through descriptors opened with O_NOFOLLOW: a path the user swapped can
// never make root open, chmod or chown anything outside the directories it means.
#include "image/build_handover.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::image {

std::optional<std::pair<uid_t, gid_t>> result_owner(const ScopedRoot* root) {
    if (root != nullptr && root->elevated())
        return std::pair{root->user_uid(), root->user_gid()};
    return std::nullopt;
}

// Makes `dir` 0700 and its `files` 0600 (whatever the umask of the tools that wrote them) and
// chowns them to `owner`, so the user can use, list and remove their cache. Everything goes
// through a descriptor of `dir` opened with O_NOFOLLOW, and no symlink inside is followed.
Status give_away(const std::string& dir, const std::vector<std::string>& files,
                 const std::optional<std::pair<uid_t, gid_t>>& owner) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        return fail_errno("hand " + dir + " to its user", errno);
    for (const auto& f : files) {
        Fd file(::openat(fd.get(), f.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        if (!file) {
            if (errno == ENOENT)
                continue;
            return fail_errno("open " + dir + "/" + f, errno);
        }
        if (::fchmod(file.get(), 0600) != 0 && errno != EPERM)
            return fail_errno("chmod " + dir + "/" + f, errno);
        if (owner && ::fchown(file.get(), owner->first, owner->second) != 0)
            return fail_errno("chown " + dir + "/" + f, errno);
    }
    // EPERM: not ours (a .logs/ left by root by an older fleetbox); the store root is 0700.
    if (::fchmod(fd.get(), 0700) != 0 && errno != EPERM)
        return fail_errno("chmod " + dir, errno);
    if (owner && ::fchown(fd.get(), owner->first, owner->second) != 0)
        return fail_errno("chown " + dir, errno);
    return {};
}

// The build log, truncated for this build: opened by the user before any elevation, with
// O_NOFOLLOW (a symlink planted there is refused), and read and appended to only through
// this descriptor afterwards.
Result<Fd> open_build_log(const std::string& path) {
    Fd fd(
        ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd && errno == ELOOP)
        return fail(ErrorKind::Permission, "open build log " + path,
                    "it is a symbolic link, which fleetbox does not follow", "remove " + path);
    if (!fd)
        return fail_errno("open build log " + path, errno);
    return fd;
}

// Opens the build's results in `dir` without following symlinks, to copy them after the
// elevation ends (an open descriptor stays readable when root's directory is gone).
Result<std::vector<OpenResult>> open_results(const std::string& dir,
                                             const std::vector<std::string>& files) {
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd)
        return fail_errno("open " + dir, errno);
    std::vector<OpenResult> out;
    for (const auto& name : files) {
        Fd fd(::openat(dir_fd.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd)
            return fail_errno("open " + dir + "/" + name, errno);
        out.push_back(OpenResult{name, std::move(fd)});
    }
    return out;
}

// Copies `from` (from its start) into a new 0600 file `dir/name`, fsynced.
Status copy_into(const std::string& dir, const std::string& name, int from) {
    const std::string path = dir + "/" + name;
    Fd to(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!to)
        return fail_errno("create " + path, errno);
    loff_t offset = 0;
    while (true) {
        ssize_t n = ::copy_file_range(from, &offset, to.get(), nullptr, 1 << 30, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno("copy the built " + name + " to " + path, errno);
        if (n == 0)
            break;
    }
    if (::fsync(to.get()) != 0)
        return fail_errno("fsync " + path, errno);
    return {};
}

} // namespace fleetbox::image
