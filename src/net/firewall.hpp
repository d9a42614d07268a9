// The nftables table of one bridge: masquerade the bridge's subnet on its way out, and
// refuse new connections into the subnet from anywhere but the bridge itself.
//
// Table `ip fbx_<id>` (the bridge name with '-' as '_'):
//   chain postrouting  nat/postrouting/srcnat:  ip saddr <subnet> oifname != "<bridge>" masquerade
//   chain forward      filter/forward/filter, policy accept:
//                      ct state new iifname != "<bridge>" ip daddr <subnet> drop
// Why one whole table per bridge: teardown is one `delete table`, nothing is ever spliced
// into the host's or another tool's rules, and a crash leaves an object that is easy to find
// by name. Scripts go through libnftables (nft_run_cmd_from_buffer) as one transaction, so
// an install either replaces the table completely or changes nothing; the result is read
// back as JSON to catch a kernel that accepted the batch but dropped a rule.
#pragma once

#include "net/ipv4.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace fleetbox {

// The nft script that (re)creates the bridge's table atomically ("add; delete; table {...}").
Result<std::string> firewall_script(const std::string& bridge, const Subnet& subnet);

// Install or replace the table, then verify it by reading it back. Errors name the
// missing piece: "nft table fbx_x missing after install (kernel rejected it)",
// "nft masquerade rule missing after install", "nft forward rule missing after install".
Status install_firewall(const std::string& bridge, const Subnet& subnet);
// Delete the table; a missing table is success.
Status remove_firewall(const std::string& bridge);
// True when the table exists (false on any failure to list tables).
bool firewall_exists(const std::string& bridge);

struct FirewallInfo {
    bool table = false;        // table ip fbx_<id> exists
    bool masquerade = false;   // postrouting has the masquerade rule for this bridge/subnet
    bool forward_drop = false; // forward (policy accept) has the new-connection drop rule
};
// What of the expected table is present, read back as JSON.
Result<FirewallInfo> inspect_firewall(const std::string& bridge, const Subnet& subnet);
// Names of the `ip` family tables whose name starts with "fbx_", sorted.
Result<std::vector<std::string>> list_firewall_tables();

} // namespace fleetbox
