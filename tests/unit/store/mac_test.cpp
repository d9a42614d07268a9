// Name-derived MAC addresses and the SHA-256 helper (values cross-checked with Python's hashlib).
#include "store/mac.hpp"
#include "sys/sha256.hpp"

#include <gtest/gtest.h>
#include <regex>
#include <string>

namespace fleetbox {
namespace {

TEST(Mac, MatchesTheOriginalDerivation) {
    // sha256("fleetbox:" + name)[0..6], byte 0 = (b0 & 0xfe) | 0x02.
    EXPECT_EQ(mac_for_name("web-1"), "c2:e2:65:d7:2f:93");
    EXPECT_EQ(mac_for_name("dev"), "12:8b:86:ed:f3:bc");
    EXPECT_EQ(mac_for_name("a"), "5a:db:eb:50:58:fe");
}

TEST(Mac, IsLocallyAdministeredUnicastLowercase) {
    const std::regex format("^([0-9a-f]{2}:){5}[0-9a-f]{2}$");
    for (const std::string name : {"a", "web-1", "web-2", "node-2024", "x"}) {
        const std::string mac = mac_for_name(name);
        EXPECT_TRUE(std::regex_match(mac, format)) << mac;
        EXPECT_TRUE(is_valid_mac(mac)) << mac;
        const int b0 = std::stoi(mac.substr(0, 2), nullptr, 16);
        EXPECT_EQ(b0 & 0x01, 0) << "unicast " << mac;
        EXPECT_EQ(b0 & 0x02, 0x02) << "locally administered " << mac;
    }
}

TEST(Mac, StableAndDistinct) {
    EXPECT_EQ(mac_for_name("web-1"), mac_for_name("web-1"));
    EXPECT_NE(mac_for_name("web-1"), mac_for_name("web-2"));
}

TEST(Mac, Validation) {
    EXPECT_TRUE(is_valid_mac("52:54:00:12:34:56"));
    EXPECT_FALSE(is_valid_mac("52:54:00:12:34:5G"));
    EXPECT_FALSE(is_valid_mac("52:54:00:12:34:5A"));
    EXPECT_FALSE(is_valid_mac("52-54-00-12-34-56"));
    EXPECT_FALSE(is_valid_mac("52:54:00:12:34"));
    EXPECT_FALSE(is_valid_mac(""));
}

TEST(Digest, KnownValues) {
    EXPECT_EQ(sha256_hex_prefix("a", 8), "ca978112ca1bbdca");
    EXPECT_EQ(sha256_hex_prefix("", 32),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex_prefix("a", 100).size(), 64U); // capped at the digest size
}

} // namespace
} // namespace fleetbox
