// The MAC address of a VM, derived from its name.
//
// Why derived: the same name always gets the same MAC, so the guest's network config and any
// DHCP/ARP state stay stable across `down`/`up`, and no MAC has to be stored or allocated.
// sha256("fleetbox:" + name), first 6 bytes, byte 0 = (b0 & 0xfe) | 0x02: unicast (bit 0
// clear) and locally administered (bit 1 set), so it never collides with a vendor MAC.
#pragma once

#include <string>
#include <string_view>

namespace fleetbox {

// Lowercase, colon-separated, e.g. "52:1f:...". Same as the original fleetbox.
[[nodiscard]] std::string mac_for_name(std::string_view name);
// True for six colon-separated pairs of lowercase hex digits.
[[nodiscard]] bool is_valid_mac(std::string_view mac);

} // namespace fleetbox
