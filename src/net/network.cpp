// Bridge + firewall + taps for one network (see network.hpp for the plan/create split and
// the all-or-nothing rule). Kernel order on create: bridge, gateway address, up, per-bridge
// forwarding, firewall (as the original tool); teardown runs in reverse.
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

Network::Network(NetworkPlan plan) : plan_(std::move(plan)), pool_(plan_.subnet) {}

Network::Network(Network&& other) noexcept
    : plan_(std::move(other.plan_)), taps_(std::move(other.taps_)), pool_(std::move(other.pool_)),
      live_(std::exchange(other.live_, false)) {}

Network& Network::operator=(Network&& other) noexcept {
    if (this != &other) {
        (void)destroy();
        plan_ = std::move(other.plan_);
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

Result<Network> Network::create(const NetworkPlan& plan) {
    if (!is_bridge_name(plan.bridge)) {
        return fail(ErrorKind::InvalidArgument, "create bridge " + plan.bridge,
                    "bridge names are fbx- and 8 lowercase hex digits");
    }
    FBX_CHECK(create_bridge(plan.bridge)); // an existing interface is left alone
    Network net(plan);
    net.live_ = true; // from here on, a failure (or the destructor) tears the bridge down
    if (auto configured = net.configure(); !configured) {
        Error e = std::move(configured).error();
        if (auto undo = net.destroy(); !undo)
            e.context += "; cleanup also failed: " + undo.error().message();
        return fail(std::move(e));
    }
    return net;
}

Result<Network> Network::create(const std::set<std::string>& taken_subnets) {
    const NetworkPlan p = FBX_TRY(plan(taken_subnets));
    return create(p);
}

Status Network::configure() {
    FBX_CHECK(add_address(plan_.bridge,
                          plan_.subnet.gateway + "/" + std::to_string(plan_.subnet.prefix)));
    FBX_CHECK(set_link_up(plan_.bridge));
    FBX_CHECK(enable_forwarding(plan_.bridge));
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
    FBX_CHECK(create_tap(name)); // an existing interface is left alone
    Status attached = enslave(name, plan_.bridge);
    if (attached)
        attached = set_link_up(name);
    if (!attached) {
        (void)delete_tap(name);
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
    return {};
}

Status Network::destroy() {
    if (!live_)
        return {};
    FBX_CHECK(teardown_network(plan_.bridge, taps_));
    taps_.clear();
    live_ = false;
    return {};
}

} // namespace fleetbox
