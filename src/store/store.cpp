// Store: opening the root, path derivation and read-only queries (exists, list, load).
// Creation, removal and locking are in store_members.cpp.
//
// Listing uses lstat(2) so a symlink placed in clusters/ is never listed as a member: the
// store only reports what it would also be willing to delete.
// Opening checks the root through a descriptor opened with O_NOFOLLOW (fstat(2) of the
// directory itself, not of whatever a path names a moment later) and tightens the modes of an
// existing store (dirs.hpp).
#include "store/store.hpp"

#include "store/dirs.hpp"
#include "store/names.hpp"
#include "store/paths.hpp"
#include "sys/fs.hpp"
#include "sys/sha256.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace fleetbox {

namespace {

bool is_real_directory(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status check_root_length(const std::string& root) {
    if (root.size() <= kMaxStoreRootLength)
        return {};
    const std::string why = "the path has " + std::to_string(root.size()) +
                            " characters, too long for unix socket paths under it (" +
                            std::to_string(kMaxSocketPathLength) + " bytes at most)";
    return fail(ErrorKind::InvalidArgument, "use store " + root, why,
                "set FLEETBOX_HOME to a directory path of at most " +
                    std::to_string(kMaxStoreRootLength) + " characters");
}

// "nobody (uid 65534)", or "uid 1234" without a passwd entry.
std::string describe_uid(uid_t uid) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr)
        return std::string(found->pw_name) + " (uid " + std::to_string(uid) + ")";
    return "uid " + std::to_string(uid);
}

// A store that does not exist yet is made 0700 for its owner (its missing parents too).
Status create_root(const std::string& root) {
    struct stat st {};
    if (::lstat(root.c_str(), &st) == 0)
        return {};
    return make_dirs(root, kStoreDirMode);
}

// Owner and mode of the store root: one line saying what is wrong and what to do.
Status check_root_stat(const std::string& root, const struct stat& st, const InvokingUser& user) {
    const std::string what = "use the fleetbox store " + root;
    if (st.st_uid != user.uid)
        return fail(ErrorKind::Permission, what,
                    "it belongs to " + describe_uid(st.st_uid) + ", not to " +
                        describe_uid(user.uid) + " who runs fleetbox",
                    "set FLEETBOX_HOME to a directory you own");
    if ((st.st_mode & 022) != 0) {
        const char* who = (st.st_mode & 002) != 0 ? "other users" : "its group";
        return fail(ErrorKind::Permission, what,
                    fmt::format("it is writable by {} (mode {:04o})", who, st.st_mode & 07777),
                    "chmod 700 " + root);
    }
    return {};
}

// The root must be a directory of the invoking user that nobody else can write to:
// everything fleetbox later reads from it (configs, disks, keys) is trusted because of that.
// lstat(2) first, so a root the user cannot even open still gets the owner line; then the
// verdict that counts, on the directory opened without following a final symlink.
Status check_store_root(const std::string& root, const InvokingUser& user) {
    struct stat st {};
    if (::lstat(root.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        FBX_CHECK(check_root_stat(root, st, user));
    auto fd = open_dir_nofollow(root);
    if (!fd)
        return fail(std::move(fd).error().wrap("open the fleetbox store"));
    if (::fstat(fd->get(), &st) != 0)
        return fail_errno("use the fleetbox store " + root, errno);
    FBX_CHECK(check_root_stat(root, st, user));
    return tighten_fd(fd->get(), root, kStoreDirMode, user.uid);
}

} // namespace

Result<Store> Store::open(std::optional<std::string> root) {
    // The invoking user decides who must own the store and who owns what it creates. When it
    // cannot be found (no HOME and no passwd entry, or an unknown SUDO_USER), that is the
    // current user.
    InvokingUser user = invoking_user().value_or(InvokingUser{::geteuid(), ::getegid(), {}, {}});
    return open_for(std::move(root), std::move(user));
}

Result<Store> Store::open_for(std::optional<std::string> root, InvokingUser owner) {
    std::string dir = root ? FBX_TRY(absolute_path(*root)) : FBX_TRY(resolve_store_root());
    FBX_CHECK(check_root_length(dir));
    Store store(std::move(dir), std::move(owner));
    auto open_error = [&](Error e) { return fail(std::move(e).wrap("open the fleetbox store")); };
    if (auto ok = create_root(store.root_); !ok)
        return open_error(std::move(ok).error());
    FBX_CHECK(check_store_root(store.root_, store.user_));
    for (const auto& path : {store.clusters_dir(), store.images_dir(), store.run_dir()})
        if (auto ok = ensure_store_dir(path, store.user_); !ok)
            return open_error(std::move(ok).error());
    if (auto ok = store.tighten(); !ok)
        return open_error(std::move(ok).error());
    return store;
}

// Stores made before fleetbox kept everything owner-only had 0755 directories and 0644
// files: tightened on every open (a few hundred fstatat calls for a large store). Cached
// image directories are tightened one level deep only: a leftover build directory holds a
// whole root filesystem whose modes are the guest's, not ours.
Status Store::tighten() const {
    FBX_CHECK(tighten_tree(root_, 1, user_.uid));
    FBX_CHECK(tighten_tree(clusters_dir(), 3, user_.uid));
    FBX_CHECK(tighten_tree(failed_boots_dir(), 2, user_.uid));
    FBX_CHECK(tighten_tree(run_dir(), 1, user_.uid));
    FBX_CHECK(tighten_tree(root_ + "/networks", 1, user_.uid));
    FBX_CHECK(tighten_tree(images_dir(), 1, user_.uid));
    for (const auto& entry : FBX_TRY(list_dir(images_dir())))
        if (entry == ".logs" || (!entry.empty() && entry[0] != '.'))
            FBX_CHECK(tighten_tree(images_dir() + "/" + entry, 1, user_.uid));
    return {};
}

Result<std::string> Store::networks_dir() const {
    std::string dir = root_ + "/networks";
    FBX_CHECK(ensure_store_dir(dir, user_));
    return dir;
}

Result<std::string> Store::cluster_dir(std::string_view name) const {
    FBX_CHECK(validate_vm_name(name));
    return clusters_dir() + "/" + cluster_name(name);
}

Result<std::string> Store::member_dir(std::string_view name) const {
    return FBX_TRY(cluster_dir(name)) + "/" + std::string(name);
}

Result<std::string> Store::config_path(std::string_view name) const {
    return FBX_TRY(member_dir(name)) + "/config.json";
}

Result<std::string> Store::lock_path(std::string_view name) const {
    FBX_CHECK(validate_vm_name(name));
    return locks_dir() + "/" + std::string(name) + ".lock";
}

Result<std::string> Store::member_file(std::string_view name, std::string_view file) const {
    if (file.empty() || file == "." || file == ".." || file.find('/') != std::string_view::npos ||
        file.find('\0') != std::string_view::npos)
        return fail(ErrorKind::InvalidArgument, "name a file of VM " + std::string(name),
                    "\"" + std::string(file) + "\" is not a plain file name");
    return FBX_TRY(member_dir(name)) + "/" + std::string(file);
}

std::string Store::socket_stem(std::string_view name) {
    return sha256_hex_prefix(name, 8);
}

Result<std::string> Store::run_file(std::string_view name, std::string_view suffix) const {
    FBX_CHECK(validate_vm_name(name));
    return run_dir() + "/" + socket_stem(name) + std::string(suffix);
}

Result<std::string> Store::socket_path(std::string_view name) const {
    return run_file(name, ".sock");
}
Result<std::string> Store::ctl_socket_path(std::string_view name) const {
    return run_file(name, ".ctl");
}
Result<std::string> Store::qmp_socket_path(std::string_view name) const {
    return run_file(name, ".qmp");
}

bool Store::exists(std::string_view name) const {
    auto path = config_path(name);
    return path && path_exists(*path);
}

Result<std::vector<std::string>> Store::list_members() const {
    std::vector<std::string> members;
    for (const std::string& cluster : FBX_TRY(list_dir(clusters_dir()))) {
        const std::string cdir = clusters_dir() + "/" + cluster;
        if (!is_real_directory(cdir))
            continue;
        for (std::string& member : FBX_TRY(list_dir(cdir))) {
            if (!is_valid_vm_name(member) || cluster_name(member) != cluster)
                continue;
            if (is_real_directory(cdir + "/" + member))
                members.push_back(std::move(member));
        }
    }
    return members;
}

Result<std::vector<std::string>> Store::list() const {
    std::vector<std::string> members;
    for (std::string& name : FBX_TRY(list_members())) {
        if (exists(name))
            members.push_back(std::move(name));
    }
    return members;
}

Result<std::vector<std::string>> Store::list_using_image(std::string_view image) const {
    std::vector<std::string> users;
    for (std::string& name : FBX_TRY(list())) {
        auto config = load(name);
        if (!config || config->image == image)
            users.push_back(std::move(name));
    }
    return users;
}

Result<VmConfig> Store::load(std::string_view name) const {
    const std::string path = FBX_TRY(config_path(name));
    auto config = read_config(path);
    if (!config && config.error().kind == ErrorKind::NotFound)
        return fail(ErrorKind::NotFound, "VM " + quote_name(name) + " does not exist", {},
                    "`fleetbox ls` lists the VMs");
    if (!config)
        return config;
    if (config->name != name)
        return fail(ErrorKind::Corrupt, "read config " + path,
                    "it names VM " + quote_name(config->name) + " but is stored as " +
                        quote_name(name),
                    "remove the VM with `fleetbox rm " + std::string(name) + "` or fix the file");
    return config;
}

} // namespace fleetbox
