// IPv4 text <-> number, subnet parsing and the arithmetic the pool and picker rely on.
#include "net/ipv4.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

TEST(Ipv4, ParsesAndFormatsDottedQuads) {
    auto a = parse_ipv4("192.168.3.7");
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(*a, 0xC0A80307U);
    EXPECT_EQ(format_ipv4(*a), "192.168.3.7");
    EXPECT_EQ(format_ipv4(0), "0.0.0.0");
    EXPECT_EQ(format_ipv4(0xffffffffU), "255.255.255.255");
}

TEST(Ipv4, RejectsAnythingButAFullDottedQuad) {
    for (const char* bad :
         {"", "192.168.3", "192.168.3.256", "1.2.3.4.5", "a.b.c.d", " 1.2.3.4", "1.2.3.4/24"}) {
        auto a = parse_ipv4(bad);
        ASSERT_FALSE(a) << bad;
        EXPECT_EQ(a.error().kind, ErrorKind::InvalidArgument);
    }
}

TEST(Ipv4, PrefixMasks) {
    EXPECT_EQ(prefix_mask(0), 0U);
    EXPECT_EQ(prefix_mask(8), 0xff000000U);
    EXPECT_EQ(prefix_mask(24), 0xffffff00U);
    EXPECT_EQ(prefix_mask(32), 0xffffffffU);
}

TEST(Subnet, PrivateSubnet24HasGatewayDotOne) {
    const Subnet s = private_subnet_24(7);
    EXPECT_EQ(s.cidr, "192.168.7.0/24");
    EXPECT_EQ(s.gateway, "192.168.7.1");
    EXPECT_EQ(s.prefix, 24);
    EXPECT_EQ(s.network, 0xC0A80700U);
    EXPECT_EQ(format_ipv4(broadcast_of(s)), "192.168.7.255");
}

TEST(Subnet, ParseRoundTripsAndRejectsHostBits) {
    auto s = parse_subnet("10.20.0.0/16");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->cidr, "10.20.0.0/16");
    EXPECT_EQ(s->gateway, "10.20.0.1");
    EXPECT_EQ(*parse_subnet("192.168.200.0/24"), private_subnet_24(200));

    auto host_bits = parse_subnet("192.168.1.5/24");
    ASSERT_FALSE(host_bits);
    EXPECT_NE(host_bits.error().message().find("192.168.1.0/24"), std::string::npos)
        << host_bits.error().message();
    for (const char* bad : {"192.168.1.0", "192.168.1.0/", "192.168.1.0/33", "192.168.1.0/31",
                            "192.168.1.0/2x", "x/24"}) {
        EXPECT_FALSE(parse_subnet(bad)) << bad;
    }
}

TEST(Subnet, ContainsOnlyItsOwnAddresses) {
    const Subnet s = private_subnet_24(3);
    EXPECT_TRUE(contains(s, "192.168.3.0"));
    EXPECT_TRUE(contains(s, "192.168.3.255"));
    EXPECT_TRUE(contains(s, "192.168.3.77"));
    EXPECT_FALSE(contains(s, "192.168.4.1"));
    EXPECT_FALSE(contains(s, "192.168.2.255"));
    EXPECT_FALSE(contains(s, "not an ip"));
}

TEST(Subnet, OverlapMeansOnePrefixContainsTheOther) {
    const Subnet s = private_subnet_24(3);
    EXPECT_TRUE(overlaps(s, *parse_ipv4("192.168.3.9"), 32));
    EXPECT_TRUE(overlaps(s, *parse_ipv4("192.168.3.9"), 24));
    EXPECT_TRUE(overlaps(s, *parse_ipv4("192.168.0.1"), 16));  // a /16 covers every /24
    EXPECT_TRUE(overlaps(s, *parse_ipv4("192.168.2.1"), 23));  // 192.168.2.0/23 covers .3
    EXPECT_FALSE(overlaps(s, *parse_ipv4("192.168.4.1"), 23)); // 192.168.4.0/23
    EXPECT_FALSE(overlaps(s, *parse_ipv4("192.168.4.1"), 24));
    EXPECT_FALSE(overlaps(s, *parse_ipv4("10.0.0.1"), 8));
}

TEST(Subnet, IpForIndexStaysInsideTheSubnet) {
    const Subnet s = private_subnet_24(9);
    EXPECT_EQ(*ip_for_index(s, 1), "192.168.9.1");
    EXPECT_EQ(*ip_for_index(s, 2), "192.168.9.2");
    EXPECT_EQ(*ip_for_index(s, 255), "192.168.9.255");
    auto outside = ip_for_index(s, 256);
    ASSERT_FALSE(outside);
    EXPECT_EQ(outside.error().kind, ErrorKind::InvalidArgument);
}

} // namespace
} // namespace fleetbox
