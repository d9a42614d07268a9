// The nftables table of one bridge: masquerade the bridge's subnet on its way out, refuse
// new connections into the subnet from anywhere but the bridge itself, and drop everything
// forwarded between this bridge and any other fleetbox bridge (clusters are isolated from
// each other, in both directions and whatever the connection state).
//
// Table `ip fbx_<id>` (the bridge name with '-' as '_'):
//   chain postrouting  nat/postrouting/srcnat:  ip saddr <subnet> oifname != "<bridge>" masquerade
//   chain forward      filter/forward/filter, policy accept:
//                      ct state new iifname != "<bridge>" ip daddr <subnet> drop
//                      iifname "fbx-*" iifname != "<bridge>" oifname "<bridge>" drop
//                      iifname "<bridge>" oifname "fbx-*" oifname != "<bridge>" drop
// The "!= <bridge>" halves keep traffic within one bridge alive when br_netfilter passes
// bridged frames through the IP forward hook (in and out are then the same bridge). Each
// bridge's table drops both directions, so isolation holds even next to a table written by
// an older fleetbox that lacks these rules.
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
// "nft masquerade rule missing after install", "nft forward rule missing after install",
// "nft isolation rules missing after install".
Status install_firewall(const std::string& bridge, const Subnet& subnet);
// Delete the table; a missing table is success.
Status remove_firewall(const std::string& bridge);
// True when the table exists (false on any failure to list tables).
bool firewall_exists(const std::string& bridge);

struct FirewallInfo {
    bool table = false;        // table ip fbx_<id> exists
    bool masquerade = false;   // postrouting has the masquerade rule for this bridge/subnet
    bool forward_drop = false; // forward (policy accept) has the new-connection drop rule
    bool isolation = false;    // forward has both inter-bridge drop rules
};
// What of the expected table is present, read back as JSON.
Result<FirewallInfo> inspect_firewall(const std::string& bridge, const Subnet& subnet);
// Names of the `ip` family tables whose name starts with "fbx_", sorted.
Result<std::vector<std::string>> list_firewall_tables();

} // namespace fleetbox
