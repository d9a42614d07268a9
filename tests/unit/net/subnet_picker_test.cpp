// choose_free_subnet(): first 192.168.X.0/24, ascending, not overlapping host addresses and
// not taken. Pure function: no kernel involved.
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
    s = choose_free_subnet({}, all);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->cidr, "192.168.255.0/24");
    all.insert("192.168.255.0/24");
    EXPECT_FALSE(choose_free_subnet({}, all));
}

} // namespace
} // namespace fleetbox
