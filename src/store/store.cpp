// Store: opening the root, path derivation and read-only queries (exists, list, load).
// Creation, removal and locking are in store_members.cpp.
//
// Listing uses lstat(2) so a symlink placed in clusters/ is never listed as a member: the
// store only reports what it would also be willing to delete.
#include "store/store.hpp"

#include "store/dirs.hpp"
#include "store/names.hpp"
#include "store/paths.hpp"
#include "sys/fs.hpp"
#include "sys/sha256.hpp"

#include <sys/stat.h>
#include <utility>

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

} // namespace

Result<Store> Store::open(std::optional<std::string> root) {
    std::string dir = root ? FBX_TRY(absolute_path(*root)) : FBX_TRY(resolve_store_root());
    FBX_CHECK(check_root_length(dir));
    // The invoking user only decides who owns what the store creates. When it cannot be
    // found (no HOME and no passwd entry, or an unknown SUDO_USER), files stay with the
    // current user rather than making the store unusable.
    InvokingUser user = invoking_user().value_or(InvokingUser{});
    Store store(std::move(dir), std::move(user));
    auto open_error = [&](Error e) { return std::move(e).wrap("open the fleetbox store"); };
    const std::pair<std::string, mode_t> dirs[] = {{store.root_, 0755},
                                                   {store.clusters_dir(), 0755},
                                                   {store.images_dir(), 0755},
                                                   {store.run_dir(), 0700}};
    for (const auto& [path, mode] : dirs) {
        auto made = ensure_owned_dir(path, mode, store.user_);
        if (!made)
            return fail(open_error(std::move(made).error()));
    }
    return store;
}

Result<std::string> Store::networks_dir() const {
    std::string dir = root_ + "/networks";
    FBX_CHECK(ensure_owned_dir(dir, 0755, user_));
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
