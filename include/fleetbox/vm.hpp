// fleetbox::Vm: one running VM, and fleetbox::start, which makes one.
//
//   auto vm = fleetbox::start("web", {});           // create + boot, or reuse
//   auto r  = vm->ssh("uname -a");                   // {exit_code, out, err}
//   vm->destroy();                                   // stop and delete its disk
//
// start() is idempotent: a missing VM is created and booted; a stopped one is booted from
// its stored config (options are then ignored, with a note); a running one is returned as
// is. The VM lives as long as the calling process: its helper is *bound*, so when the
// process exits (or is killed, even by SIGKILL) the VM stops and its network is removed.
// Disks persist until destroy().
#pragma once

#include <chrono>
#include <fleetbox/error.hpp>
#include <fleetbox/export.hpp>
#include <fleetbox/options.hpp>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace fleetbox {

// A handle on one VM. Move-only; owns the VM's helper when it booted the VM (then the VM
// stops when the handle goes away or the process exits), otherwise only a connection to the
// helper that serves it. Not for concurrent use from several threads.
class FLEETBOX_API Vm {
public:
    class Impl; // internal: handles come from start(), add_member() or a Cluster
    explicit Vm(std::unique_ptr<Impl> impl);
    Vm(Vm&&) noexcept;
    Vm& operator=(Vm&&) noexcept;
    // A VM this handle booted (bound helper) stops when the handle goes away (QEMU quit at
    // once, network removed; the disk stays), unless keep() was called. Blocks up to ~10 s
    // for the helper to exit; never fails (errors are ignored).
    ~Vm();

    // Set at start, never change; no I/O.
    [[nodiscard]] const std::string& name() const;
    [[nodiscard]] const std::string& ip() const;
    // "running", "starting", "stopped" or "error", asked of the helper now (one request,
    // bounded by 30 s). A helper that cannot be reached reads "stopped"; never fails.
    [[nodiscard]] std::string state() const;
    // Per-phase timings of the boot that produced this handle (empty when it attached to a
    // VM that was already running). No I/O; the reference lives as long as the handle.
    [[nodiscard]] const std::vector<PhaseTiming>& timings() const;
    // The guest's own boot phases from its console markers, in guest seconds: "kernel",
    // "initramfs", "userspace to sshd" (empty when the image prints no markers). No I/O.
    [[nodiscard]] const std::vector<PhaseTiming>& guest_timings() const;

    // Runs `command` through the guest's shell as user fleetbox over one reused SSH
    // connection (host key pinned). A non-zero exit is a result, not an error. Blocks until
    // the command ends (or `timeout`). Same as ssh(command, ExecOptions{timeout}).
    Result<ExecResult> ssh(const std::string& command,
                           std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    // The same with ExecOptions: stdin input, root, a timeout and a cancellation token. The
    // command runs in its own process group in the guest; a timeout or cancellation kills
    // that whole group (children included) and returns once it is gone (a bounded wait of a
    // few seconds more; processes that left the group on purpose, e.g. via setsid, survive).
    // The handle stays usable. `options` is only read during the call (the stop_token may
    // be triggered from any thread). Calls from several threads on one Vm run one at a time.
    // Errors: Timeout, Interrupted (cancel or Ctrl-C), Network (the connection could not be
    // made or broke), Permission/NotFound (login or host key refused).
    Result<ExecResult> ssh(const std::string& command, const ExecOptions& options);

    // Readiness waits. Each checks at once, then polls (pauses of 100 ms growing to 1 s)
    // until the condition holds, blocking for about `timeout` at most (a check running at
    // the deadline is stopped first); the overloads taking a stop_token also end when stop is
    // requested from any thread (Interrupted, within ~200 ms). Errors: InvalidArgument (bad
    // input; nothing is sent to the guest), Timeout (one line: what was waited for, how
    // long, the last observation), Interrupted, and errors waiting cannot fix (e.g.
    // Permission). Checks that cannot reach the VM (Network) count as "not yet".
    //
    // wait_for_port: a TCP connect from this host to ip():port succeeds (port 1..65535).
    Status wait_for_port(int port, std::chrono::milliseconds timeout = std::chrono::minutes(2));
    Status wait_for_port(int port, std::chrono::milliseconds timeout, std::stop_token cancel);
    // wait_for_file: `guest_path` (absolute) exists in the guest (checked as root).
    Status wait_for_file(const std::string& guest_path,
                         std::chrono::milliseconds timeout = std::chrono::minutes(2));
    Status wait_for_file(const std::string& guest_path, std::chrono::milliseconds timeout,
                         std::stop_token cancel);
    // wait_for_unit: `systemctl is-active` says "active" (a name without a suffix means
    // .service). A unit that is "failed" ends the wait at once: ExternalCommand, quoting the
    // state and the unit's last journal lines.
    Status wait_for_unit(const std::string& unit,
                         std::chrono::milliseconds timeout = std::chrono::minutes(2));
    Status wait_for_unit(const std::string& unit, std::chrono::milliseconds timeout,
                         std::stop_token cancel);
    // wait_until: `command` (run as by ssh(), killed at the deadline) exits 0.
    Status wait_until(const std::string& command,
                      std::chrono::milliseconds timeout = std::chrono::minutes(2));
    Status wait_until(const std::string& command, std::chrono::milliseconds timeout,
                      std::stop_token cancel);

    // Copies host file, symlink or directory tree `host_path` to exactly `guest_path` (absolute)
    // as one tar stream over the VM's SSH connection; blocks until done (CopyOptions::timeout,
    // cancel). Missing guest parents are created; modes, modification times and symlinks are
    // kept, ownership is not (files belong to the login user, or root with as_root); hard
    // links arrive as separate files; sockets are skipped; device nodes are refused. The
    // guest extracts next to the destination and renames into place only once complete: an
    // existing file is replaced, an existing directory is replaced by a directory, and a
    // failure (disk full included) leaves nothing under the destination's name.
    // Errors (wrapped "copy to <vm>: ..."): InvalidArgument (guest path not absolute, a device
    // node), NotFound (no host source; no guest parent when it cannot be made), NoSpace,
    // Permission ("guest tar: ..." from the guest), ExternalCommand (any other guest tar
    // failure), Network, Timeout, Interrupted.
    Status copy_to(const std::string& host_path, const std::string& guest_path,
                   const CopyOptions& options = {});
    // Copies guest `guest_path` (absolute) to exactly host `host_path`, with the same rules
    // (host parents created; a temporary directory next to the destination, renamed into
    // place on success, removed on any failure). The guest's stream is not trusted: absolute
    // names, "..", members outside the one requested path, symlinks leading outside the
    // destination, members below a symlink, and device nodes are refused (Corrupt "unsafe tar
    // entry ...") and nothing is ever written outside the destination; setuid/setgid bits are
    // dropped. Blocks until done. Errors (wrapped "copy from <vm>: ..."): as copy_to, plus
    // Corrupt, and the host's own Io/NoSpace/Permission.
    Status copy_from(const std::string& guest_path, const std::string& host_path,
                     const CopyOptions& options = {});
    // Graceful shutdown (ACPI powerdown, then QMP quit, SIGTERM, SIGKILL); the disk is kept.
    // Blocks until QEMU is gone (up to ~2 minutes under TCG). The handle then holds no
    // helper. Errors: the helper's (Timeout, Network, Io), wrapped "stop <name>".
    Status stop();
    // stop(), then delete the VM's directory (disk, seed, config). Idempotent. Blocks like
    // stop(), plus up to 30 s for the VM's lock. Errors: Busy (locked by another process),
    // Io, and stop()'s.
    Status destroy();

    // ---- diagnostics and lifetime (issue 10) ----
    // The guest's serial console so far (kernel, systemd, cloud-init output), read from the
    // VM's directory in the store: the helper's rotated serial.log.1 first when present, then
    // serial.log; at most the last 1 MiB. The bytes are the guest's (untrusted: they may hold
    // escape sequences). Does not block beyond reading two local files; works for a stopped
    // VM too. Errors: Io (unreadable file), Permission (a log that is a symbolic link).
    [[nodiscard]] Result<std::string> serial_log() const;
    // The command a person runs to reach this VM by hand, as argv:
    //   ssh -i <store>/id_ed25519 -o UserKnownHostsFile=<vm dir>/known_hosts
    //       -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes fleetbox@<ip>
    // (the VM's pinned host key, never "accept anything"). Pure: no I/O, never fails.
    [[nodiscard]] std::vector<std::string> ssh_command() const;
    // ssh_command() as one line for a shell, words quoted where needed.
    [[nodiscard]] std::string ssh_command_line() const;
    // Make the VM outlive this process: the helper serving it turns detached, so neither this
    // handle going away nor the process exiting (even by SIGKILL) stops it any more. It runs
    // until `fleetbox down NAME` (or destroy()/stop() on a handle), and `fleetbox ls/ssh/down`
    // reach it as usual (from the network namespace it was started in). For a member of a
    // Cluster this keeps the cluster's helper; closing that Cluster then stops only the
    // members that were not kept. Blocks for one request to the helper (milliseconds).
    // Errors: InvalidArgument (not running, or its helper is bound to another program, or an
    // older helper without the `detach` capability), Network/Io (the helper cannot be reached).
    Status keep();

private:
    std::unique_ptr<Impl> impl_;
};

// Blocks until the VM answers SSH (options.boot_timeout; building the image on first use adds
// minutes). The returned handle owns the VM when this call booted it. Errors:
// InvalidArgument (name, options), MissingDependency / Permission (no QEMU, not root),
// Busy (starting in another process), Timeout (no SSH in time), ExternalCommand (QEMU or
// the helper failed: the message names the log), NoSpace, Corrupt (a damaged store entry),
// Interrupted. A failed first boot leaves only its logs (store failed/<name>/).
FLEETBOX_API Result<Vm> start(const std::string& name, const Options& options = {});

// Boot `name` onto the live helper already serving `sibling` (e.g. a cluster started by
// `fleetbox up`): a stopped node re-joins its running siblings' network instead of getting
// an isolated one. The member then belongs to that helper and outlives this handle. Blocks
// like start(); errors as start(), plus InvalidArgument when `sibling` is not running or
// runs in a helper bound to another program.
FLEETBOX_API Result<Vm> add_member(const std::string& sibling, const std::string& name,
                                   const Options& options = {});

} // namespace fleetbox
