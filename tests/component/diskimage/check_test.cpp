// sniff_format on real qcow2/raw/ext4 files (by content, whatever the name) and check_disk
// with the real qemu-img: virtual sizes, and the refusal of a backing file, an external data
// file and encryption.
#include "disk_builder.hpp"
#include "diskimage/diskimage.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace fleetbox::diskimage {
namespace {

using namespace test_disks;
using ::testing::HasSubstr;

class DiskChecks : public ::testing::Test {
protected:
    void SetUp() override {
        if (!tools_present())
            GTEST_SKIP() << "mkfs.ext4, sfdisk or qemu-img is not installed";
    }
    std::string file(const std::string& name) const { return dir_.file(name); }
    test::ScratchDir dir_;
};

TEST_F(DiskChecks, SniffsByContentNotByName) {
    std::string gpt = file("disk.qcow2"); // a raw GPT disk with a misleading name
    partition(gpt, 8, "gpt", {"1 : start=2048, size=8192, type=" + std::string(kLinuxFs)});
    std::string tree = file("tree");
    make_tree(tree, {{"etc/os-release", "ID=x\n"}});
    std::string ext4 = file("root.qcow2");
    make_ext4(ext4, tree, 4, "0b7e6a52-3a64-4c2b-9d5e-2f1c8e0d7a11");
    std::string qcow2 = file("disk.raw");
    to_qcow2(gpt, qcow2);
    std::string qcow2_v2 = file("old-compat");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=0.10", qcow2_v2, "1M"});

    EXPECT_EQ(sniff_format(gpt), Format::Raw);
    EXPECT_EQ(sniff_format(ext4), Format::Raw); // whole-disk filesystem, found by libblkid
    EXPECT_EQ(sniff_format(qcow2), Format::Qcow2);
    EXPECT_EQ(sniff_format(qcow2_v2), Format::Qcow2);
}

TEST_F(DiskChecks, ReportsTheVirtualSize) {
    std::string raw = file("disk.img");
    partition(raw, 8, "dos", {"1 : start=2048, size=8192, type=83"});
    std::string qcow2 = file("disk.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", qcow2, "3G"});

    auto r = check_disk(raw, Format::Raw);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->format, Format::Raw);
    EXPECT_EQ(r->virtual_size, 8ULL << 20);
    auto q = check_disk(qcow2, Format::Qcow2);
    ASSERT_TRUE(q) << q.error().message();
    EXPECT_EQ(q->format, Format::Qcow2);
    EXPECT_EQ(q->virtual_size, 3ULL << 30);
}

TEST_F(DiskChecks, AFileNameThatLooksLikeAProtocolIsAFile) {
    // "nbd:..." given to qemu-img as a plain name would be an NBD connection.
    std::string qcow2 = file("nbd:127.0.0.1:9");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", qcow2, "1M"});
    ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
    auto q = check_disk("nbd:127.0.0.1:9", Format::Qcow2);
    ASSERT_EQ(::chdir("/"), 0);
    ASSERT_TRUE(q) << q.error().message();
    EXPECT_EQ(q->virtual_size, 1ULL << 20);
}

TEST_F(DiskChecks, RefusesABackingFile) {
    std::string base = file("base.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", base, "16M"});
    std::string overlay = file("overlay.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, overlay});
    auto r = check_disk(overlay, Format::Qcow2);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr(overlay + " has a backing file (" + base + ")"));
    EXPECT_THAT(r.error().hint, HasSubstr("qemu-img convert -O qcow2"));
}

TEST_F(DiskChecks, RefusesAnExternalDataFile) {
    std::string data = file("data.bin");
    std::string qcow2 = file("split.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=" + data, qcow2, "4M"});
    auto r = check_disk(qcow2, Format::Qcow2);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr("external data file"));
}

TEST_F(DiskChecks, RefusesAnEncryptedImage) {
    std::string qcow2 = file("secret.qcow2");
    // AES (qcow2's own encryption): LUKS creation calibrates on CPU time, unavailable in
    // some containers.
    run_ok({"qemu-img", "create", "-q", "--object", "secret,id=sec0,data=pw", "-f", "qcow2", "-o",
            "encrypt.format=aes,encrypt.key-secret=sec0", qcow2, "4M"});
    auto r = check_disk(qcow2, Format::Qcow2);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr("is encrypted"));
}

TEST_F(DiskChecks, ACorruptQcow2IsReported) {
    std::string bad = file("bad.qcow2");
    std::string bytes(4096, '\0');
    bytes.replace(0, 8, std::string("QFI\xfb\0\0\0\3", 8));
    bytes[23] = 16;                                           // cluster_bits (64 KiB)
    bytes.replace(48, 8, "\xff\xff\xff\xff\xff\xff\xff\xff"); // refcount table offset
    test::write_text(bad, bytes);
    ASSERT_EQ(sniff_format(bad), Format::Qcow2);
    auto r = check_disk(bad, Format::Qcow2);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
    EXPECT_THAT(r.error().message(), HasSubstr("qemu-img cannot read it as qcow2"));
}

TEST_F(DiskChecks, AQcowGivenAsRawIsReadAsRaw) {
    // check_disk trusts the format it is given (sniff_format decides it): no probing.
    std::string qcow2 = file("disk.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", qcow2, "1G"});
    auto r = check_disk(qcow2, Format::Raw);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_LT(r->virtual_size, 1ULL << 30); // the file's own size
}

TEST_F(DiskChecks, ACompressedOrArchivedDiskIsNamedForWhatItIs) {
    std::string disk = file("disk.raw");
    partition(disk, 4, "gpt", {"1 : start=2048, size=4096, type=" + std::string(kLinuxFs)});
    struct Tool {
        const char* program;
        std::vector<std::string> argv; // writes file("out")
        const char* says;
    };
    const std::string out = file("out");
    const std::vector<Tool> tools = {
        {"gzip", {"sh", "-c", "gzip -c disk.raw > out"}, "is gzip-compressed data"},
        {"xz", {"sh", "-c", "xz -0 -c disk.raw > out"}, "is xz-compressed data"},
        {"zstd", {"sh", "-c", "zstd -q -c disk.raw > out"}, "is zstd-compressed data"},
        {"bzip2", {"sh", "-c", "bzip2 -c disk.raw > out"}, "is bzip2-compressed data"},
        {"tar", {"sh", "-c", "tar -cf out disk.raw"}, "is a tar archive"},
    };
    ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
    int ran = 0;
    for (const auto& t : tools) {
        if (find_program(t.program).empty())
            continue;
        SCOPED_TRACE(t.program);
        run_ok(t.argv);
        ++ran;
        auto r = sniff_format(out);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
        EXPECT_EQ(r.error().message(), out + " " + t.says + ", not a disk image");
    }
    ASSERT_EQ(::chdir("/"), 0);
    EXPECT_GE(ran, 2); // gzip and tar are always there
}

} // namespace
} // namespace fleetbox::diskimage
