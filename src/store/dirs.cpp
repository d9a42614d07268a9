// make_dirs (mkdir + fchmod per created level), the O_NOFOLLOW directory
// checks and tightening (openat(2) relative to a directory descriptor, fstatat(2) with
// AT_SYMLINK_NOFOLLOW, fchmod(2) on the opened file), and write_file_exclusive (AtomicFile's
// temp file, then link(2), which unlike rename(2) never replaces the target).
#include "store/dirs.hpp"

#include "sys/atomic_file.hpp"
#include "sys/fs.hpp"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {

Status make_dirs(const std::string& path, mode_t mode, std::vector<std::string>* created) {
    // Walk up to the first existing ancestor, then create downwards.
    std::vector<std::string> missing;
    for (std::string p = path; !p.empty() && p != "/" && p != "."; p = parent_dir(p)) {
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return fail(ErrorKind::AlreadyExists, "create directory " + p,
                            "a file that is not a directory is in the way");
            break;
        }
        missing.push_back(p);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), mode) != 0) {
            if (errno == EEXIST && is_directory(*it))
                continue; // created by a racing process
            return fail_errno("create directory " + *it, errno);
        }
        if (created != nullptr)
            created->push_back(*it);
        Fd fd = FBX_TRY(open_dir_nofollow(*it));
        if (::fchmod(fd.get(), mode) != 0)
            return fail_errno("chmod " + *it, errno);
    }
    return {};
}

Result<Fd> open_dir_nofollow(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd)
        return fd;
    const int err = errno;
    struct stat st {};
    if ((err == ELOOP || err == ENOTDIR) && ::lstat(path.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode))
            return fail(ErrorKind::Permission, "open " + path,
                        "it is a symbolic link, which fleetbox does not follow in its store",
                        "use the directory it points to (FLEETBOX_HOME), or remove the link");
        return fail(ErrorKind::AlreadyExists, "open directory " + path,
                    "a file that is not a directory is in the way");
    }
    return fail_errno("open directory " + path, err);
}

Status tighten_fd(int fd, const std::string& path, mode_t mode, uid_t owner) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return fail_errno("inspect " + path, errno);
    if ((st.st_mode & 07777) == mode)
        return {};
    if (st.st_uid != ::geteuid() && !(::geteuid() == 0 && st.st_uid == owner))
        return {};
    if (::fchmod(fd, mode) != 0)
        return fail_errno("chmod " + path, errno);
    return {};
}

Status ensure_store_dir(const std::string& path, const InvokingUser& user) {
    FBX_CHECK(make_dirs(path, kStoreDirMode));
    Fd fd = FBX_TRY(open_dir_nofollow(path));
    return tighten_fd(fd.get(), path, kStoreDirMode, user.uid);
}

namespace {

Status tighten_entries(int dir_fd, const std::string& dir, int depth, uid_t owner) {
    FBX_CHECK(tighten_fd(dir_fd, dir, kStoreDirMode, owner));
    if (depth <= 0)
        return {};
    int list_fd = ::dup(dir_fd);
    if (list_fd < 0)
        return fail_errno("list " + dir, errno);
    DIR* listing = ::fdopendir(list_fd);
    if (listing == nullptr) {
        ::close(list_fd);
        return fail_errno("list " + dir, errno);
    }
    ::rewinddir(listing);
    std::vector<std::string> names;
    while (dirent* ent = ::readdir(listing)) {
        std::string name = ent->d_name;
        if (name != "." && name != "..")
            names.push_back(std::move(name));
    }
    ::closedir(listing);
    for (const auto& name : names) {
        const std::string path = dir + "/" + name;
        struct stat st {};
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; // vanished
        if (S_ISDIR(st.st_mode)) {
            Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (sub)
                FBX_CHECK(tighten_entries(sub.get(), path, depth - 1, owner));
        } else if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
            Fd file(::openat(dir_fd, name.c_str(),
                             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
            if (file)
                FBX_CHECK(tighten_fd(file.get(), path, st.st_mode & 0700, owner));
        }
    }
    return {};
}

} // namespace

Status tighten_tree(const std::string& dir, int depth, uid_t owner) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
            return {}; // absent, or a symlink: nothing of ours to tighten, and never followed
        return fail_errno("open directory " + dir, errno);
    }
    return tighten_entries(fd.get(), dir, depth, owner);
}

namespace {
// The file lives only inside this function, so its temporary name is gone before the
// directory is fsynced by the caller.
Status write_and_link(const std::string& path, std::string_view data, mode_t mode) {
    auto file = FBX_TRY(AtomicFile::open(path, mode));
    FBX_CHECK(file.write(data));
    if (::fsync(file.fd()) != 0)
        return fail_errno("fsync " + file.temp_path(), errno);
    if (::link(file.temp_path().c_str(), path.c_str()) != 0) {
        const int err = errno;
        if (err == EEXIST)
            return fail(ErrorKind::AlreadyExists, "create " + path, "it already exists");
        return fail_errno("create " + path, err);
    }
    return {}; // dropping the uncommitted AtomicFile unlinks the temporary name
}
} // namespace

Status write_file_exclusive(const std::string& path, std::string_view data, mode_t mode) {
    FBX_CHECK(write_and_link(path, data, mode));
    return fsync_dir(parent_dir(path));
}

} // namespace fleetbox
