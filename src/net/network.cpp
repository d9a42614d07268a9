// Bridge + firewall + taps for one network (see network.hpp for the plan/create split and
// the all-or-nothing rule). Kernel order on create: bridge, gateway address, up, per-bridge
// forwarding, uplink forwarding (journal only), firewall (as the original tool); teardown
// runs in reverse and is verified before the journal hears that the network is gone.
#include "net/network.hpp"

#include "net/firewall.hpp"
#include "net/forwarding.hpp"
#include "net/names.hpp"
#include "net/netlink.hpp"
#include "net/subnet_picker.hpp"
#include "net/tap.hpp"

#include <algorithm>
#include <utility>

namespace fleetbox {

namespace {

// Keep the first failure, carry on with the remaining steps.
void keep_first(Status& first, Status step) {
    if (first && !step)
        first = std::move(step);
}

} // namespace

Status teardown_network(const std::string& bridge, const std::vector<std::string>& taps) {
    const std::string op = "tear down network " + bridge;
    if (!is_bridge_name(bridge))
        return fail(ErrorKind::InvalidArgument, op, "not a fleetbox bridge name");
    for (const auto& tap : taps) {
        if (!is_tap_name(tap))
            return fail(ErrorKind::InvalidArgument, op, "'" + tap + "' is not a fleetbox tap name");
    }
    Status first;
    for (const auto& tap : taps)
        keep_first(first, delete_tap(tap));
    keep_first(first, remove_firewall(bridge));
    keep_first(first, delete_link(bridge));
    return first;
}

Status verify_network_gone(const std::string& bridge, const std::vector<std::string>& taps) {
    const std::string op = "check that network " + bridge + " is gone";
    std::vector<std::string> names = taps;
    names.push_back(bridge);
    for (const auto& name : names) {
        auto info = link_info(name);
        if (info)
            return fail(ErrorKind::Busy, op, "interface " + name + " still exists");
        if (info.error().kind != ErrorKind::NotFound)
            return fail(std::move(info).error().wrap(op));
    }
    auto tables = list_firewall_tables();
    if (!tables)
        return fail(std::move(tables).error().wrap(op));
    const std::string table = firewall_table_name(bridge);
    if (std::find(tables->begin(), tables->end(), table) != tables->end())
        return fail(ErrorKind::Busy, op, "nft table " + table + " still exists");
    return {};
}

Network::Network(NetworkPlan plan, std::shared_ptr<NetworkJournal> journal)
    : plan_(std::move(plan)), journal_(std::move(journal)), pool_(plan_.subnet) {}

Network::Network(Network&& other) noexcept
    : plan_(std::move(other.plan_)), journal_(std::move(other.journal_)),
      taps_(std::move(other.taps_)), pool_(std::move(other.pool_)),
      live_(std::exchange(other.live_, false)) {}

Network& Network::operator=(Network&& other) noexcept {
    if (this != &other) {
        (void)destroy();
        plan_ = std::move(other.plan_);
        journal_ = std::move(other.journal_);
        taps_ = std::move(other.taps_);
        pool_ = std::move(other.pool_);
        live_ = std::exchange(other.live_, false);
    }
    return *this;
}

Network::~Network() {
    (void)destroy();
}

Result<NetworkPlan> Network::plan(const std::set<std::string>& taken_subnets) {
    NetworkPlan p;
    p.subnet = FBX_TRY(pick_free_subnet(taken_subnets));
    p.bridge = FBX_TRY(new_bridge_name());
    return p;
}

Result<Network> Network::create(const NetworkPlan& plan, std::shared_ptr<NetworkJournal> journal) {
    if (!is_bridge_name(plan.bridge)) {
        return fail(ErrorKind::InvalidArgument, "create bridge " + plan.bridge,
                    "bridge names are fbx- and 8 lowercase hex digits");
    }
    if (journal)
        FBX_CHECK(journal->bridge_planned(plan)); // write-ahead: recorded before it exists
    if (auto made = create_bridge(plan.bridge); !made) {
        // Nothing was built (an existing interface of that name is left alone).
        Error e = std::move(made).error();
        if (journal) {
            if (auto forget = journal->network_removed(); !forget)
                e.context += "; removing its record also failed: " + forget.error().message();
        }
        return fail(std::move(e));
    }
    Network net(plan, std::move(journal));
    net.live_ = true; // from here on, a failure (or the destructor) tears the bridge down
    if (auto configured = net.configure(); !configured) {
        Error e = std::move(configured).error();
        if (auto undo = net.destroy(); !undo)
            e.context += "; cleanup also failed: " + undo.error().message();
        return fail(std::move(e));
    }
    return net;
}

Result<Network> Network::create(const std::set<std::string>& taken_subnets,
                                std::shared_ptr<NetworkJournal> journal) {
    const NetworkPlan p = FBX_TRY(plan(taken_subnets));
    return create(p, std::move(journal));
}

Status Network::configure() {
    FBX_CHECK(add_address(plan_.bridge,
                          plan_.subnet.gateway + "/" + std::to_string(plan_.subnet.prefix)));
    FBX_CHECK(set_link_up(plan_.bridge));
    FBX_CHECK(enable_forwarding(plan_.bridge));
    if (journal_)
        FBX_CHECK(journal_->enable_uplink_forwarding());
    FBX_CHECK(install_firewall(plan_.bridge, plan_.subnet));
    return {};
}

Result<std::string> Network::add_tap() {
    std::string name = FBX_TRY(new_tap_name());
    FBX_CHECK(add_tap_named(name));
    return name;
}

Status Network::add_tap_named(const std::string& name) {
    const std::string op = "add tap " + name + " to " + plan_.bridge;
    if (!live_)
        return fail(ErrorKind::InvalidArgument, op, "the network was destroyed");
    if (!is_tap_name(name))
        return fail(ErrorKind::InvalidArgument, op,
                    "tap names are fbt- and 8 lowercase hex digits");
    if (journal_)
        FBX_CHECK(journal_->tap_planned(name)); // write-ahead: recorded before it exists
    Status attached = create_tap(name);         // an existing interface is left alone
    const bool created = attached.has_value();
    if (attached)
        attached = enslave(name, plan_.bridge);
    if (attached)
        attached = set_link_up(name);
    if (!attached) {
        if (created)
            (void)delete_tap(name);
        if (journal_ && (!created || !link_exists(name)))
            (void)journal_->tap_removed(name);
        return attached;
    }
    taps_.push_back(name);
    return {};
}

Status Network::remove_tap(const std::string& name) {
    auto it = std::find(taps_.begin(), taps_.end(), name);
    if (it == taps_.end())
        return {};
    FBX_CHECK(delete_tap(name));
    taps_.erase(it);
    if (journal_)
        FBX_CHECK(journal_->tap_removed(name));
    return {};
}

Status Network::destroy() {
    if (!live_)
        return {};
    FBX_CHECK(teardown_network(plan_.bridge, taps_));
    FBX_CHECK(verify_network_gone(plan_.bridge, taps_));
    taps_.clear();
    live_ = false;
    if (journal_)
        FBX_CHECK(journal_->network_removed()); // only now may the record go
    return {};
}

} // namespace fleetbox
