// Network: one bridge with its subnet, gateway address, per-bridge forwarding, firewall
// table and the taps of its VMs; the helper process holds one per network it serves.
//
// Why a plan/create split: fleetbox must survive a crash between "decided on a bridge name"
// and "kernel objects exist" (write-ahead records, reconcile). plan() picks the subnet and
// the random names without touching the kernel, the caller may persist them, and
// create(plan) then builds exactly that; add_tap_named() does the same for taps. Creation is
// all-or-nothing: a failed step tears down what this call made (never an interface that
// existed before: an existing bridge name is an AlreadyExists error and is left alone).
// destroy() removes taps, firewall table and bridge; missing pieces count as removed, so it
// is idempotent and safe to run on a half-built network. The destructor calls it
// best-effort. teardown_network() is the same teardown from names alone, for reconcile.
#pragma once

#include "net/address_pool.hpp"
#include "net/ipv4.hpp"
#include "util/error.hpp"

#include <set>
#include <string>
#include <vector>

namespace fleetbox {

struct NetworkPlan {
    std::string bridge; // "fbx-<8 hex>"
    Subnet subnet;
};

class Network {
public:
    // Pick a free subnet (not in taken_subnets, overlapping no address of this namespace)
    // and a fresh bridge name. No kernel change.
    static Result<NetworkPlan> plan(const std::set<std::string>& taken_subnets);
    // Build the planned network: bridge, gateway .1/prefix, link up, forwarding on the
    // bridge, firewall table. EPERM: Permission error "create bridge fbx-...: Operation not
    // permitted" with the sudo hint.
    static Result<Network> create(const NetworkPlan& plan);
    // plan() + create().
    static Result<Network> create(const std::set<std::string>& taken_subnets);

    Network(Network&& other) noexcept;
    Network& operator=(Network&& other) noexcept;
    Network(const Network&) = delete;
    Network& operator=(const Network&) = delete;
    ~Network(); // destroy(), errors ignored

    // New persistent tap "fbt-<8 hex>", enslaved to the bridge and up; returns its name.
    Result<std::string> add_tap();
    // Same with a caller-chosen (e.g. already recorded) name; must be "fbt-<8 hex>".
    Status add_tap_named(const std::string& name);
    // Delete one of this network's taps; a tap it does not hold is success (no-op).
    Status remove_tap(const std::string& name);
    // Remove taps, firewall table and bridge. Idempotent; on error the network stays
    // live so a later call can retry.
    Status destroy();

    [[nodiscard]] const std::string& bridge() const { return plan_.bridge; }
    [[nodiscard]] const Subnet& subnet() const { return plan_.subnet; }
    [[nodiscard]] const std::vector<std::string>& taps() const { return taps_; }
    [[nodiscard]] AddressPool& addresses() { return pool_; }
    [[nodiscard]] const AddressPool& addresses() const { return pool_; }
    [[nodiscard]] bool live() const { return live_; }

private:
    explicit Network(NetworkPlan plan);
    Status configure();

    NetworkPlan plan_;
    std::vector<std::string> taps_;
    AddressPool pool_;
    bool live_ = false;
};

// Delete the taps, the firewall table and the bridge (each missing one is fine). Every
// step is attempted; the first error is returned. Only fbx-/fbt- names are accepted.
Status teardown_network(const std::string& bridge, const std::vector<std::string>& taps);

} // namespace fleetbox
