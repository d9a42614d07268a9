// sys/sha256: the FIPS 180-2 test vectors for strings and files, and the hex prefix the
// store derives socket names from.
#include "support/test_support.hpp"
#include "sys/sha256.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kTwoBlocks =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex("abc"), kAbc);
    EXPECT_EQ(sha256_hex(""), kEmpty);
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), kTwoBlocks);
    EXPECT_EQ(sha256("abc")[0], 0xba);
}

TEST(Sha256, HexPrefixIsCappedAtTheDigest) {
    EXPECT_EQ(sha256_hex_prefix("abc", 8), std::string(kAbc).substr(0, 16));
    EXPECT_EQ(sha256_hex_prefix("abc", 0), "");
    EXPECT_EQ(sha256_hex_prefix("abc", 100), kAbc);
}

TEST(Sha256, FilesLargerThanOneReadBlock) {
    test::ScratchDir dir;
    test::write_text(dir.file("abc"), "abc");
    test::write_text(dir.file("empty"), "");
    std::string big((std::size_t{1} << 20) + 17, 'a'); // crosses the 1 MiB read size
    test::write_text(dir.file("big"), big);
    EXPECT_EQ(sha256_file_hex(dir.file("abc")).value(), kAbc);
    EXPECT_EQ(sha256_file_hex(dir.file("empty")).value(), kEmpty);
    EXPECT_EQ(sha256_file_hex(dir.file("big")).value(), sha256_hex(big));
    auto missing = sha256_file_hex(dir.file("missing"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().err_no, ENOENT);
}

} // namespace
} // namespace fleetbox
