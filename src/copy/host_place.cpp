// Scratch: TempDir plus a descriptor for the extractor, renameat/renameat2 for the commit.
#include "copy/host_place.hpp"

#include "sys/fs.hpp"

#include <cerrno>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fleetbox::copy {

namespace {

int make_writable(const char* path, const struct stat* st, int type, FTW*) {
    if (type == FTW_D || type == FTW_DNR)
        ::chmod(path, (st->st_mode & 07777) | S_IRWXU);
    return 0;
}

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Returns the directories it had to create, deepest first.
Result<std::vector<std::string>> ensure_parent(const std::string& parent) {
    // The nearest existing ancestor decides: a file there can never hold the destination.
    std::vector<std::string> created;
    std::string probe = parent;
    for (;;) {
        struct stat st {};
        if (::stat(probe.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return fail(ErrorKind::InvalidArgument, probe + " is not a directory", {},
                            "the destination's parent must be a directory");
            break;
        }
        if ((errno != ENOENT && errno != ENOTDIR) || probe == "/" || probe == ".")
            return fail_errno("inspect " + probe, errno);
        created.push_back(probe);
        probe = parent_of(probe);
    }
    FBX_CHECK(ensure_dir(parent, 0755));
    return created;
}

} // namespace

void make_tree_removable(const std::string& path) {
    ::nftw(path.c_str(), make_writable, 16, FTW_PHYS | FTW_MOUNT);
}

Result<Scratch> Scratch::next_to(const std::string& destination) {
    std::string dest = destination;
    while (dest.size() > 1 && dest.back() == '/')
        dest.pop_back();
    std::string parent = parent_of(dest);
    auto created = FBX_TRY(ensure_parent(parent));
    auto dir = TempDir::create(parent, ".fleetbox-copy-");
    if (!dir) {
        for (const auto& d : created)
            ::rmdir(d.c_str());
        return tl::unexpected(std::move(dir).error());
    }
    Fd fd(::open(dir->path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        return fail_errno("open " + dir->path(), errno);
    Scratch scratch(dest, std::move(*dir), std::move(fd));
    scratch.created_ = std::move(created);
    return scratch;
}

Scratch::~Scratch() {
    if (!dir_ || dir_->path().empty())
        return; // moved from
    make_tree_removable(dir_->path());
    (void)dir_->remove();
    // A copy that did not land leaves no parent directories behind either.
    if (!committed_)
        for (const auto& d : created_)
            ::rmdir(d.c_str());
}

Status Scratch::commit(const std::string& name, bool is_dir) {
    struct stat st {};
    bool exists = ::lstat(destination_.c_str(), &st) == 0;
    if (!exists && errno != ENOENT)
        return fail_errno("inspect " + destination_, errno);
    if (exists && S_ISDIR(st.st_mode)) {
        if (!is_dir)
            return fail(ErrorKind::InvalidArgument, destination_ + " is a directory", {},
                        "name the file to create in it");
        // The old tree goes to the scratch directory, removed with it.
        if (::renameat2(fd(), name.c_str(), AT_FDCWD, destination_.c_str(), RENAME_EXCHANGE) != 0)
            return fail_errno("replace " + destination_, errno);
        committed_ = true;
        return {};
    }
    if (exists && is_dir)
        return fail(ErrorKind::InvalidArgument, destination_ + " exists and is not a directory");
    if (::renameat(fd(), name.c_str(), AT_FDCWD, destination_.c_str()) != 0)
        return fail_errno("move into place " + destination_, errno);
    committed_ = true;
    return {};
}

} // namespace fleetbox::copy
