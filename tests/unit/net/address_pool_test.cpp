// AddressPool: lowest free from .2, hints, idempotence per name, release, exhaustion.
#include "net/address_pool.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

AddressPool pool() {
    return AddressPool(private_subnet_24(5));
}

TEST(AddressPool, HandsOutLowestFreeFromDotTwo) {
    auto p = pool();
    EXPECT_EQ(*p.reserve("a"), "192.168.5.2");
    EXPECT_EQ(*p.reserve("b"), "192.168.5.3");
    EXPECT_EQ(*p.reserve("c"), "192.168.5.4");
}

TEST(AddressPool, SameNameGetsSameAddressAndIgnoresLaterHint) {
    auto p = pool();
    EXPECT_EQ(*p.reserve("a"), "192.168.5.2");
    EXPECT_EQ(*p.reserve("a", "192.168.5.50"), "192.168.5.2");
    EXPECT_EQ(*p.reserve("b"), "192.168.5.3");
    EXPECT_EQ(p.reservations().size(), 2U);
}

TEST(AddressPool, HonorsAUsableFreeHint) {
    auto p = pool();
    EXPECT_EQ(*p.reserve("a", "192.168.5.100"), "192.168.5.100");
    EXPECT_EQ(*p.reserve("b"), "192.168.5.2");
    EXPECT_EQ(p.address_of("a"), "192.168.5.100");
}

TEST(AddressPool, IgnoresUnusableHints) {
    auto p = pool();
    ASSERT_EQ(*p.reserve("holder", "192.168.5.20"), "192.168.5.20");
    // gateway, network, broadcast, outside, already taken, garbage: all fall back to lowest free
    EXPECT_EQ(*p.reserve("gw", "192.168.5.1"), "192.168.5.2");
    EXPECT_EQ(*p.reserve("net", "192.168.5.0"), "192.168.5.3");
    EXPECT_EQ(*p.reserve("bcast", "192.168.5.255"), "192.168.5.4");
    EXPECT_EQ(*p.reserve("outside", "192.168.6.9"), "192.168.5.5");
    EXPECT_EQ(*p.reserve("taken", "192.168.5.20"), "192.168.5.6");
    EXPECT_EQ(*p.reserve("garbage", "nonsense"), "192.168.5.7");
}

TEST(AddressPool, ReleaseFreesTheAddressForReuse) {
    auto p = pool();
    ASSERT_EQ(*p.reserve("a"), "192.168.5.2");
    ASSERT_EQ(*p.reserve("b"), "192.168.5.3");
    p.release("a");
    EXPECT_FALSE(p.address_of("a"));
    EXPECT_EQ(*p.reserve("c"), "192.168.5.2");
    p.release("never-reserved");                              // no-op
    EXPECT_EQ(*p.reserve("d", "192.168.5.3"), "192.168.5.4"); // b still holds .3
}

TEST(AddressPool, ExhaustionIsAClearError) {
    auto p = pool();
    for (int i = 2; i <= 254; ++i) {
        auto ip = p.reserve("vm" + std::to_string(i));
        ASSERT_TRUE(ip) << ip.error().message();
        EXPECT_EQ(*ip, "192.168.5." + std::to_string(i));
    }
    auto full = p.reserve("one-too-many");
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().kind, ErrorKind::Busy);
    EXPECT_NE(full.error().message().find("no free IP in subnet 192.168.5.0/24"), std::string::npos)
        << full.error().message();
    EXPECT_EQ(*p.reserve("vm100"), "192.168.5.100"); // existing names still resolve
    p.release("vm100");
    EXPECT_EQ(*p.reserve("one-too-many"), "192.168.5.100");
}

TEST(AddressPool, SmallSubnetExcludesNetworkGatewayAndBroadcast) {
    AddressPool p(*parse_subnet("10.0.0.0/30")); // .0 network, .1 gateway, .3 broadcast
    EXPECT_EQ(*p.reserve("only"), "10.0.0.2");
    EXPECT_FALSE(p.reserve("second"));
}

} // namespace
} // namespace fleetbox
