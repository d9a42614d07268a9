// HelperLauncher: find, start and connect to fleetbox-helper; HelperHandle owns the result.
//
// Lifetimes (docs/protocol.md):
// - Bound (library): the helper is our child with --parent-pid getpid(); we bind on a
//   dedicated connection. It exits, taking its VMs, when that connection reaches EOF (this
//   process closed it or died, even by SIGKILL) or, as a backstop, when its parent changes.
//   No PR_SET_PDEATHSIG on the helper: the library runs inside arbitrary caller code, and the
//   death signal would fire when the *thread* that spawned the helper exits.
// - Detached (CLI): the helper starts in its own session (setsid) and is released after the
//   handshake; it outlives the command and exits when its last member stops (or its QEMU
//   exits), or after its idle grace with nothing running and no client (the helper's
//   --idle-exit-after; the launcher leaves the default).
//
// The helper's stdout/stderr go to <member dir>/helper.log (O_APPEND, so the helper can cap it
// by truncating in place; O_NOFOLLOW); when it dies during startup, the error quotes that
// log's last line. A helper answering with another protocol version is
// killed (it is stale: an old FLEETBOX_HELPER or an old install).
#pragma once

#include "client/helper_client.hpp"
#include "proto/helper_mode.hpp"
#include "store/store.hpp"
#include "sys/child_process.hpp"
#include "sys/file_lock.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fleetbox::client {

using proto::HelperMode;

struct LaunchOptions {
    std::chrono::milliseconds startup_timeout{10000}; // until the socket answers
    std::chrono::milliseconds exit_timeout{10000}; // bound: close() waits this long, then SIGKILL
    std::vector<std::string> extra_args; // appended to the helper's command line (a --user here
                                         // replaces the store owner's)
    HelperClientOptions remote;
};

class HelperHandle {
public:
    HelperHandle(HelperHandle&&) noexcept = default;
    HelperHandle& operator=(HelperHandle&&) noexcept;
    HelperHandle(const HelperHandle&) = delete;
    HelperHandle& operator=(const HelperHandle&) = delete;
    ~HelperHandle(); // close(), ignoring its result

    [[nodiscard]] HelperClient& client() { return *client_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] HelperMode mode() const { return mode_; }
    [[nodiscard]] const std::string& log_path() const { return log_path_; }

    // Bound: drop every connection (the helper stops its VMs and exits), wait up to
    // exit_timeout for it, then SIGKILL it; returns how it ended. Detached: drop the
    // connections only (the helper keeps running); returns a default ExitStatus.
    // Idempotent: later calls return the first result.
    Result<ExitStatus> close();
    // Bound: tell the helper to turn detached (HelperClient::detach) and stop owning it, so it
    // outlives this process and close() neither waits for it nor kills it; the handle is
    // detached from then on. Detached: nothing to do. Errors: the helper's (InvalidArgument
    // for one without the detach capability), Network/Io when it cannot be reached.
    Status keep();
    // Bound: wait for the helper to exit by itself (e.g. after SIGTERM). Timeout -> Timeout.
    Result<ExitStatus> wait(std::optional<std::chrono::milliseconds> timeout);

private:
    friend class HelperLauncher;
    HelperHandle(HelperMode mode, pid_t pid, std::unique_ptr<HelperClient> client,
                 std::optional<ChildProcess> child, std::string log_path,
                 std::chrono::milliseconds exit_timeout)
        : mode_(mode), pid_(pid), client_(std::move(client)), child_(std::move(child)),
          log_path_(std::move(log_path)), exit_timeout_(exit_timeout) {}

    HelperMode mode_;
    pid_t pid_;
    std::unique_ptr<HelperClient> client_;
    std::optional<ChildProcess> child_; // bound only
    std::string log_path_;
    std::chrono::milliseconds exit_timeout_;
    std::optional<Result<ExitStatus>> closed_;
};

// The helper's `--user UID:GID` arguments: the invoking user (the store's owner), whose uid
// and gid the helper drops to, keeping only CAP_NET_ADMIN (DESIGN, privilege model).
std::vector<std::string> helper_user_args(const InvokingUser& user);

class HelperLauncher {
public:
    // FLEETBOX_HELPER when set (it must be executable), else fleetbox-helper next to the
    // running executable, else ../libexec/fleetbox/fleetbox-helper from the directory of the
    // shared libfleetbox this code runs in (an installed, possibly relocated prefix), else
    // the configured <libexecdir>/fleetbox/fleetbox-helper. MissingDependency
    // naming every place it looked when none is there. A root client (real, effective or
    // saved uid 0) honors FLEETBOX_HELPER only for a binary owned by root and not writable by
    // group/others, in directories root owns (it then returns the binary's real path);
    // otherwise one warning line on stderr, and the usual places are searched.
    static Result<std::string> locate();
    static Result<HelperLauncher> create(LaunchOptions options = {});
    explicit HelperLauncher(std::string helper_path, LaunchOptions options = {})
        : helper_path_(std::move(helper_path)), options_(std::move(options)) {}

    // Starts a helper for `member` of `store` and connects to it (bound: also binds).
    Result<HelperHandle> spawn(const Store& store, const std::string& member,
                               HelperMode mode) const;
    // One helper per cluster (connect-or-spawn, under the cluster's lock): a detached request
    // joins the live detached helper that serves any of `siblings` (so the new
    // member gets an address on the same network as its siblings), else spawns one. Members
    // running under two helpers, or a sibling in another program's bound helper, is one clear
    // error (the new member could reach neither network). A bound request always spawns its
    // own helper (its VMs live and die with this process). join_only (add_member): never
    // spawn; no live sibling is an error. The
    // lock is returned with the handle: hold it until the new member is reserved on the
    // helper, so two concurrent `up`s of one cluster never start two helpers.
    struct ClusterHelper {
        HelperHandle handle;
        std::optional<FileLock> lock; // the cluster's: reset() it once the member is reserved
        bool joined = false;          // the helper was already running (its other members keep it)
    };
    Result<ClusterHelper> join_or_spawn(const Store& store, const std::string& member,
                                        HelperMode mode, const std::string& cluster,
                                        const std::vector<std::string>& siblings,
                                        bool join_only = false) const;
    // Connects to the helper already serving `member`. One that speaks another protocol
    // version is left alone (it may hold running VMs): the mismatch error is returned, with
    // its pid in the hint.
    Result<std::unique_ptr<HelperClient>> attach(const Store& store,
                                                 const std::string& member) const;

    [[nodiscard]] const std::string& helper_path() const { return helper_path_; }

private:
    Result<std::unique_ptr<HelperClient>>
    connect_to_child(const Store& store, const std::string& member, ChildProcess& child,
                     const std::string& log_path, const HelperClientOptions& remote) const;

    std::string helper_path_;
    LaunchOptions options_;
};

} // namespace fleetbox::client
