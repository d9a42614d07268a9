// First free 192.168.X.0/24 (see subnet_picker.hpp for the rule and why).
#include "net/subnet_picker.hpp"

namespace fleetbox {

namespace {

bool overlaps_any(const Subnet& candidate, const std::vector<InterfaceAddress>& addresses) {
    for (const auto& a : addresses) {
        if (overlaps(candidate, a.address, a.prefix))
            return true;
    }
    return false;
}

} // namespace

Result<Subnet> choose_free_subnet(const std::vector<InterfaceAddress>& host_addresses,
                                  const std::set<std::string>& taken) {
    for (int x = 0; x <= 255; ++x) {
        Subnet candidate = private_subnet_24(x);
        if (taken.count(candidate.cidr) == 0 && !overlaps_any(candidate, host_addresses)) {
            return candidate;
        }
    }
    return fail(ErrorKind::Busy, "pick a subnet for a new network",
                "no free /24 subnet available in 192.168.0.0/16",
                "remove unused fleetbox networks (fleetbox rm) or free a 192.168.X.0/24 range");
}

Result<Subnet> pick_free_subnet(const std::set<std::string>& already_taken) {
    auto addresses = list_ipv4_addresses();
    if (!addresses)
        return fail(std::move(addresses).error().wrap("pick a subnet for a new network"));
    return choose_free_subnet(*addresses, already_taken);
}

} // namespace fleetbox
