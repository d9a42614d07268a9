// pick_free_subnet() over the live addresses of a private namespace.
#include "component/net/netns_fixture.hpp"
#include "net/netlink.hpp"
#include "net/subnet_picker.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using test::NetnsTest;

class SubnetPick : public NetnsTest {};

TEST_F(SubnetPick, FreshNamespaceGetsTheFirstSubnet) {
    auto s = pick_free_subnet({});
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->cidr, "192.168.0.0/24");
}

TEST_F(SubnetPick, SkipsAnAddressOnAHostInterface) {
    ASSERT_TRUE(create_link("lan0", "bridge")); // stands in for the host's LAN interface
    ASSERT_TRUE(add_address("lan0", "192.168.0.23/24"));
    auto s = pick_free_subnet({});
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->cidr, "192.168.1.0/24");
    s = pick_free_subnet({"192.168.1.0/24"});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->cidr, "192.168.2.0/24");
}

TEST_F(SubnetPick, AWideHostPrefixBlocksEverything) {
    ASSERT_TRUE(create_link("lan0", "bridge"));
    ASSERT_TRUE(add_address("lan0", "192.168.50.2/16"));
    auto s = pick_free_subnet({});
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message().find("no free /24 subnet available in 192.168.0.0/16"),
              std::string::npos)
        << s.error().message();
}

} // namespace
} // namespace fleetbox
