// Choosing the /24 for a new bridge: the first 192.168.X.0/24, X = 0..255 ascending, that
// overlaps no IPv4 address on any interface of this host (namespace), no route of its main
// table, and that the caller has not excluded (subnets other clusters hold in the store).
// check_subnet_free() is the same test for one subnet the client asks for by name (a
// cluster's stored subnet, which it must get back exactly or not at all).
//
// Why: a subnet that overlaps a host address (the LAN, another fleetbox bridge) or a route
// (a VPN's "192.168.5.0/24 dev tun0", which has no local address in that /24) would make
// the VMs or part of the host's network unreachable. Default routes (prefix 0) cover
// everything and are ignored. Ascending order matches the original tool on Linux, so the
// first cluster usually gets 192.168.0.0/24. The choice is a pure function of addresses and
// routes, unit-tested without root; the live variants read them through rtnetlink.
#pragma once

#include "net/ipv4.hpp"
#include "net/netlink.hpp"
#include "net/routes.hpp"
#include "util/error.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fleetbox {

struct HostNetworks {
    std::vector<InterfaceAddress> addresses;
    std::vector<RouteInfo> routes;
};

// What on the host holds (overlaps) `subnet`: "address 192.168.5.7/24 on eth0" or
// "route 192.168.5.0/24 dev tun0"; nullopt when nothing does.
std::optional<std::string> subnet_holder(const Subnet& subnet, const HostNetworks& host);

// Pure choice. `taken` holds CIDRs ("192.168.3.0/24") that must not be used.
// None free: Busy error "no free /24 subnet available in 192.168.0.0/16".
Result<Subnet> choose_free_subnet(const HostNetworks& host, const std::set<std::string>& taken);
Result<Subnet> choose_free_subnet(const std::vector<InterfaceAddress>& host_addresses,
                                  const std::set<std::string>& taken);
// Pure check of one subnet: Busy "use subnet 192.168.5.0/24: it is taken by route
// 192.168.5.0/24 dev tun0" with a hint that says what to free.
Status check_subnet_free(const Subnet& subnet, const HostNetworks& host);

// The addresses and main-table routes of the caller's network namespace.
Result<HostNetworks> read_host_networks();
// choose_free_subnet() over read_host_networks().
Result<Subnet> pick_free_subnet(const std::set<std::string>& already_taken);
// check_subnet_free() over read_host_networks().
Status check_subnet_free(const Subnet& subnet);

} // namespace fleetbox
