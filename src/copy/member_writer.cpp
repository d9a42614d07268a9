// MemberWriter: every step is relative to a descriptor opened with O_NOFOLLOW|O_DIRECTORY,
// and new names are made with O_CREAT|O_EXCL, mkdirat, symlinkat, linkat (which does not
// follow a symlink at its source without AT_SYMLINK_FOLLOW) or mkfifoat: the kernel, not a
// path string, guarantees nothing is written outside the directory the caller handed in.
// The parent descriptor of the last member is cached: a tar stream lists a directory's files
// one after another.
#include "copy/member_writer.hpp"

#include "copy/entry_rules.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::copy {

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::string join(const std::vector<std::string>& parts, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i)
        out += (i ? "/" : "") + parts[i];
    return out;
}

// Why `name` in `dir` is not a directory we may enter.
std::string not_a_dir(int dir, const std::string& name) {
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return "is a symlink";
    return "is not a directory";
}

} // namespace

Result<int> MemberWriter::parent_of(const MemberMeta& m, std::string& leaf) {
    if (m.rel.empty()) {
        leaf = out_name_;
        return dir_fd_;
    }
    leaf = m.rel.back();
    std::size_t depth = m.rel.size() - 1;
    std::string key = join(m.rel, depth);
    if (key == cached_key_ && cached_fd_)
        return cached_fd_.get();
    Fd fd(::openat(dir_fd_, out_name_.c_str(), kDirFlags));
    std::string at = "the top entry";
    if (!fd && errno == ENOENT)
        return unsafe_entry(m.name, "its parent " + at + " is not in the archive before it");
    if (!fd)
        return unsafe_entry(m.name, "its parent " + at + " " + not_a_dir(dir_fd_, out_name_));
    for (std::size_t i = 0; i < depth; ++i) {
        Fd next(::openat(fd.get(), m.rel[i].c_str(), kDirFlags));
        at = "\"" + join(m.rel, i + 1) + "\"";
        if (!next) {
            if (errno == ENOENT)
                return unsafe_entry(m.name,
                                    "its parent " + at + " is not in the archive before it");
            if (errno == ELOOP || errno == ENOTDIR)
                return unsafe_entry(m.name,
                                    "its parent " + at + " " + not_a_dir(fd.get(), m.rel[i]));
            return fail_errno("open " + at, errno);
        }
        fd = std::move(next);
    }
    cached_key_ = key;
    cached_fd_ = std::move(fd);
    return cached_fd_.get();
}

Status MemberWriter::clear_slot(const MemberMeta& m, int parent, const std::string& leaf) {
    struct stat st {};
    if (::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? Status{} : fail_errno("inspect " + m.name, errno);
    if (S_ISDIR(st.st_mode))
        return unsafe_entry(m.name, "it would replace a directory");
    if (::unlinkat(parent, leaf.c_str(), 0) != 0)
        return fail_errno("replace " + m.name, errno);
    return {};
}

Status MemberWriter::make_dir(const MemberMeta& m) {
    std::string leaf;
    int parent = FBX_TRY(parent_of(m, leaf));
    if (::mkdirat(parent, leaf.c_str(), 0700) != 0) {
        int err = errno;
        struct stat st {};
        if (err != EEXIST || ::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return fail_errno("create directory " + m.name, err);
        if (!S_ISDIR(st.st_mode))
            return unsafe_entry(m.name, "a directory over an earlier non-directory member");
    }
    dirs_.push_back(m);
    return {};
}

Result<Fd> MemberWriter::make_file(const MemberMeta& m) {
    std::string leaf;
    int parent = FBX_TRY(parent_of(m, leaf));
    FBX_CHECK(clear_slot(m, parent, leaf));
    Fd fd(
        ::openat(parent, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd)
        return fail_errno("create " + m.name, errno);
    return fd;
}

Status MemberWriter::finish_file(const MemberMeta& m, int fd) {
    if (::fchmod(fd, m.mode & 0777) != 0)
        return fail_errno("set the mode of " + m.name, errno);
    timespec times[2] = {{0, UTIME_OMIT}, m.mtime};
    if (::futimens(fd, times) != 0)
        return fail_errno("set the time of " + m.name, errno);
    return {};
}

Status MemberWriter::make_symlink(const MemberMeta& m, const std::string& target) {
    std::string leaf;
    int parent = FBX_TRY(parent_of(m, leaf));
    FBX_CHECK(clear_slot(m, parent, leaf));
    if (::symlinkat(target.c_str(), parent, leaf.c_str()) != 0)
        return fail_errno("create symlink " + m.name, errno);
    timespec times[2] = {{0, UTIME_OMIT}, m.mtime};
    (void)::utimensat(parent, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return {};
}

Status MemberWriter::make_hardlink(const MemberMeta& m, const MemberMeta& target) {
    std::string target_leaf;
    Fd target_dir(::dup(FBX_TRY(parent_of(target, target_leaf))));
    if (!target_dir)
        return fail_errno("dup", errno);
    struct stat st {};
    if (::fstatat(target_dir.get(), target_leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
        return unsafe_entry(m.name, "hard link to \"" + target.name +
                                        "\", which is not an earlier regular file");
    std::string leaf;
    int parent = FBX_TRY(parent_of(m, leaf));
    FBX_CHECK(clear_slot(m, parent, leaf));
    if (::linkat(target_dir.get(), target_leaf.c_str(), parent, leaf.c_str(), 0) != 0)
        return fail_errno("create hard link " + m.name, errno);
    return {};
}

Status MemberWriter::make_fifo(const MemberMeta& m) {
    std::string leaf;
    int parent = FBX_TRY(parent_of(m, leaf));
    FBX_CHECK(clear_slot(m, parent, leaf));
    if (::mkfifoat(parent, leaf.c_str(), 0600) != 0)
        return fail_errno("create FIFO " + m.name, errno);
    // The FIFO was just made in a directory only this process writes: nothing can swap it.
    if (::fchmodat(parent, leaf.c_str(), m.mode & 0777, 0) != 0)
        return fail_errno("set the mode of " + m.name, errno);
    return {};
}

Status MemberWriter::finish_dirs() {
    std::stable_sort(dirs_.begin(), dirs_.end(), [](const MemberMeta& a, const MemberMeta& b) {
        return a.rel.size() > b.rel.size();
    });
    for (const auto& m : dirs_) {
        std::string leaf;
        int parent = FBX_TRY(parent_of(m, leaf));
        Fd fd(::openat(parent, leaf.c_str(), kDirFlags));
        if (!fd)
            return fail_errno("open directory " + m.name, errno);
        if (::fchmod(fd.get(), m.mode & 01777) != 0)
            return fail_errno("set the mode of " + m.name, errno);
        timespec times[2] = {{0, UTIME_OMIT}, m.mtime};
        (void)::futimens(fd.get(), times);
    }
    dirs_.clear();
    return {};
}

} // namespace fleetbox::copy
