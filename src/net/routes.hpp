// IPv4 routes through rtnetlink: the main table's routes (for the subnet picker) and the
// kernel's route choice for one destination (for finding the uplink).
//
// Why routes and not only addresses: a VPN often installs "192.168.5.0/24 dev tun0" without
// any local address inside that /24; a bridge on that subnet would hijack the VPN's traffic.
// Why RTM_GETROUTE for the uplink: it asks the kernel which interface it *would* use for a
// public address, with every policy rule and metric applied, and sends no packet.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fleetbox {

struct RouteInfo {
    uint32_t destination = 0; // host byte order, 0 with prefix 0 for the default route
    int prefix = 0;
    std::string ifname; // the first next hop's device ("" for blackhole/unreachable routes)
};

// "192.168.5.0/24 dev tun0" (or "... " without the device when there is none).
std::string describe(const RouteInfo& route);

// Every IPv4 route of the main routing table of the caller's namespace.
Result<std::vector<RouteInfo>> list_ipv4_routes();
// The output interface the kernel picks for `destination` (host order); "" when it has no
// route (ENETUNREACH/EHOSTUNREACH). No packet is sent.
Result<std::string> route_interface_for(uint32_t destination);

} // namespace fleetbox
