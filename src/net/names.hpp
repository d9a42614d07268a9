// Names of the kernel objects fleetbox creates: bridges "fbx-<8 hex>", taps "fbt-<8 hex>",
// and the nftables table "fbx_<8 hex>" that belongs to a bridge.
//
// Why fixed prefixes: reconcile (after a crash) and the tests find our objects by prefix,
// and never touch anything else. 4 + 8 = 12 characters fits IFNAMSIZ (15 + NUL). The
// suffix comes from getrandom(), so concurrent helpers do not collide.
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>

namespace fleetbox {

inline constexpr std::string_view kBridgePrefix = "fbx-";
inline constexpr std::string_view kTapPrefix = "fbt-";
inline constexpr std::string_view kTablePrefix = "fbx_";

// n lowercase hex digits from the kernel's random source.
Result<std::string> random_hex(std::size_t digits);
Result<std::string> new_bridge_name(); // "fbx-1a2b3c4d"
Result<std::string> new_tap_name();    // "fbt-1a2b3c4d"

// True for exactly "<prefix><8 lowercase hex>".
bool is_bridge_name(std::string_view name);
bool is_tap_name(std::string_view name);

// The nftables table of a bridge: "fbx-1a2b3c4d" -> "fbx_1a2b3c4d" ('-' becomes '_').
std::string firewall_table_name(std::string_view bridge);

} // namespace fleetbox
