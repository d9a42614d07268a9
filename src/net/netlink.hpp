// Links and IPv4 addresses through rtnetlink (libnl-route-3): create a bridge, give it its
// gateway address, bring it up, enslave taps, list and delete our interfaces.
//
// Why library calls and not `ip`: errors keep their errno (EPERM becomes a Permission error
// with a "run it with sudo" hint, EEXIST an AlreadyExists one), nothing depends on iproute2
// output formats, and the calls act on the network namespace of the calling thread, which
// is how the tests confine everything to a private namespace. Each call opens its own
// NETLINK_ROUTE socket, so a call always acts on the caller's current namespace.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox {

struct LinkInfo {
    int index = 0;
    std::string name;
    std::string kind;   // rtnetlink IFLA_INFO_KIND: "bridge", "tun", ...; empty for lo/physical
    bool up = false;    // administratively up (IFF_UP)
    std::string master; // name of the bridge it is enslaved to, empty when none
};

struct InterfaceAddress {
    std::string ifname;
    int ifindex = 0;
    uint32_t address = 0; // host byte order
    int prefix = 0;
};

// New link of a kernel kind ("bridge", "dummy", ...). AlreadyExists when the name is taken.
Status create_link(const std::string& name, const std::string& kind);
Status create_bridge(const std::string& name);
// Add "A.B.C.D/P" to an interface (broadcast set to the subnet's). Already present = success.
Status add_address(const std::string& ifname, const std::string& address_cidr);
Status set_link_up(const std::string& ifname);
// Make `port` a port of `bridge` (IFLA_MASTER).
Status enslave(const std::string& port, const std::string& bridge);
// Delete an interface; a missing one is success.
Status delete_link(const std::string& name);
// True when the kernel reports an interface of that name (false on any lookup failure).
bool link_exists(const std::string& name);
// NotFound when there is no such interface.
Result<LinkInfo> link_info(const std::string& name);
// Sorted names of the interfaces starting with prefix ("" lists all).
Result<std::vector<std::string>> list_links_with_prefix(std::string_view prefix);
// Every IPv4 address on every interface of this namespace.
Result<std::vector<InterfaceAddress>> list_ipv4_addresses();

} // namespace fleetbox
