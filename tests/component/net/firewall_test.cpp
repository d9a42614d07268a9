// The per-bridge nftables table, installed through libnftables, read back through our JSON
// inspection and cross-checked with the `nft` binary inside the private namespace.
#include "component/net/netns_fixture.hpp"
#include "net/firewall.hpp"
#include "net/forwarding.hpp"
#include "net/netlink.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox {
namespace {

using test::NetnsTest;
using test::run_out;

const std::string kBridge = "fbx-0000aaaa";

class Firewall : public NetnsTest {};

int rule_count(const std::string& table) {
    const auto j = nlohmann::json::parse(run_out({"nft", "-j", "list", "table", "ip", table}));
    int n = 0;
    for (const auto& item : j["nftables"])
        n += item.contains("rule") ? 1 : 0;
    return n;
}

TEST_F(Firewall, InstallCreatesTheTableWithItsRules) {
    const Subnet subnet = private_subnet_24(0);
    auto installed = install_firewall(kBridge, subnet);
    ASSERT_TRUE(installed) << installed.error().message();
    EXPECT_TRUE(firewall_exists(kBridge));
    auto info = inspect_firewall(kBridge, subnet);
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_TRUE(info->table);
    EXPECT_TRUE(info->masquerade);
    EXPECT_TRUE(info->forward_drop);
    EXPECT_TRUE(info->isolation);
    EXPECT_EQ(*list_firewall_tables(), std::vector<std::string>{"fbx_0000aaaa"});

    const std::string text = run_out({"nft", "list", "table", "ip", "fbx_0000aaaa"});
    EXPECT_NE(text.find("type nat hook postrouting priority srcnat; policy accept;"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("ip saddr 192.168.0.0/24 oifname != \"fbx-0000aaaa\" masquerade"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("type filter hook forward priority filter; policy accept;"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("ct state new iifname != \"fbx-0000aaaa\" ip daddr 192.168.0.0/24 drop"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find("iifname \"fbx-*\" iifname != \"fbx-0000aaaa\" oifname \"fbx-0000aaaa\" drop"),
        std::string::npos)
        << text;
    EXPECT_NE(
        text.find("iifname \"fbx-0000aaaa\" oifname \"fbx-*\" oifname != \"fbx-0000aaaa\" drop"),
        std::string::npos)
        << text;
    EXPECT_EQ(rule_count("fbx_0000aaaa"), 4);
}

TEST_F(Firewall, ReinstallReplacesRatherThanDuplicates) {
    ASSERT_TRUE(install_firewall(kBridge, private_subnet_24(0)));
    auto again = install_firewall(kBridge, private_subnet_24(1));
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(rule_count("fbx_0000aaaa"), 4);
    EXPECT_TRUE(inspect_firewall(kBridge, private_subnet_24(1))->masquerade);
    EXPECT_FALSE(inspect_firewall(kBridge, private_subnet_24(0))->masquerade);
}

TEST_F(Firewall, InspectionNoticesAMissingRule) {
    ASSERT_TRUE(install_firewall(kBridge, private_subnet_24(0)));
    run_out({"nft", "flush", "chain", "ip", "fbx_0000aaaa", "forward"});
    auto info = inspect_firewall(kBridge, private_subnet_24(0));
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->table);
    EXPECT_TRUE(info->masquerade);
    EXPECT_FALSE(info->forward_drop);
    EXPECT_FALSE(info->isolation);
}

TEST_F(Firewall, InspectionNoticesAMissingIsolationRule) {
    ASSERT_TRUE(install_firewall(kBridge, private_subnet_24(0)));
    const auto j =
        nlohmann::json::parse(run_out({"nft", "-j", "list", "table", "ip", "fbx_0000aaaa"}));
    std::string last_handle;
    for (const auto& item : j["nftables"]) {
        if (item.contains("rule"))
            last_handle = std::to_string(item["rule"]["handle"].get<int>());
    }
    ASSERT_FALSE(last_handle.empty());
    run_out({"nft", "delete", "rule", "ip", "fbx_0000aaaa", "forward", "handle", last_handle});
    auto info = inspect_firewall(kBridge, private_subnet_24(0));
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->forward_drop);
    EXPECT_FALSE(info->isolation) << "one direction alone is not isolation";
}

TEST_F(Firewall, RemoveDeletesTheTableAndMissingIsSuccess) {
    ASSERT_TRUE(install_firewall(kBridge, private_subnet_24(0)));
    ASSERT_TRUE(install_firewall("fbx-0000bbbb", private_subnet_24(1)));
    auto removed = remove_firewall(kBridge);
    ASSERT_TRUE(removed) << removed.error().message();
    EXPECT_FALSE(firewall_exists(kBridge));
    EXPECT_TRUE(firewall_exists("fbx-0000bbbb")) << "only the named bridge's table goes";
    auto again = remove_firewall(kBridge);
    EXPECT_TRUE(again) << again.error().message();
    auto info = inspect_firewall(kBridge, private_subnet_24(0));
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->table);
    EXPECT_EQ(run_out({"nft", "list", "tables"}).find("fbx_0000aaaa"), std::string::npos);
}

TEST_F(Firewall, TablesOfOtherToolsAreNotListed) {
    run_out({"nft", "add", "table", "ip", "filter"});
    run_out({"nft", "add", "table", "inet", "fbx_0000cccc"});
    ASSERT_TRUE(install_firewall(kBridge, private_subnet_24(0)));
    EXPECT_EQ(*list_firewall_tables(), std::vector<std::string>{"fbx_0000aaaa"});
}

TEST_F(Firewall, ForwardingIsEnabledPerBridgeOnly) {
    ASSERT_TRUE(create_bridge(kBridge));
    auto before = forwarding_enabled(kBridge);
    ASSERT_TRUE(before) << before.error().message();
    EXPECT_FALSE(*before);
    auto on = enable_forwarding(kBridge);
    ASSERT_TRUE(on) << on.error().message();
    EXPECT_TRUE(*forwarding_enabled(kBridge));
    EXPECT_EQ(run_out({"cat", "/proc/sys/net/ipv4/conf/all/forwarding"}), "0\n");
    EXPECT_FALSE(enable_forwarding("all"));
    EXPECT_FALSE(enable_forwarding("../all"));
    auto missing = enable_forwarding("fbx-nothere");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("fbx-nothere"), std::string::npos);
}

} // namespace
} // namespace fleetbox
