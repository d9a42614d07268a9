// Choosing the /24 for a new bridge: the first 192.168.X.0/24, X = 0..255 ascending, that
// overlaps no IPv4 address on any interface of this host (namespace) and that this process
// has not already handed out.
//
// Why: a subnet that overlaps a host address (the LAN, a VPN, another fleetbox bridge)
// would make the VMs or the host unreachable; ascending order matches the original tool on
// Linux, so the first cluster usually gets 192.168.0.0/24 on a machine without such nets.
// The choice is a pure function of the addresses, so it is unit-tested without root;
// pick_free_subnet() feeds it the live addresses read through rtnetlink.
#pragma once

#include "net/ipv4.hpp"
#include "net/netlink.hpp"
#include "util/error.hpp"

#include <set>
#include <string>
#include <vector>

namespace fleetbox {

// Pure choice. `taken` holds CIDRs ("192.168.3.0/24") already handed out.
// None free: Busy error "no free /24 subnet available in 192.168.0.0/16".
Result<Subnet> choose_free_subnet(const std::vector<InterfaceAddress>& host_addresses,
                                  const std::set<std::string>& taken);

// choose_free_subnet() over the addresses of the caller's network namespace.
Result<Subnet> pick_free_subnet(const std::set<std::string>& already_taken);

} // namespace fleetbox
