// IPv4 parsing and subnet arithmetic (see ipv4.hpp). inet_pton/inet_ntop do the text form,
// so only the dotted-quad spelling the kernel and nftables print is accepted.
#include "net/ipv4.hpp"

#include <arpa/inet.h>
#include <charconv>

namespace fleetbox {

Result<uint32_t> parse_ipv4(std::string_view text) {
    const std::string copy(text);
    in_addr addr{};
    if (copy.empty() || inet_pton(AF_INET, copy.c_str(), &addr) != 1) {
        return fail(ErrorKind::InvalidArgument, "parse IPv4 address '" + copy + "'",
                    "not a dotted-quad IPv4 address");
    }
    return ntohl(addr.s_addr);
}

std::string format_ipv4(uint32_t address) {
    in_addr addr{};
    addr.s_addr = htonl(address);
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &addr, buf, sizeof buf);
    return buf;
}

uint32_t prefix_mask(int prefix) {
    if (prefix <= 0)
        return 0;
    if (prefix >= 32)
        return 0xffffffffU;
    return ~((uint32_t{1} << (32 - prefix)) - 1);
}

Subnet make_subnet(uint32_t network, int prefix) {
    Subnet s;
    s.prefix = prefix;
    s.network = network & prefix_mask(prefix);
    s.cidr = format_ipv4(s.network) + "/" + std::to_string(prefix);
    s.gateway = format_ipv4(s.network + 1);
    return s;
}

Result<Subnet> parse_subnet(std::string_view cidr) {
    const std::string op = "parse subnet '" + std::string(cidr) + "'";
    const auto slash = cidr.find('/');
    if (slash == std::string_view::npos) {
        return fail(ErrorKind::InvalidArgument, op, "expected ADDRESS/PREFIX, e.g. 192.168.3.0/24");
    }
    auto address = parse_ipv4(cidr.substr(0, slash));
    if (!address)
        return fail(ErrorKind::InvalidArgument, op, "bad network address");
    const std::string_view len = cidr.substr(slash + 1);
    int prefix = -1;
    const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (ec != std::errc{} || end != len.data() + len.size() || prefix < 0 || prefix > 30) {
        return fail(ErrorKind::InvalidArgument, op, "prefix must be a number from 0 to 30");
    }
    if ((*address & ~prefix_mask(prefix)) != 0) {
        return fail(ErrorKind::InvalidArgument, op,
                    "host bits are set (did you mean " + make_subnet(*address, prefix).cidr + "?)");
    }
    return make_subnet(*address, prefix);
}

Subnet private_subnet_24(int x) {
    return make_subnet(
        (uint32_t{192} << 24) | (uint32_t{168} << 16) | (static_cast<uint32_t>(x & 0xff) << 8), 24);
}

uint32_t broadcast_of(const Subnet& subnet) {
    return subnet.network | ~prefix_mask(subnet.prefix);
}

bool contains(const Subnet& subnet, uint32_t address) {
    return (address & prefix_mask(subnet.prefix)) == subnet.network;
}

bool contains(const Subnet& subnet, std::string_view address) {
    auto parsed = parse_ipv4(address);
    return parsed && contains(subnet, *parsed);
}

bool overlaps(const Subnet& subnet, uint32_t network, int prefix) {
    const uint32_t mask = prefix_mask(prefix < subnet.prefix ? prefix : subnet.prefix);
    return (subnet.network & mask) == (network & mask);
}

Result<std::string> ip_for_index(const Subnet& subnet, uint32_t n) {
    if ((n & prefix_mask(subnet.prefix)) != 0) {
        return fail(ErrorKind::InvalidArgument,
                    "address #" + std::to_string(n) + " of subnet " + subnet.cidr,
                    "outside the subnet");
    }
    return format_ipv4(subnet.network + n);
}

} // namespace fleetbox
