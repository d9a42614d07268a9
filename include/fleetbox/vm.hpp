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
    // the command exits, or `timeout` (then Timeout; the VM stays usable). Errors: Timeout,
    // Network (connect or connection lost), Permission (host key mismatch), Interrupted.
    Result<ExecResult> ssh(const std::string& command,
                           std::optional<std::chrono::milliseconds> timeout = std::nullopt);
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
