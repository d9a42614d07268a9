// Store: the VMs, images and key fleetbox keeps on disk, as plain files under one root.
//
//   <root>/clusters/<cluster>/<member>/  config.json, disk, seed, serial.log, pid, ...
//   <root>/locks/<member>.lock           member locks (never deleted, see lock_member)
//   <root>/images/                       image cache
//   <root>/run/<hash>.sock|.ctl|.qmp     unix sockets (mode 0700 directory)
//   <root>/networks/                     write-ahead records of host networks (made on use)
//   <root>/failed/<name>/                logs of the last failed first boot of a removed VM
//   <root>/id_ed25519[.pub]              the SSH key
//
// Why these rules:
// - A member exists when its config.json exists; config.json is written create-only
//   (write_file_exclusive), so of two racing `up web-1` exactly one creates the VM.
// - Every call that takes a VM name validates it before touching the filesystem, so a name
//   like "../x" can never address a path outside clusters/.
// - remove() deletes only the member directory: it never follows a symlink (a symlinked
//   member directory is unlinked, not emptied; a symlinked cluster directory is refused) and
//   never crosses into another filesystem. It unlinks a member's socket in run/ only when a
//   connect(2) to it is refused (nobody listens): a live helper's socket is never removed.
// - A member's lock file lives outside its directory and is never deleted: a process waiting
//   on it must get the same file the holder locked, or two processes could "hold" one
//   member's lock at once (one on the deleted file, one on a new one).
// - Unix socket paths are limited to 107 bytes (sun_path is 108 with the NUL). Sockets live in
//   run/ under a 16-hex-digit hash of the name, so their length depends only on the root;
//   open() refuses a root longer than kMaxStoreRootLength with a hint, rather than letting
//   every later bind(2) fail with a confusing error. (A fallback through /proc/self/fd or
//   chdir would need every socket user to know about it; a shorter FLEETBOX_HOME is simpler.)
// - The store belongs to one user, the invoking user (sys/user.hpp), and only that user may
//   write to it: open() refuses a root that is a symlink, belongs to another uid, or is
//   writable by group or others, with one line saying what to do. Every directory is 0700
//   and every file 0600 (guest disks, seeds with host keys, SSH keys); an older store is
//   tightened when it is opened. The CLI runs as that user (it drops root under sudo), so
//   what it creates is the user's; a library caller that stays root under sudo still hands
//   what it creates to the invoking user.
#pragma once

#include "store/config.hpp"
#include "sys/file_lock.hpp"
#include "sys/user.hpp"
#include "util/error.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox {

// sun_path holds 108 bytes including the terminating NUL.
inline constexpr std::size_t kMaxSocketPathLength = 107;
// "<root>/run/" + 16 hex digits + ".sock" must fit: 107 - 5 - 16 - 5.
inline constexpr std::size_t kMaxStoreRootLength = 81;

class Store {
public:
    // The store at `root` (default: resolve_store_root()) of the invoking user, creating
    // <root>, clusters/, images/ and run/ (all 0700) when missing and tightening the modes of
    // an older store. InvalidArgument when the root is too long for socket paths; Permission
    // when the root is a symlink, belongs to another uid or is writable by group/others.
    static Result<Store> open(std::optional<std::string> root = std::nullopt);
    // Same, for a store that must belong to `owner` (a helper told whose store it serves).
    static Result<Store> open_for(std::optional<std::string> root, InvokingUser owner);

    [[nodiscard]] const std::string& root() const { return root_; }
    // Whose store this is (checked when it was opened).
    [[nodiscard]] const InvokingUser& owner() const { return user_; }
    [[nodiscard]] std::string clusters_dir() const { return root_ + "/clusters"; }
    [[nodiscard]] std::string images_dir() const { return root_ + "/images"; }
    [[nodiscard]] std::string run_dir() const { return root_ + "/run"; }
    [[nodiscard]] std::string key_path() const { return root_ + "/id_ed25519"; }
    [[nodiscard]] std::string public_key_path() const { return key_path() + ".pub"; }
    // <root>/networks, created (0700) on first use.
    Result<std::string> networks_dir() const;
    [[nodiscard]] std::string failed_boots_dir() const { return root_ + "/failed"; }
    // <root>/locks: member locks, created (0700) on first use, never deleted.
    [[nodiscard]] std::string locks_dir() const { return root_ + "/locks"; }

    // Paths of one member. Each validates the name (InvalidArgument) and touches nothing.
    Result<std::string> cluster_dir(std::string_view name) const; // clusters/<cluster>
    Result<std::string> member_dir(std::string_view name) const;  // clusters/<cluster>/<name>
    Result<std::string> config_path(std::string_view name) const; // <member>/config.json
    Result<std::string> lock_path(std::string_view name) const;   // locks/<name>.lock
    // <member>/<file>; `file` must be one plain file name (no '/', not "." or "..").
    Result<std::string> member_file(std::string_view name, std::string_view file) const;
    Result<std::string> socket_path(std::string_view name) const;     // run/<hash>.sock
    Result<std::string> ctl_socket_path(std::string_view name) const; // run/<hash>.ctl
    Result<std::string> qmp_socket_path(std::string_view name) const; // run/<hash>.qmp
    // The 16 hex digits of sha256(name) that name the sockets.
    [[nodiscard]] static std::string socket_stem(std::string_view name);

    // True when the member's config.json exists (false for an invalid name).
    [[nodiscard]] bool exists(std::string_view name) const;
    // Members with a config.json, by cluster directory then member name (byte order).
    Result<std::vector<std::string>> list() const;
    // Every member directory, with or without a config.json (what `ls -q` shows), same order.
    // Only entries that are real directories with valid names in their own cluster count.
    Result<std::vector<std::string>> list_members() const;

    // VMs whose config names `image` (their disks are overlays on it). A VM whose config
    // cannot be read is counted too: its disk may well be one.
    Result<std::vector<std::string>> list_using_image(std::string_view image) const;

    // NotFound `VM "x" does not exist`; Corrupt naming the file when it cannot be read.
    Result<VmConfig> load(std::string_view name) const;
    // Creates the member directory and writes config.json (0600). AlreadyExists when the VM
    // exists; InvalidArgument for a bad name or field. On failure, removes only the
    // directories it created.
    Status create(const VmConfig& config) const;
    // Deletes the member directory, its stale run/ sockets (those nobody listens on), and the
    // cluster directory when it is left empty. A missing member is success. Call it only once
    // the member is known to be down (client: ensure_member_down), holding its lock.
    Status remove(std::string_view name) const;
    // Makes clusters/<cluster>/<name>/ (for a member that is being set up); returns it.
    Result<std::string> ensure_member_dir(std::string_view name) const;

    // failed/<name>: where the logs of a new VM whose first boot failed outlive its removal.
    Result<std::string> failed_boot_dir(std::string_view name) const;
    // Moves those of `files` (plain names in the member directory) that exist into
    // failed/<name>/, replacing an earlier set as a whole; returns that directory, or "" when
    // none could be moved. Call before remove().
    Result<std::string> keep_failed_boot_logs(std::string_view name,
                                              const std::vector<std::string>& files) const;
    // Names with a failed/<name>/ directory, in byte order.
    Result<std::vector<std::string>> list_failed_boots() const;
    // Deletes failed/<name>/ (a missing one is success).
    Status forget_failed_boot(std::string_view name) const;

    // Exclusive flock on locks/<name>.lock (0600, never through a symlink; it can be taken
    // before the VM exists and outlives its removal). Busy `VM "x" is in use by another
    // fleetbox process` when held elsewhere; released when the FileLock is dropped.
    Result<FileLock> lock_member(std::string_view name) const;
    // Same, waiting up to `timeout` (ErrorKind::Timeout with the same message).
    Result<FileLock> lock_member_wait(std::string_view name,
                                      std::chrono::milliseconds timeout) const;

private:
    Store(std::string root, InvokingUser user) : root_(std::move(root)), user_(std::move(user)) {}
    Result<std::string> run_file(std::string_view name, std::string_view suffix) const;
    Status tighten() const;

    std::string root_;
    InvokingUser user_; // whose store this is (root and mode checked at open)
};

} // namespace fleetbox
