// Content sniffing on files holding known magic bytes: each non-disk format is named in one
// line with a hint; names and extensions never matter; the qcow2 header checks.
#include "diskimage/diskimage.hpp"
#include "diskimage/qcow2_header.hpp"
#include "support/test_support.hpp"

#include <filesystem>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <random>

namespace fleetbox::diskimage {
namespace {

using ::testing::HasSubstr;

class Sniff : public ::testing::Test {
protected:
    std::string put(const std::string& name, const std::string& bytes) {
        std::string path = dir_.file(name);
        test::write_text(path, bytes);
        return path;
    }
    static std::string at(std::size_t offset, const std::string& magic, std::size_t size = 4096) {
        std::string bytes(std::max(size, offset + magic.size()), '\0');
        bytes.replace(offset, magic.size(), magic);
        return bytes;
    }
    test::ScratchDir dir_;
};

TEST_F(Sniff, NamesWhatANonDiskFileIs) {
    struct Case {
        std::string bytes;
        std::string what;
        std::string hint;
    };
    const std::vector<Case> cases = {
        {at(0, std::string("\xfd"
                           "7zXZ\0",
                           6)),
         "is xz-compressed data", "decompress it first"},
        {at(0, "\x1f\x8b\x08"), "is gzip-compressed data", "decompress it first"},
        {at(0, "\x28\xb5\x2f\xfd"), "is zstd-compressed data", "decompress it first"},
        {at(0, "BZh91AY&SY"), "is bzip2-compressed data", "decompress it first"},
        {at(257, "ustar\00000"), "is a tar archive", "tar -xf"},
        {at(0x8001, "CD001", 40000), "is an ISO 9660 (CD/DVD) image", "cloud image"},
        {at(0, "KDMV"), "is a VMDK image", "qemu-img convert"},
        {at(0, "vhdxfile"), "is a VHDX image", "qemu-img convert"},
        {at(0, "conectix"), "is a VHD image", "qemu-img convert"},
        {at(0x40, "\x7f\x10\xda\xbe"), "is a VirtualBox VDI image", "qemu-img convert"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        std::string path = put("image.qcow2", c.bytes); // the name never matters
        auto r = sniff_format(path);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
        EXPECT_EQ(r.error().message(), path + " " + c.what + ", not a disk image");
        EXPECT_THAT(r.error().hint, HasSubstr(c.hint));
    }
}

TEST_F(Sniff, AnIsoWithAnMbrIsStillAnIso) {
    std::string bytes = at(0x8001, "CD001", 40000);
    bytes[510] = '\x55';
    bytes[511] = '\xaa';
    auto r = sniff_format(put("hybrid.iso", bytes));
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message(), HasSubstr("ISO 9660"));
}

TEST_F(Sniff, EmptyRandomAndTextFilesAreNeither) {
    auto empty = sniff_format(put("empty.raw", ""));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message(), dir_.file("empty.raw") + " is empty");

    std::mt19937 gen(42);
    std::string noise(1 << 20, '\0');
    for (char& c : noise)
        c = static_cast<char>(gen() & 0xff);
    noise[510] = 0; // no boot signature by chance
    for (const auto& [name, bytes] : {std::pair<std::string, std::string>{"random.raw", noise},
                                      {"notes.qcow2", "just some text\n"}}) {
        SCOPED_TRACE(name);
        auto r = sniff_format(put(name, bytes));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
        EXPECT_EQ(r.error().message(),
                  dir_.file(name) + " is neither a qcow2 nor a raw disk image");
        EXPECT_THAT(r.error().hint, HasSubstr("qcow2 or raw disk image"));
    }
}

TEST_F(Sniff, BootSignatureMakesARawDisk) {
    std::string sector(1024, '\0');
    sector[510] = '\x55';
    sector[511] = '\xaa';
    EXPECT_EQ(sniff_format(put("disk.qcow2", sector)), Format::Raw);
}

TEST_F(Sniff, QcowVersions) {
    auto header = [](std::uint32_t version) {
        std::string h(512, '\0');
        h.replace(0, 4, "QFI\xfb");
        h[7] = static_cast<char>(version);
        return h;
    };
    EXPECT_EQ(sniff_format(put("a.raw", header(2))), Format::Qcow2);
    EXPECT_EQ(sniff_format(put("b.raw", header(3))), Format::Qcow2);
    auto v1 = sniff_format(put("c.raw", header(1)));
    ASSERT_FALSE(v1);
    EXPECT_THAT(v1.error().message(), HasSubstr("is a qcow version 1 image"));
    auto truncated = sniff_format(put("d.raw", "QFI\xfb\0\0\0\3"));
    ASSERT_FALSE(truncated);
    EXPECT_THAT(truncated.error().message(), HasSubstr("truncated qcow2"));
}

TEST_F(Sniff, MissingPathsAndDirectories) {
    auto missing = sniff_format(dir_.file("nope.qcow2"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
    auto directory = sniff_format(dir_.path());
    ASSERT_FALSE(directory);
    EXPECT_EQ(directory.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(directory.error().message(), HasSubstr("is not a regular file"));
}

std::string qcow2_header(std::uint64_t backing_offset, std::uint32_t backing_size,
                         std::uint32_t crypt, std::uint64_t incompat) {
    std::string h(4096, '\0');
    h.replace(0, 4, "QFI\xfb");
    h[7] = 3;
    auto put_be = [&h](std::size_t off, std::uint64_t v, std::size_t width) {
        for (std::size_t i = 0; i < width; ++i)
            h[off + i] = static_cast<char>((v >> (8 * (width - 1 - i))) & 0xff);
    };
    put_be(8, backing_offset, 8);
    put_be(16, backing_size, 4);
    put_be(32, crypt, 4);
    put_be(72, incompat, 8);
    return h;
}

TEST(Qcow2Header, RefusesBackingDataFileAndEncryption) {
    auto plain = parse_qcow2_header(qcow2_header(0, 0, 0, 0));
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->version, 3U);
    EXPECT_TRUE(refuse_unsafe_qcow2("x.qcow2", *plain));

    std::string with_backing = qcow2_header(512, 9, 0, 0);
    with_backing.replace(512, 9, "/etc/\x01ops");
    auto backing = parse_qcow2_header(with_backing);
    ASSERT_TRUE(backing);
    auto refused = refuse_unsafe_qcow2("x.qcow2", *backing);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message(), "x.qcow2 has a backing file (/etc/?ops)");

    // A backing name pointing outside the bytes read is not quoted, still refused.
    auto far = parse_qcow2_header(qcow2_header(1ULL << 40, 100, 0, 0));
    ASSERT_TRUE(far);
    EXPECT_EQ(refuse_unsafe_qcow2("x.qcow2", *far).error().message(), "x.qcow2 has a backing file");

    auto data_file = parse_qcow2_header(qcow2_header(0, 0, 0, 1U << 2));
    ASSERT_TRUE(data_file);
    EXPECT_THAT(refuse_unsafe_qcow2("x.qcow2", *data_file).error().message(),
                HasSubstr("external data file"));

    auto encrypted = parse_qcow2_header(qcow2_header(0, 0, 2, 0));
    ASSERT_TRUE(encrypted);
    EXPECT_THAT(refuse_unsafe_qcow2("x.qcow2", *encrypted).error().message(),
                HasSubstr("is encrypted"));

    EXPECT_FALSE(parse_qcow2_header("QFI\xfb"));
}

} // namespace
} // namespace fleetbox::diskimage
