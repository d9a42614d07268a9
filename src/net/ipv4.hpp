// IPv4 addresses and subnets as plain numbers: parsing, formatting, containment, and the
// /24 subnets fleetbox hands out (192.168.X.0/24, gateway .1).
//
// Why numbers: subnet picking and address allocation are arithmetic on host-order uint32
// values (network + n, broadcast = network | ~mask); strings appear only at the edges
// (netlink, nftables scripts, config files). Parsing uses inet_pton, so "192.168.1" or
// "01.2.3.4" style inputs are rejected rather than guessed at.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace fleetbox {

struct Subnet {
    std::string cidr;     // "192.168.3.0/24"
    std::string gateway;  // "192.168.3.1" (the bridge's address)
    int prefix = 0;       // 24
    uint32_t network = 0; // host byte order, host bits zero

    friend bool operator==(const Subnet&, const Subnet&) = default;
};

// "192.168.3.7" -> host-order number; InvalidArgument for anything else.
Result<uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(uint32_t address);

// Netmask for a prefix length 0..32 (host order).
uint32_t prefix_mask(int prefix);

// A subnet from its network number and prefix (0..30); host bits of network are cleared.
Subnet make_subnet(uint32_t network, int prefix);
// "192.168.3.0/24" -> Subnet; the address must be the network address (no host bits).
Result<Subnet> parse_subnet(std::string_view cidr);
// 192.168.<x>.0/24, x in 0..255.
Subnet private_subnet_24(int x);

uint32_t broadcast_of(const Subnet& subnet);
bool contains(const Subnet& subnet, uint32_t address);
bool contains(const Subnet& subnet, std::string_view address); // false when unparsable
// True when the two prefixes share any address (one contains the other).
bool overlaps(const Subnet& subnet, uint32_t network, int prefix);

// The n-th address of the subnet as text: n=1 is the gateway. InvalidArgument when n is
// outside the subnet (n >= 2^(32-prefix)).
Result<std::string> ip_for_index(const Subnet& subnet, uint32_t n);

} // namespace fleetbox
