// Filesystem helpers over POSIX calls; each failure names the path it touched.
#include "sys/fs.hpp"

#include "sys/fd.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace fleetbox {

Result<std::string> read_file(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return fail_errno("read " + path, errno);
    std::string out;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("read " + path, errno);
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Status ensure_dir(const std::string& path, mode_t mode) {
    if (path.empty())
        return {};
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return {};
        return fail(ErrorKind::AlreadyExists, "create directory " + path,
                    "a file that is not a directory is in the way");
    }
    std::string parent = parent_dir(path);
    if (!parent.empty() && parent != path)
        FBX_CHECK(ensure_dir(parent, mode));
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        return fail_errno("create directory " + path, errno);
    return {};
}

Status fsync_dir(const std::string& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
        return fail_errno("open directory " + dir, errno);
    if (::fsync(fd.get()) != 0)
        return fail_errno("fsync directory " + dir, errno);
    return {};
}

bool path_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

namespace {
int remove_entry(const char* path, const struct stat* /*st*/, int type, struct FTW* /*ftw*/) {
    int rc = (type == FTW_DP) ? ::rmdir(path) : ::unlink(path);
    return rc == 0 || errno == ENOENT ? 0 : errno;
}
} // namespace

Status remove_tree(const std::string& path) {
    if (!path_exists(path))
        return {};
    // FTW_MOUNT: never descend into another filesystem (a leaked bind mount of /dev or /proc
    // inside a build directory must stop the removal, not be emptied); FTW_PHYS: never follow
    // symlinks; FTW_DEPTH: children before their directory.
    int rc = ::nftw(path.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (rc != 0)
        return fail_errno("remove " + path, rc > 0 ? rc : errno);
    return {};
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
    std::vector<std::string> names;
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
        if (errno == ENOENT)
            return names;
        return fail_errno("list " + path, errno);
    }
    while (dirent* ent = ::readdir(dir)) {
        std::string name = ent->d_name;
        if (name != "." && name != "..")
            names.push_back(std::move(name));
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

Result<unsigned long long> file_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return fail_errno("stat " + path, errno);
    return static_cast<unsigned long long>(st.st_size);
}

Result<unsigned long long> allocated_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return fail_errno("stat " + path, errno);
    return static_cast<unsigned long long>(st.st_blocks) * 512ULL;
}

Result<unsigned long long> free_space(const std::string& path) {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0)
        return fail_errno("statvfs " + path, errno);
    return static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize;
}

std::string parent_dir(const std::string& path) {
    auto pos = path.find_last_of('/');
    if (pos == std::string::npos)
        return ".";
    if (pos == 0)
        return "/";
    return path.substr(0, pos);
}

std::string base_name(const std::string& path) {
    auto pos = path.find_last_of('/');
    return pos == std::string::npos ? path : path.substr(pos + 1);
}

std::string find_program(const std::string& name) {
    if (name.find('/') != std::string::npos)
        return ::access(name.c_str(), X_OK) == 0 ? name : "";
    const char* env = std::getenv("PATH");
    std::string path = env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& dir : split(path, ':')) {
        if (dir.empty())
            continue;
        std::string candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0 && !is_directory(candidate))
            return candidate;
    }
    return {};
}

std::string self_exe() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string{} : p.string();
}

} // namespace fleetbox
