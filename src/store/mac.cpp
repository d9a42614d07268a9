// Name-derived MAC addresses (see mac.hpp for the bit layout and why).
#include "store/mac.hpp"

#include "sys/sha256.hpp"

#include <cstdio>

namespace fleetbox {

std::string mac_for_name(std::string_view name) {
    std::string input = "fleetbox:";
    input += name;
    Sha256 d = sha256(input);
    d[0] = static_cast<unsigned char>((d[0] & 0xfe) | 0x02);
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", d[0], d[1], d[2], d[3], d[4],
                  d[5]);
    return buf;
}

bool is_valid_mac(std::string_view mac) {
    if (mac.size() != 17)
        return false;
    for (std::size_t i = 0; i < mac.size(); ++i) {
        const char c = mac[i];
        if (i % 3 == 2) {
            if (c != ':')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

} // namespace fleetbox
