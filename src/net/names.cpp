// Random object names (see names.hpp). getrandom(2) without flags blocks only before the
// kernel's pool is initialized at early boot, never afterwards.
#include "net/names.hpp"

#include <cerrno>
#include <sys/random.h>
#include <vector>

namespace fleetbox {

namespace {

bool has_hex_suffix(std::string_view name, std::string_view prefix) {
    if (name.size() != prefix.size() + 8 || name.substr(0, prefix.size()) != prefix)
        return false;
    for (char c : name.substr(prefix.size())) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

} // namespace

Result<std::string> random_hex(std::size_t digits) {
    std::vector<unsigned char> bytes((digits + 1) / 2);
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("read random bytes for a network name", errno);
        }
        got += static_cast<std::size_t>(n);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 0x0f];
    }
    out.resize(digits);
    return out;
}

Result<std::string> new_bridge_name() {
    return std::string(kBridgePrefix) + FBX_TRY(random_hex(8));
}

Result<std::string> new_tap_name() {
    return std::string(kTapPrefix) + FBX_TRY(random_hex(8));
}

bool is_bridge_name(std::string_view name) {
    return has_hex_suffix(name, kBridgePrefix);
}

bool is_tap_name(std::string_view name) {
    return has_hex_suffix(name, kTapPrefix);
}

std::string firewall_table_name(std::string_view bridge) {
    std::string out(bridge);
    for (char& c : out) {
        if (c == '-')
            c = '_';
    }
    return out;
}

} // namespace fleetbox
