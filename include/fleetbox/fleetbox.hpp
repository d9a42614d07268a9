// fleetbox: real Linux VMs as test fixtures.
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
//
// Every call returns fleetbox::Result: either the value or an Error whose message() is one
// line saying what failed and why, and whose hint says what to do.
#pragma once

#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fleetbox {

struct Options {
    std::string image = "debian-12";
    int cpus = 2;
    std::uint64_t memory_mb = 2048;
    std::uint64_t disk_mb = 20 * 1024; // thin: only written blocks use host space
    // How the guest gets its identity (name, address, keys): "fleetbox-seed" (the fast path
    // of images fleetbox builds: no cloud-init at boot), "nocloud" (cloud-init reads a NoCloud
    // seed), or empty: the image's preferred method. Chosen at create, kept for the VM's life.
    std::string provisioning;
    // Until SSH answers. 0 = automatic: 10 minutes under TCG, 3 under KVM.
    std::chrono::seconds boot_timeout{0};
    // Store root; default FLEETBOX_HOME, else ~/.fleetbox (the invoking user's under sudo).
    std::optional<std::string> store_root;
    // Progress lines (image build, boot phases) and notes go here; default: nothing.
    std::function<void(const std::string&)> log;
};

struct ExecResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

struct PhaseTiming {
    std::string phase;
    double seconds = 0;
};

class Vm {
public:
    class Impl;
    explicit Vm(std::unique_ptr<Impl> impl);
    Vm(Vm&&) noexcept;
    Vm& operator=(Vm&&) noexcept;
    ~Vm(); // a VM this handle booted (bound helper) stops when the handle goes away

    [[nodiscard]] const std::string& name() const;
    [[nodiscard]] const std::string& ip() const;
    // "running", "starting", "stopped" or "error", asked of the helper now.
    [[nodiscard]] std::string state() const;
    // Per-phase timings of the boot that produced this handle (empty when it attached to a
    // VM that was already running).
    [[nodiscard]] const std::vector<PhaseTiming>& timings() const;
    // The guest's own boot phases from its console markers, in guest seconds: "kernel",
    // "initramfs", "userspace to sshd" (empty when the image prints no markers).
    [[nodiscard]] const std::vector<PhaseTiming>& guest_timings() const;

    // Runs `command` through the guest's shell as user fleetbox over one reused SSH
    // connection (host key pinned). A non-zero exit is a result, not an error.
    Result<ExecResult> ssh(const std::string& command,
                           std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    // Graceful shutdown (ACPI powerdown, then escalation); the disk is kept.
    Status stop();
    // stop(), then delete the VM's directory (disk, seed, config). Idempotent.
    Status destroy();

private:
    std::unique_ptr<Impl> impl_;
};

Result<Vm> start(const std::string& name, const Options& options = {});

// A cluster: VMs on one network served by one helper, each reaching every other member by IP
// and by name (/etc/hosts kept current by fleetbox), the host, and the host's uplink.
//
//   auto web = fleetbox::start_cluster("web", 3);    // web-1..web-3, booted in parallel
//   auto r = web->vm("web-1")->ssh("ping -c1 web-3");
//   web->add("web-4");                               // joins the running network
//
// The helper is bound to the calling process, like start()'s: when the Cluster is closed or
// destroyed, or the process exits (even by SIGKILL), its members stop and its network
// (bridge, taps, firewall table) is removed. Disks persist until destroy().
class Cluster {
public:
    class Impl;
    explicit Cluster(std::unique_ptr<Impl> impl);
    Cluster(Cluster&&) noexcept;
    Cluster& operator=(Cluster&&) noexcept;
    ~Cluster(); // close(), errors ignored

    // The cluster's name (recorded in each member's config.json; `fleetbox ls` shows it).
    [[nodiscard]] const std::string& name() const;
    // Boot `name` (created, or booted from its disk) onto the cluster's network; the first
    // add of an empty cluster starts the helper. The pointer stays valid until close().
    Result<Vm*> add(const std::string& name, const Options& options = {});
    // Members in the order they were added.
    [[nodiscard]] std::vector<Vm*> vms() const;
    // The member called `name`, or nullptr.
    [[nodiscard]] Vm* vm(const std::string& name) const;
    // Stop every member and remove the network; disks are kept. Idempotent.
    Status close();
    // close(), then delete every member's directory (disk, seed, config).
    Status destroy();

private:
    std::unique_ptr<Impl> impl_;
};

// An empty cluster named `name` (nothing runs until the first add()).
Result<Cluster> new_cluster(const std::string& name, const Options& options = {});
// Start `names` as one cluster, in parallel on one helper, all or nothing: when a member
// fails, the members this call created are destroyed, members that existed are only stopped
// (their disks kept), and members that were already running are left alone. Every member's
// boot shares one deadline (options.boot_timeout), and the first failure stops the others.
Result<Cluster> start_cluster(const std::vector<std::string>& names, const Options& options = {});
// prefix-1 .. prefix-n.
Result<Cluster> start_cluster(const std::string& prefix, int n, const Options& options = {});
// What prune() reclaimed (or, dry run, would reclaim): networks whose owner died without
// tearing them down (SIGKILL, power loss), the QEMUs still on their taps, and the uplink's
// forwarding flag once no fleetbox network is left.
struct PrunedNetwork {
    std::string bridge; // "fbx-1a2b3c4d"
    std::string subnet;
    std::string cluster;
    int owner_pid = 0;                 // the dead owner
    std::vector<std::string> taps;     // deleted
    std::vector<int> killed_qemu_pids; // SIGKILLed (pid and start time matched the record)
    bool removed = false;              // everything verified gone, record deleted
    std::vector<std::string> errors;   // why it was kept
};
struct PruneReport {
    bool dry_run = false;
    std::vector<PrunedNetwork> reclaimed;
    std::vector<std::string> live;                // bridges of running owners, left alone
    std::vector<std::string> forwarding_restored; // "eth0=0": interface=value written back
    std::vector<std::string> errors;
};
// Reclaim what crashed fleetbox processes left on the host (needs root: it runs the helper's
// reconcile). Live networks, e.g. of another process booting right now, are never touched.
Result<PruneReport> prune(bool dry_run = false,
                          std::optional<std::string> store_root = std::nullopt);

// Boot `name` onto the live helper already serving `sibling` (e.g. a cluster started by
// `fleetbox up`): a stopped node re-joins its running siblings' network instead of getting
// an isolated one. The member then belongs to that helper and outlives this handle.
Result<Vm> add_member(const std::string& sibling, const std::string& name,
                      const Options& options = {});

} // namespace fleetbox
