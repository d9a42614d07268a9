// pick_free_subnet() and check_subnet_free() over the live addresses and routes of a
// private namespace.
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

TEST_F(SubnetPick, SkipsSubnetsRoutedElsewhereWithoutAnAddress) {
    ASSERT_TRUE(create_link("tun0", "bridge")); // stands in for a VPN's tunnel device
    ASSERT_TRUE(set_link_up("tun0"));
    test::run_out({"ip", "route", "add", "192.168.0.0/24", "dev", "tun0"});
    test::run_out({"ip", "route", "add", "blackhole", "192.168.1.0/24"});
    auto routes = list_ipv4_routes();
    ASSERT_TRUE(routes) << routes.error().message();
    auto s = pick_free_subnet({});
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->cidr, "192.168.2.0/24");

    auto taken = check_subnet_free(private_subnet_24(0));
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().kind, ErrorKind::Busy);
    EXPECT_EQ(taken.error().message(),
              "use subnet 192.168.0.0/24: it is taken by route 192.168.0.0/24 dev tun0");
    auto blackhole = check_subnet_free(private_subnet_24(1));
    ASSERT_FALSE(blackhole);
    EXPECT_EQ(blackhole.error().message(),
              "use subnet 192.168.1.0/24: it is taken by route 192.168.1.0/24");
    EXPECT_TRUE(check_subnet_free(private_subnet_24(2)));
}

TEST_F(SubnetPick, CheckNamesTheInterfaceAddressThatHoldsTheSubnet) {
    ASSERT_TRUE(create_link("lan0", "bridge"));
    ASSERT_TRUE(add_address("lan0", "192.168.7.23/24"));
    auto taken = check_subnet_free(private_subnet_24(7));
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().message(),
              "use subnet 192.168.7.0/24: it is taken by address 192.168.7.23/24 on lan0");
    EXPECT_FALSE(taken.error().hint.empty());
}

} // namespace
} // namespace fleetbox
