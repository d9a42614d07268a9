// ensure_owned_dir (mkdir + chmod + lchown per created level) and write_file_exclusive
// (AtomicFile's temp file, then link(2), which unlike rename(2) never replaces the target).
#include "store/dirs.hpp"

#include "sys/atomic_file.hpp"
#include "sys/fs.hpp"

#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {

Status ensure_owned_dir(const std::string& path, mode_t mode, const InvokingUser& user,
                        std::vector<std::string>* created) {
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
        if (::chmod(it->c_str(), mode) != 0)
            return fail_errno("chmod " + *it, errno);
        FBX_CHECK(give_to_invoking_user(*it, user));
    }
    return {};
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
