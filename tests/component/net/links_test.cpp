// Bridges, addresses, link state and deletion through rtnetlink, read back through libnl
// and cross-checked with `ip -j` run inside the same private namespace.
#include "component/net/netns_fixture.hpp"
#include "net/netlink.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox {
namespace {

using test::NetnsTest;
using test::run_out;

class Links : public NetnsTest {};

TEST_F(Links, CreateBridgeAddAddressAndUp) {
    ASSERT_TRUE(create_bridge("fbx-0000aaaa"));
    auto info = link_info("fbx-0000aaaa");
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->kind, "bridge");
    EXPECT_FALSE(info->up);

    auto added = add_address("fbx-0000aaaa", "192.168.0.1/24");
    ASSERT_TRUE(added) << added.error().message();
    auto up = set_link_up("fbx-0000aaaa");
    ASSERT_TRUE(up) << up.error().message();
    EXPECT_TRUE(link_info("fbx-0000aaaa")->up);

    auto addrs = list_ipv4_addresses();
    ASSERT_TRUE(addrs);
    bool found = false;
    for (const auto& a : *addrs) {
        if (a.ifname == "fbx-0000aaaa") {
            EXPECT_EQ(format_ipv4(a.address), "192.168.0.1");
            EXPECT_EQ(a.prefix, 24);
            found = true;
        }
    }
    EXPECT_TRUE(found);

    // Cross-check with iproute2 in the same namespace.
    const auto j =
        nlohmann::json::parse(run_out({"ip", "-j", "addr", "show", "dev", "fbx-0000aaaa"}));
    ASSERT_EQ(j.size(), 1U);
    EXPECT_NE(j[0]["flags"].dump().find("\"UP\""), std::string::npos) << j.dump();
    bool ip_found = false;
    for (const auto& ai : j[0]["addr_info"]) {
        if (ai["family"] == "inet") {
            EXPECT_EQ(ai["local"], "192.168.0.1");
            EXPECT_EQ(ai["prefixlen"], 24);
            EXPECT_EQ(ai["broadcast"], "192.168.0.255");
            ip_found = true;
        }
    }
    EXPECT_TRUE(ip_found) << j.dump();
}

TEST_F(Links, AddingTheSameAddressTwiceIsFine) {
    ASSERT_TRUE(create_bridge("fbx-0000aaaa"));
    ASSERT_TRUE(add_address("fbx-0000aaaa", "192.168.4.1/24"));
    auto again = add_address("fbx-0000aaaa", "192.168.4.1/24");
    EXPECT_TRUE(again) << again.error().message();
}

TEST_F(Links, BadAddressAndMissingInterfaceAreClearErrors) {
    auto bad = add_address("lo", "192.168.4.1");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::InvalidArgument);
    auto missing = add_address("fbx-nothere", "192.168.4.1/24");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
    EXPECT_NE(missing.error().message().find("fbx-nothere"), std::string::npos);
    EXPECT_EQ(set_link_up("fbx-nothere").error().kind, ErrorKind::NotFound);
    EXPECT_EQ(link_info("fbx-nothere").error().kind, ErrorKind::NotFound);
}

TEST_F(Links, CreatingAnExistingNameFailsAndLeavesItAlone) {
    ASSERT_TRUE(create_bridge("fbx-0000aaaa"));
    ASSERT_TRUE(add_address("fbx-0000aaaa", "192.168.9.1/24"));
    auto again = create_bridge("fbx-0000aaaa");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().kind, ErrorKind::AlreadyExists);
    EXPECT_NE(again.error().message().find("create bridge fbx-0000aaaa"), std::string::npos)
        << again.error().message();
    EXPECT_TRUE(link_exists("fbx-0000aaaa"));
}

TEST_F(Links, DeleteRemovesAndMissingIsSuccess) {
    ASSERT_TRUE(create_bridge("fbx-0000aaaa"));
    ASSERT_TRUE(link_exists("fbx-0000aaaa"));
    auto del = delete_link("fbx-0000aaaa");
    ASSERT_TRUE(del) << del.error().message();
    EXPECT_FALSE(link_exists("fbx-0000aaaa"));
    auto again = delete_link("fbx-0000aaaa");
    EXPECT_TRUE(again) << again.error().message();
    EXPECT_EQ(run_out({"ip", "-o", "link", "show"}).find("fbx-"), std::string::npos);
}

TEST_F(Links, ListsByPrefixSorted) {
    ASSERT_TRUE(create_bridge("fbx-000000bb"));
    ASSERT_TRUE(create_bridge("fbx-000000aa"));
    ASSERT_TRUE(create_bridge("other0"));
    auto fbx = list_links_with_prefix("fbx-");
    ASSERT_TRUE(fbx);
    EXPECT_EQ(*fbx, (std::vector<std::string>{"fbx-000000aa", "fbx-000000bb"}));
    auto all = list_links_with_prefix("");
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 4U); // + lo
}

} // namespace
} // namespace fleetbox
