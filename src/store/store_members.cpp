// Store: creating, removing and locking one member.
//
// remove() relies on lstat(2) to see symlinks as symlinks and on remove_tree (nftw with
// FTW_PHYS | FTW_MOUNT) to never follow one nor cross a mount point, so nothing outside the
// member directory can be deleted. Locks are flock(2) (sys/file_lock.hpp): the kernel drops
// them when the holder dies, so no stale lock survives a crash. Their files live in locks/,
// which remove() never touches: deleting a lock file while another process waits on it
// would let that waiter and a newcomer (who creates a fresh file) both "hold" the lock.
// A socket in run/ is unlinked only after connect(2) to it failed with ECONNREFUSED: that
// file has nobody behind it. A live helper's socket (connect succeeds) and one we may not
// even try (EACCES: it belongs to a helper of root) are left alone.
#include "store/dirs.hpp"
#include "store/names.hpp"
#include "store/store.hpp"
#include "sys/fs.hpp"
#include "sys/unix_socket.hpp"

#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {

namespace {

std::string vm(std::string_view name) {
    return "VM " + quote_name(name);
}

tl::unexpected<Error> already_exists(const std::string& name) {
    return fail(ErrorKind::AlreadyExists, vm(name) + " already exists", {},
                "remove it with `fleetbox rm " + name + "` or pick another name");
}

// Undo what create() made, innermost first; best effort (the original error matters more).
void remove_created(const std::vector<std::string>& created) {
    for (auto it = created.rbegin(); it != created.rend(); ++it)
        ::rmdir(it->c_str());
}

// Unlink one path that may be absent.
Status unlink_if_present(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return fail_errno("remove " + path, errno);
    return {};
}

// Unlink the socket file at `path` only when nothing listens on it (or it is no socket).
Status unlink_if_stale(const std::string& path) {
    auto connected = connect_unix(path, std::chrono::milliseconds(0));
    if (connected || connected.error().err_no != ECONNREFUSED)
        return {}; // absent, live, or not ours to judge
    return unlink_if_present(path);
}

// Delete the member directory without ever following a symlink out of it.
Status remove_member_dir(const std::string& cdir, const std::string& mdir) {
    struct stat st {};
    if (::lstat(cdir.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return {};
        return fail_errno("inspect " + cdir, errno);
    }
    if (!S_ISDIR(st.st_mode))
        return fail(ErrorKind::InvalidArgument, "remove " + mdir,
                    cdir + " is a symlink or not a directory; fleetbox does not delete through it",
                    "remove the member by hand if it is really meant to go");
    if (::lstat(mdir.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return {};
        return fail_errno("inspect " + mdir, errno);
    }
    if (!S_ISDIR(st.st_mode))
        return unlink_if_present(mdir); // a symlink goes, not its target
    return remove_tree(mdir);
}

} // namespace

Result<std::string> Store::ensure_member_dir(std::string_view name) const {
    const std::string dir = FBX_TRY(member_dir(name));
    FBX_CHECK(make_dirs(dir, kStoreDirMode));
    // A member made by an older version is tightened whenever it is used.
    FBX_CHECK(tighten_tree(FBX_TRY(cluster_dir(name)), 0, user_.uid));
    FBX_CHECK(tighten_tree(dir, 1, user_.uid));
    return dir;
}

Status Store::create(const VmConfig& config) const {
    FBX_CHECK(validate_vm_name(config.name));
    const std::string what = "create " + vm(config.name);
    if (auto ok = check_config(config); !ok)
        return fail(ErrorKind::InvalidArgument, what, ok.error().context);
    if (exists(config.name))
        return already_exists(config.name);
    const std::string dir = FBX_TRY(member_dir(config.name));
    const std::string path = dir + "/config.json";
    std::vector<std::string> created;
    bool wrote = false;
    auto made = make_dirs(dir, kStoreDirMode, &created);
    if (made) {
        made = write_file_exclusive(path, serialize_config(config), kStoreFileMode);
        wrote = made.has_value();
    }
    if (made)
        return {};
    if (wrote)
        ::unlink(path.c_str());
    remove_created(created);
    if (made.error().kind == ErrorKind::AlreadyExists && !wrote && path_exists(path))
        return already_exists(config.name); // another process created it first
    return fail(std::move(made).error().wrap(what));
}

Status Store::remove(std::string_view name) const {
    FBX_CHECK(validate_vm_name(name));
    const std::string what = "remove " + vm(name);
    const std::string cdir = FBX_TRY(cluster_dir(name));
    const std::string mdir = FBX_TRY(member_dir(name));
    auto wrap = [&](Error e) { return std::move(e).wrap(what); };
    if (auto ok = remove_member_dir(cdir, mdir); !ok)
        return fail(wrap(std::move(ok).error()));
    for (const char* suffix : {".sock", ".ctl", ".qmp"}) {
        const std::string sock = run_dir() + "/" + socket_stem(name) + suffix;
        if (auto ok = unlink_if_stale(sock); !ok)
            return fail(wrap(std::move(ok).error()));
    }
    // Non-recursive: fails (harmlessly) while sibling members remain.
    if (::rmdir(cdir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
        return fail_errno(what + ": remove " + cdir, errno);
    return {};
}

Result<FileLock> Store::lock_member(std::string_view name) const {
    const std::string path = FBX_TRY(lock_path(name));
    FBX_CHECK(make_dirs(locks_dir(), 0700));
    auto lock = FileLock::try_acquire(path);
    if (!lock && lock.error().kind == ErrorKind::Busy)
        return fail(ErrorKind::Busy, vm(name) + " is in use by another fleetbox process", {},
                    "wait for the other fleetbox command to finish");
    if (!lock)
        return fail(std::move(lock).error().wrap("lock " + vm(name)));
    return lock;
}

Result<FileLock> Store::lock_member_wait(std::string_view name,
                                         std::chrono::milliseconds timeout) const {
    const std::string path = FBX_TRY(lock_path(name));
    FBX_CHECK(make_dirs(locks_dir(), 0700));
    auto lock = FileLock::acquire(path, FileLock::Mode::Exclusive, timeout);
    if (!lock && lock.error().kind == ErrorKind::Timeout)
        return fail(ErrorKind::Timeout, vm(name) + " is in use by another fleetbox process",
                    "still locked after " + std::to_string(timeout.count()) + " ms",
                    "wait for the other fleetbox command to finish");
    if (!lock)
        return fail(std::move(lock).error().wrap("lock " + vm(name)));
    return lock;
}

} // namespace fleetbox
