// First free 192.168.X.0/24 and the check of one requested subnet (see subnet_picker.hpp for
// the rule and why).
#include "net/subnet_picker.hpp"

#include "net/names.hpp"

namespace fleetbox {

std::optional<std::string> subnet_holder(const Subnet& subnet, const HostNetworks& host) {
    for (const auto& a : host.addresses) {
        if (overlaps(subnet, a.address, a.prefix)) {
            return "address " + format_ipv4(a.address) + "/" + std::to_string(a.prefix) + " on " +
                   (a.ifname.empty() ? "an interface" : a.ifname);
        }
    }
    for (const auto& r : host.routes) {
        if (r.prefix > 0 && overlaps(subnet, r.destination, r.prefix))
            return "route " + describe(r);
    }
    return std::nullopt;
}

Result<Subnet> choose_free_subnet(const HostNetworks& host, const std::set<std::string>& taken) {
    for (int x = 0; x <= 255; ++x) {
        Subnet candidate = private_subnet_24(x);
        if (taken.count(candidate.cidr) == 0 && !subnet_holder(candidate, host))
            return candidate;
    }
    return fail(ErrorKind::Busy, "pick a subnet for a new network",
                "no free /24 subnet available in 192.168.0.0/16",
                "remove unused fleetbox networks (fleetbox rm) or free a 192.168.X.0/24 range");
}

Result<Subnet> choose_free_subnet(const std::vector<InterfaceAddress>& host_addresses,
                                  const std::set<std::string>& taken) {
    return choose_free_subnet(HostNetworks{host_addresses, {}}, taken);
}

Status check_subnet_free(const Subnet& subnet, const HostNetworks& host) {
    const auto holder = subnet_holder(subnet, host);
    if (!holder)
        return {};
    std::string hint;
    if (holder->find(" " + std::string(kBridgePrefix)) != std::string::npos) {
        hint = "a fleetbox network still holds it: stop that cluster, or reclaim networks "
               "left by a crash (fleetbox prune)";
    } else {
        hint = "free that address or route on the host (e.g. disconnect the VPN that added it), "
               "or `fleetbox rm` the cluster's members to give the subnet up";
    }
    return fail(ErrorKind::Busy, "use subnet " + subnet.cidr, "it is taken by " + *holder,
                std::move(hint));
}

Result<HostNetworks> read_host_networks() {
    HostNetworks host;
    host.addresses = FBX_TRY(list_ipv4_addresses());
    host.routes = FBX_TRY(list_ipv4_routes());
    return host;
}

Result<Subnet> pick_free_subnet(const std::set<std::string>& already_taken) {
    auto host = read_host_networks();
    if (!host)
        return fail(std::move(host).error().wrap("pick a subnet for a new network"));
    return choose_free_subnet(*host, already_taken);
}

Status check_subnet_free(const Subnet& subnet) {
    auto host = read_host_networks();
    if (!host)
        return fail(std::move(host).error().wrap("use subnet " + subnet.cidr));
    return check_subnet_free(subnet, *host);
}

} // namespace fleetbox
