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
//
// Journal: create(plan, journal) tells a NetworkJournal about every change, BEFORE the
// kernel change for creations (bridge, each tap: write-ahead) and AFTER the object is
// verified gone for removals, so a crash at any instant leaves a record naming everything
// that may exist (RecordJournal writes networks/<bridge>.json; tests inject failing ones).
// A journal that fails a write-ahead step stops the change before the kernel is touched.
// Only a network with a journal turns forwarding on for the host's uplink: the marker that
// restores it lives beside the records (uplink.hpp).
#pragma once

#include "net/address_pool.hpp"
#include "net/ipv4.hpp"
#include "util/error.hpp"

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fleetbox {

struct NetworkPlan {
    std::string bridge; // "fbx-<8 hex>"
    Subnet subnet;
};

// Receives every change of a Network (see above). Implementations must be thread-safe when
// the network is shared between threads under the caller's own lock.
class NetworkJournal {
public:
    virtual ~NetworkJournal() = default;
    // Before the bridge is created. An error aborts create() with nothing built.
    virtual Status bridge_planned(const NetworkPlan& plan) = 0;
    // After the bridge forwards, before the firewall: turn the uplink's forwarding on.
    virtual Status enable_uplink_forwarding() = 0;
    // Before a tap is created. An error aborts add_tap_named() with nothing built.
    virtual Status tap_planned(const std::string& tap) = 0;
    // After a tap is gone (or its creation failed).
    virtual Status tap_removed(const std::string& tap) = 0;
    // After the bridge, taps and firewall table are verified gone (or were never made).
    virtual Status network_removed() = 0;
};

class Network {
public:
    // Pick a free subnet (not in taken_subnets, overlapping no address of this namespace)
    // and a fresh bridge name. No kernel change.
    static Result<NetworkPlan> plan(const std::set<std::string>& taken_subnets);
    // Build the planned network: bridge, gateway .1/prefix, link up, forwarding on the
    // bridge, firewall table. EPERM: Permission error "create bridge fbx-...: Operation not
    // permitted" with the sudo hint.
    // With a journal, every step is announced to it (see above).
    static Result<Network> create(const NetworkPlan& plan,
                                  std::shared_ptr<NetworkJournal> journal = nullptr);
    // plan() + create().
    static Result<Network> create(const std::set<std::string>& taken_subnets,
                                  std::shared_ptr<NetworkJournal> journal = nullptr);

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
    Network(NetworkPlan plan, std::shared_ptr<NetworkJournal> journal);
    Status configure();

    NetworkPlan plan_;
    std::shared_ptr<NetworkJournal> journal_;
    std::vector<std::string> taps_;
    AddressPool pool_;
    bool live_ = false;
};

// Delete the taps, the firewall table and the bridge (each missing one is fine). Every
// step is attempted; the first error is returned. Only fbx-/fbt- names are accepted.
Status teardown_network(const std::string& bridge, const std::vector<std::string>& taps);
// Ok when none of the interfaces and no firewall table of the bridge exist; otherwise an
// error naming what is still there (or why it could not be checked).
Status verify_network_gone(const std::string& bridge, const std::vector<std::string>& taps);

} // namespace fleetbox
