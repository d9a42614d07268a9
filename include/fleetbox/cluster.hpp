// fleetbox::Cluster: several VMs on one network, served by one helper.
//
// Why a type of its own: members of one cluster share a bridge, a subnet and /etc/hosts
// entries, and are booted (and torn down) together, all or nothing.
#pragma once

#include <fleetbox/error.hpp>
#include <fleetbox/export.hpp>
#include <fleetbox/options.hpp>
#include <fleetbox/vm.hpp>
#include <memory>
#include <string>
#include <vector>

namespace fleetbox {

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
// Move-only; owns the helper and the members' handles (the Vm* it returns are views, valid
// until close()). Not for concurrent use from several threads.
class FLEETBOX_API Cluster {
public:
    class Impl; // internal: clusters come from new_cluster() and start_cluster()
    explicit Cluster(std::unique_ptr<Impl> impl);
    Cluster(Cluster&&) noexcept;
    Cluster& operator=(Cluster&&) noexcept;
    ~Cluster(); // close(), errors ignored

    // The cluster's name (recorded in each member's config.json; `fleetbox ls` shows it).
    // No I/O.
    [[nodiscard]] const std::string& name() const;
    // Boot `name` (created, or booted from its disk) onto the cluster's network; the first
    // add of an empty cluster starts the helper. The pointer stays valid until close().
    // Blocks and fails like fleetbox::start().
    Result<Vm*> add(const std::string& name, const Options& options = {});
    // Members in the order they were added. No I/O.
    [[nodiscard]] std::vector<Vm*> vms() const;
    // The member called `name`, or nullptr. No I/O.
    [[nodiscard]] Vm* vm(const std::string& name) const;
    // Stop every member (not the kept ones, after keep()) and remove the network; disks are
    // kept. Idempotent. Blocks until the helper exited (up to ~10 s, then it is killed).
    // Errors: Timeout (the helper had to be killed), wrapped "close cluster <name>".
    Status close();
    // close(), then delete every member's directory (disk, seed, config). Blocks like
    // close() plus each member's stop; errors: the first member's that failed (Busy, Io).
    Status destroy();
    // Make every member outlive this process (Vm::keep() for all): close(), the Cluster object
    // going away, or the process exiting (even by SIGKILL) leave them running on their
    // network until `fleetbox down` (destroy() still stops and deletes them). Blocks for one
    // request to the helper. Errors: InvalidArgument (nothing running, or an older helper without
    // the `detach` capability), Network/Io.
    Status keep();

private:
    std::unique_ptr<Impl> impl_;
};

// An empty cluster named `name` (nothing runs until the first add()). Does not block.
// Errors: InvalidArgument (a bad name), the store's (Permission, Io).
FLEETBOX_API Result<Cluster> new_cluster(const std::string& name, const Options& options = {});
// Start `names` as one cluster, in parallel on one helper, all or nothing: when a member
// fails, the members this call created are destroyed, members that existed are only stopped
// (their disks kept), and members that were already running are left alone. Every member's
// boot shares one deadline (options.boot_timeout), and the first failure stops the others.
// Blocks until every member answers SSH. Errors as fleetbox::start(); InvalidArgument for an
// empty list.
FLEETBOX_API Result<Cluster> start_cluster(const std::vector<std::string>& names,
                                           const Options& options = {});
// prefix-1 .. prefix-n (n >= 1, else InvalidArgument); otherwise as above.
FLEETBOX_API Result<Cluster> start_cluster(const std::string& prefix, int n,
                                           const Options& options = {});

} // namespace fleetbox
