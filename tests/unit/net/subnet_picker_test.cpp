// choose_free_subnet(): first 192.168.X.0/24, ascending, not overlapping host addresses or
// main-table routes and not taken; check_subnet_free() names what holds a requested subnet.
// Pure functions: no kernel involved.
#include "net/subnet_picker.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

InterfaceAddress addr(const char* ip, int prefix, const char* ifname = "eth0") {
    InterfaceAddress a;
    a.ifname = ifname;
    a.address = *parse_ipv4(ip);
    a.prefix = prefix;
    return a;
}

TEST(SubnetPicker, FirstIsZeroOnAnEmptyHost) {
    auto s = choose_free_subnet({addr("127.0.0.1", 8, "lo")}, {});
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->cidr, "192.168.0.0/24");
    EXPECT_EQ(s->gateway, "192.168.0.1");
}

TEST(SubnetPicker, SkipsSubnetsOverlappingHostAddresses) {
    auto s = choose_free_subnet({addr("192.168.0.23", 24), addr("192.168.1.7", 32)}, {});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->cidr, "192.168.2.0/24");
    s = choose_free_subnet({addr("192.168.0.9", 23)}, {}); // covers .0 and .1
    ASSERT_TRUE(s);
    EXPECT_EQ(s->cidr, "192.168.2.0/24");
}

TEST(SubnetPicker, IgnoresAddressesOutside192168) {
    auto s = choose_free_subnet(
        {addr("10.0.0.1", 8), addr("172.16.5.1", 12), addr("192.169.0.1", 24)}, {});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->cidr, "192.168.0.0/24");
}

TEST(SubnetPicker, SkipsTakenSubnets) {
    auto s = choose_free_subnet({addr("192.168.1.1", 24)}, {"192.168.0.0/24", "192.168.2.0/24"});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->cidr, "192.168.3.0/24");
}

TEST(SubnetPicker, FullRangeIsAClearError) {
    auto s = choose_free_subnet({addr("192.168.77.1", 16)}, {});
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Busy);
    EXPECT_NE(s.error().message().find("no free /24 subnet available in 192.168.0.0/16"),
              std::string::npos);

    std::set<std::string> all;
    for (int x = 0; x < 255; ++x)
        all.insert(private_subnet_24(x).cidr);
    s = choose_free_subnet(HostNetworks{}, all);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->cidr, "192.168.255.0/24");
    all.insert("192.168.255.0/24");
    EXPECT_FALSE(choose_free_subnet(HostNetworks{}, all));
}

RouteInfo route(const char* destination, int prefix, const char* dev) {
    return RouteInfo{*parse_ipv4(destination), prefix, dev};
}

TEST(SubnetPicker, SkipsSubnetsCoveredByRoutes) {
    HostNetworks host;
    host.routes = {route("0.0.0.0", 0, "eth0"),       // default route: ignored
                   route("192.168.0.0", 24, "tun0"),  // a VPN's /24, no local address
                   route("192.168.1.128", 25, "wg0"), // overlaps .1.0/24
                   route("192.168.2.0", 23, "tun1"),  // covers .2 and .3
                   route("10.0.0.0", 8, "eth1")};
    auto s = choose_free_subnet(host, {});
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->cidr, "192.168.4.0/24");
    host.routes.push_back(route("192.168.0.0", 16, "tun9"));
    EXPECT_FALSE(choose_free_subnet(host, {})) << "a /16 route claims every candidate";
}

TEST(SubnetPicker, HolderNamesTheAddressOrTheRoute) {
    HostNetworks host;
    host.addresses = {addr("192.168.7.9", 24, "eth0")};
    host.routes = {route("192.168.5.0", 24, "tun0"), route("0.0.0.0", 0, "eth0")};
    EXPECT_EQ(subnet_holder(private_subnet_24(7), host), "address 192.168.7.9/24 on eth0");
    EXPECT_EQ(subnet_holder(private_subnet_24(5), host), "route 192.168.5.0/24 dev tun0");
    EXPECT_EQ(subnet_holder(private_subnet_24(6), host), std::nullopt);
}

TEST(SubnetPicker, CheckSubnetFreeSaysWhatHoldsItAndWhatToDo) {
    HostNetworks host;
    host.routes = {route("192.168.5.0", 24, "tun0")};
    host.addresses = {addr("192.168.9.1", 24, "fbx-0000aaaa")};
    EXPECT_TRUE(check_subnet_free(private_subnet_24(6), host));

    auto vpn = check_subnet_free(private_subnet_24(5), host);
    ASSERT_FALSE(vpn);
    EXPECT_EQ(vpn.error().kind, ErrorKind::Busy);
    EXPECT_EQ(vpn.error().message(),
              "use subnet 192.168.5.0/24: it is taken by route 192.168.5.0/24 dev tun0");
    EXPECT_NE(vpn.error().hint.find("free that address or route"), std::string::npos)
        << vpn.error().hint;
    EXPECT_EQ(vpn.error().hint.find("disk"), std::string::npos) << vpn.error().hint;

    auto ours = check_subnet_free(private_subnet_24(9), host);
    ASSERT_FALSE(ours);
    EXPECT_EQ(ours.error().message(),
              "use subnet 192.168.9.0/24: it is taken by address 192.168.9.1/24 on fbx-0000aaaa");
    EXPECT_NE(ours.error().hint.find("fleetbox prune"), std::string::npos) << ours.error().hint;
}

} // namespace
} // namespace fleetbox
