// Bridge/tap/table names: format, randomness, and recognition by prefix.
#include "net/firewall.hpp"
#include "net/names.hpp"

#include <gtest/gtest.h>
#include <set>

namespace fleetbox {
namespace {

TEST(NetNames, BridgeAndTapNamesAreFixedPrefixPlusEightHex) {
    auto b = new_bridge_name();
    auto t = new_tap_name();
    ASSERT_TRUE(b && t);
    EXPECT_EQ(b->size(), 12U);
    EXPECT_EQ(b->substr(0, 4), "fbx-");
    EXPECT_EQ(t->substr(0, 4), "fbt-");
    EXPECT_TRUE(is_bridge_name(*b)) << *b;
    EXPECT_TRUE(is_tap_name(*t)) << *t;
    EXPECT_FALSE(is_tap_name(*b));
    EXPECT_FALSE(is_bridge_name(*t));
}

TEST(NetNames, AreRandom) {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i)
        seen.insert(*new_bridge_name());
    EXPECT_EQ(seen.size(), 50U);
}

TEST(NetNames, RecognitionIsStrict) {
    EXPECT_TRUE(is_bridge_name("fbx-0123abcd"));
    EXPECT_FALSE(is_bridge_name("fbx-0123abc"));
    EXPECT_FALSE(is_bridge_name("fbx-0123abcde"));
    EXPECT_FALSE(is_bridge_name("fbx-0123ABCD"));
    EXPECT_FALSE(is_bridge_name("fby-0123abcd"));
    EXPECT_FALSE(is_bridge_name("eth0"));
}

TEST(NetNames, TableNameReplacesDash) {
    EXPECT_EQ(firewall_table_name("fbx-0123abcd"), "fbx_0123abcd");
}

TEST(FirewallScript, ReplacesTheTableAtomicallyWithBothRules) {
    auto script = firewall_script("fbx-0123abcd", private_subnet_24(4));
    ASSERT_TRUE(script) << script.error().message();
    const std::string& s = *script;
    const auto add = s.find("add table ip fbx_0123abcd\n");
    const auto del = s.find("delete table ip fbx_0123abcd\n");
    const auto def = s.find("table ip fbx_0123abcd {");
    ASSERT_NE(add, std::string::npos) << s;
    ASSERT_NE(del, std::string::npos) << s;
    ASSERT_NE(def, std::string::npos) << s;
    EXPECT_LT(add, del);
    EXPECT_LT(del, def);
    EXPECT_NE(s.find("type nat hook postrouting priority srcnat;"), std::string::npos) << s;
    EXPECT_NE(s.find("ip saddr 192.168.4.0/24 oifname != \"fbx-0123abcd\" masquerade"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("type filter hook forward priority filter; policy accept;"), std::string::npos)
        << s;
    EXPECT_NE(s.find("ct state new iifname != \"fbx-0123abcd\" ip daddr 192.168.4.0/24 drop"),
              std::string::npos)
        << s;
}

TEST(FirewallScript, RejectsNamesThatCouldBreakTheScript) {
    for (const char* bad : {"", "fbx\"x", "fbx x", "fbx;x", "-fbx", "fbx-0123456789abcdef"}) {
        auto script = firewall_script(bad, private_subnet_24(4));
        ASSERT_FALSE(script) << bad;
        EXPECT_EQ(script.error().kind, ErrorKind::InvalidArgument);
    }
}

} // namespace
} // namespace fleetbox
