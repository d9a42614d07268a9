// inspect() on disks built by the test (disk_builder.hpp): whole-disk ext4 (Debian's
// top-level symlinks), GPT with /boot on the root (BIOS boot + ESP partitions), GPT with a
// separate boot partition (Ubuntu), two kernel versions, symlinks that try to leave the
// image, an unversioned kernel's header version, the qcow2 path, and the no-kernel cases.
#include "disk_builder.hpp"
#include "diskimage/diskimage.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <random>
#include <unistd.h>

namespace fleetbox::diskimage {
namespace {

using namespace test_disks;
using ::testing::HasSubstr;

constexpr const char* kRootUuid = "0b7e6a52-3a64-4c2b-9d5e-2f1c8e0d7a11";
constexpr const char* kBootUuid = "5f1d9c3e-8b2a-4e77-a1c4-6d3e9b0f2c22";

const std::vector<Entry> kDebianBase = {
    {"usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"},
    {"etc/os-release", "->../usr/lib/os-release"},
    {"usr/bin/cloud-init", "#!/bin/sh\n"},
    {"etc/shadow", "image shadow\n"},
};

std::vector<Entry> with(std::vector<Entry> base, const std::vector<Entry>& more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
}

class Inspect : public ::testing::Test {
protected:
    void SetUp() override {
        if (!tools_present())
            GTEST_SKIP() << "mkfs.ext4, sfdisk or qemu-img is not installed";
        std::filesystem::create_directories(work());
        std::filesystem::create_directories(out());
    }
    std::string file(const std::string& name) const { return dir_.file(name); }
    std::string work() const { return dir_.file("work"); }
    std::string out() const { return dir_.file("out"); }

    // An ext4 image of `mib` MiB from `entries`.
    std::string ext4(const std::string& name, const std::vector<Entry>& entries,
                     const std::string& uuid, int mib = 8) {
        std::string tree = file(name + ".tree");
        make_tree(tree, entries);
        std::string image = file(name + ".ext4");
        make_ext4(image, tree, mib, uuid);
        return image;
    }

    // GPT like Debian's cloud images: 14 BIOS boot, 15 ESP, 1 root (after them).
    std::string debian_gpt(const std::vector<Entry>& root_entries) {
        std::string disk = file("gpt.raw");
        partition(disk, 24, "gpt",
                  {"14 : start=2048, size=2048, type=" + std::string(kBiosBoot),
                   "15 : start=4096, size=8192, type=" + std::string(kEsp),
                   "1 : start=12288, size=32768, type=" + std::string(kLinuxFs)});
        place(ext4("root", root_entries, kRootUuid, 16), disk, 12288 * kSector);
        return disk;
    }

    Inspection ok(const std::string& disk, Format format) {
        auto ins = inspect(disk, format, work(), out());
        EXPECT_TRUE(ins) << ins.error().message();
        EXPECT_TRUE(list_dir(work())->empty()) << "the temporary raw file is left behind";
        return ins ? *ins : Inspection{};
    }

    test::ScratchDir dir_;
};

TEST_F(Inspect, WholeDiskExt4WithDebianTopLevelSymlinks) {
    std::string disk = ext4("disk",
                            with(kDebianBase, {{"boot/vmlinuz-6.1.0-28-amd64", "kernel 28\n"},
                                               {"boot/initrd.img-6.1.0-28-amd64", "initrd 28\n"},
                                               {"vmlinuz", "->boot/vmlinuz-6.1.0-28-amd64"},
                                               {"initrd.img", "->boot/initrd.img-6.1.0-28-amd64"}}),
                            kRootUuid, 8);
    Inspection ins = ok(disk, Format::Raw);
    EXPECT_EQ(ins.partition_table, "");
    ASSERT_TRUE(ins.kernel) << ins.why_no_kernel;
    EXPECT_EQ(ins.kernel->kernel_version, "6.1.0-28-amd64");
    EXPECT_EQ(ins.kernel->root_arg, std::string("UUID=") + kRootUuid);
    EXPECT_EQ(ins.os_name, "Debian GNU/Linux 12 (bookworm)");
    EXPECT_EQ(ins.has_cloud_init, std::optional<bool>(true));
    EXPECT_FALSE(ins.firmware_bootable);
    EXPECT_EQ(test::read_text(out() + "/vmlinuz"), "kernel 28\n");
    EXPECT_EQ(test::read_text(out() + "/initrd.img"), "initrd 28\n");
    EXPECT_EQ(*list_dir(out()), (std::vector<std::string>{"initrd.img", "vmlinuz"}));
}

TEST_F(Inspect, GptRootOnPartitionOneThroughQcow2PicksTheNewestPair) {
    std::string raw =
        debian_gpt(with(kDebianBase, {
                                         {"boot/vmlinuz-6.1.0-9-amd64", "kernel 9\n"},
                                         {"boot/initrd.img-6.1.0-9-amd64", "initrd 9\n"},
                                         {"boot/vmlinuz-6.1.0-28-amd64", "kernel 28\n"},
                                         {"boot/initrd.img-6.1.0-28-amd64", "initrd 28\n"},
                                         // no initrd: skipped
                                         {"boot/vmlinuz-6.1.0-30-amd64", "kernel 30\n"},
                                         {"boot/vmlinuz-6.1.0-31-amd64.old", "old\n"},
                                         {"boot/initrd.img-6.1.0-31-amd64.old", "old\n"},
                                     }));
    std::string qcow2 = file("disk.img"); // the name says nothing about the format
    to_qcow2(raw, qcow2);
    for (auto [path, format] : {std::pair{raw, Format::Raw}, std::pair{qcow2, Format::Qcow2}}) {
        SCOPED_TRACE(path);
        Inspection ins = ok(path, format);
        EXPECT_EQ(ins.partition_table, "gpt");
        ASSERT_TRUE(ins.kernel) << ins.why_no_kernel;
        EXPECT_EQ(ins.kernel->kernel_version, "6.1.0-28-amd64");
        EXPECT_EQ(ins.kernel->root_arg, std::string("UUID=") + kRootUuid);
        EXPECT_TRUE(ins.firmware_bootable); // the BIOS boot partition
        EXPECT_EQ(test::read_text(out() + "/vmlinuz"), "kernel 28\n");
        EXPECT_EQ(test::read_text(out() + "/initrd.img"), "initrd 28\n");
    }
}

TEST_F(Inspect, SeparateBootPartitionLikeUbuntu) {
    std::string disk = file("ubuntu.raw");
    partition(disk, 40, "gpt",
              {"14 : start=2048, size=2048, type=" + std::string(kBiosBoot),
               "15 : start=4096, size=8192, type=" + std::string(kEsp),
               "16 : start=12288, size=16384, type=" + std::string(kXbootldr),
               "1 : start=28672, size=32768, type=" + std::string(kLinuxFs)});
    place(ext4("root",
               {{"usr/lib/os-release", "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n"},
                {"etc/os-release", "->../usr/lib/os-release"},
                {"lib", "->usr/lib"},
                {"usr/lib/systemd/system/cloud-init.service", "[Unit]\n"},
                {"boot", "<dir>"}},
               kRootUuid, 16),
          disk, 28672 * kSector);
    place(ext4("boot",
               {{"vmlinuz-6.8.0-31-generic", "kernel 31\n"},
                {"initrd.img-6.8.0-31-generic", "initrd 31\n"},
                {"vmlinuz-6.8.0-40-generic", "kernel 40\n"},
                {"initrd.img-6.8.0-40-generic", "initrd 40\n"},
                {"vmlinuz", "->vmlinuz-6.8.0-40-generic"},
                {"initrd.img", "->initrd.img-6.8.0-40-generic"},
                {"vmlinuz.old", "->vmlinuz-6.8.0-31-generic"}},
               kBootUuid, 8),
          disk, 12288 * kSector);
    Inspection ins = ok(disk, Format::Raw);
    EXPECT_EQ(ins.partition_table, "gpt");
    ASSERT_TRUE(ins.kernel) << ins.why_no_kernel;
    EXPECT_EQ(ins.kernel->kernel_version, "6.8.0-40-generic");
    EXPECT_EQ(ins.kernel->root_arg, std::string("UUID=") + kRootUuid); // the root's, not /boot's
    EXPECT_EQ(ins.os_name, "Ubuntu 24.04.1 LTS");
    EXPECT_EQ(ins.has_cloud_init, std::optional<bool>(true)); // via lib -> usr/lib
    EXPECT_EQ(test::read_text(out() + "/vmlinuz"), "kernel 40\n");
    EXPECT_EQ(test::read_text(out() + "/initrd.img"), "initrd 40\n");
}

TEST_F(Inspect, UnversionedSymlinkIsPreferredOverTheNewestVersion) {
    std::string disk =
        debian_gpt(with(kDebianBase, {
                                         {"boot/vmlinuz-6.1.0-9-amd64", "kernel 9\n"},
                                         {"boot/initrd.img-6.1.0-9-amd64", "initrd 9\n"},
                                         {"boot/vmlinuz-6.1.0-28-amd64", "kernel 28\n"},
                                         {"boot/initrd.img-6.1.0-28-amd64", "initrd 28\n"},
                                         {"boot/vmlinuz", "->/boot/vmlinuz-6.1.0-9-amd64"},
                                         {"boot/initrd.img", "->initrd.img-6.1.0-9-amd64"},
                                     }));
    Inspection ins = ok(disk, Format::Raw);
    ASSERT_TRUE(ins.kernel) << ins.why_no_kernel;
    EXPECT_EQ(ins.kernel->kernel_version, "6.1.0-9-amd64");
    EXPECT_EQ(test::read_text(out() + "/vmlinuz"), "kernel 9\n");
    EXPECT_EQ(test::read_text(out() + "/initrd.img"), "initrd 9\n");
}

TEST_F(Inspect, EscapingSymlinksResolveInsideTheImage) {
    // Relative with more ".." than there are directories, and absolute: both land on the
    // image's own /etc/shadow, never the host's.
    std::string disk = ext4("disk",
                            with(kDebianBase, {{"boot/vmlinuz", "->../../../../etc/shadow"},
                                               {"boot/initrd.img", "->/etc/shadow"}}),
                            kRootUuid, 8);
    Inspection ins = ok(disk, Format::Raw);
    ASSERT_TRUE(ins.kernel) << ins.why_no_kernel;
    EXPECT_EQ(test::read_text(out() + "/vmlinuz"), "image shadow\n");
    EXPECT_EQ(test::read_text(out() + "/initrd.img"), "image shadow\n");
    EXPECT_EQ(ins.kernel->kernel_version, "unknown");
}

TEST_F(Inspect, SymlinksToHostOnlyPathsAndLoopsAreNotFollowedOutOfTheImage) {
    // /etc/passwd exists on the host, not in the image: the unversioned pair does not
    // resolve, so the versioned one is used. A symlink loop is given up on.
    std::string disk = ext4("disk",
                            with(kDebianBase, {{"boot/vmlinuz", "->/etc/passwd"},
                                               {"boot/initrd.img", "->initrd.img"},
                                               {"vmlinuz", "->vmlinuz"},
                                               {"initrd.img", "->../../etc/passwd"},
                                               {"boot/vmlinuz-6.1.0-28-amd64", "kernel 28\n"},
                                               {"boot/initrd.img-6.1.0-28-amd64", "initrd 28\n"}}),
                            kRootUuid, 8);
    Inspection ins = ok(disk, Format::Raw);
    ASSERT_TRUE(ins.kernel) << ins.why_no_kernel;
    EXPECT_EQ(ins.kernel->kernel_version, "6.1.0-28-amd64");
    EXPECT_EQ(test::read_text(out() + "/vmlinuz"), "kernel 28\n");
}

TEST_F(Inspect, UnversionedRegularFileTakesItsVersionFromTheKernelHeader) {
    std::string disk = ext4("disk",
                            with(kDebianBase, {{"boot/vmlinuz", fake_bzimage("6.5.0-7-test")},
                                               {"boot/initrd.img", "initrd\n"}}),
                            kRootUuid, 8);
    Inspection ins = ok(disk, Format::Raw);
    ASSERT_TRUE(ins.kernel) << ins.why_no_kernel;
    EXPECT_EQ(ins.kernel->kernel_version, "6.5.0-7-test");
}

TEST_F(Inspect, NoKernelButMbrBootCodeIsFirmwareBootable) {
    std::string disk = file("dos.raw");
    partition(disk, 16, "dos", {"1 : start=2048, size=16384, type=83"});
    place(ext4("root", kDebianBase, kRootUuid, 8), disk, 2048 * kSector);
    poke(disk, 0, std::string("\xeb\x63\x90\x10\x8e\xd0\xbc\x00\xb0\xb8", 10)); // boot code
    Inspection ins = ok(disk, Format::Raw);
    EXPECT_EQ(ins.partition_table, "dos");
    EXPECT_FALSE(ins.kernel);
    EXPECT_TRUE(ins.firmware_bootable);
    EXPECT_THAT(ins.why_no_kernel, HasSubstr("partitions: 1 ext4"));
    EXPECT_EQ(ins.has_cloud_init, std::optional<bool>(true));
    EXPECT_TRUE(list_dir(out())->empty());
}

TEST_F(Inspect, NoKernelNoBootCodeSaysWhatWasLookedAt) {
    std::string disk = file("gpt.raw");
    partition(disk, 24, "gpt",
              {"15 : start=4096, size=8192, type=" + std::string(kEsp),
               "1 : start=12288, size=32768, type=" + std::string(kLinuxFs)});
    // A root without cloud-init and with an empty /boot.
    place(ext4("root",
               {{"etc/os-release", "PRETTY_NAME='Plain OS'\n"}, {"boot/grub/grub.cfg", "#\n"}},
               kRootUuid, 16),
          disk, 12288 * kSector);
    // The ESP gets a FAT filesystem when dosfstools is installed (it is not a build
    // dependency); either way it is listed, and never opened as ext.
    const bool vfat = !find_program("mkfs.vfat").empty();
    if (vfat) {
        std::string esp = file("esp.vfat");
        run_ok({"mkfs.vfat", "-C", esp, "4096"});
        place(esp, disk, 4096 * kSector);
    }
    Inspection ins = ok(disk, Format::Raw);
    EXPECT_FALSE(ins.kernel);
    EXPECT_FALSE(ins.firmware_bootable); // protective MBR: no boot code, no BIOS boot partition
    EXPECT_THAT(ins.why_no_kernel, HasSubstr("no ext2/3/4 filesystem with /boot/vmlinuz*"));
    EXPECT_THAT(ins.why_no_kernel,
                HasSubstr(vfat ? "partitions: 1 ext4, 15 vfat" : "partitions: 1 ext4, 15 unknown"));
    EXPECT_EQ(ins.os_name, "Plain OS");
    EXPECT_EQ(ins.has_cloud_init, std::optional<bool>(false));
}

TEST_F(Inspect, NoFilesystemAtAll) {
    std::string disk = file("empty-gpt.raw");
    partition(disk, 8, "gpt", {"1 : start=2048, size=8192, type=" + std::string(kLinuxFs)});
    Inspection ins = ok(disk, Format::Raw);
    EXPECT_FALSE(ins.kernel);
    EXPECT_EQ(ins.has_cloud_init, std::nullopt); // no readable root filesystem
    EXPECT_THAT(ins.why_no_kernel, HasSubstr("partitions: 1 unknown"));
}

TEST_F(Inspect, VmlinuzWithoutInitrdIsNamed) {
    std::string disk =
        ext4("disk", with(kDebianBase, {{"boot/vmlinuz-6.1.0-28-amd64", "k\n"}}), kRootUuid, 8);
    Inspection ins = ok(disk, Format::Raw);
    EXPECT_FALSE(ins.kernel);
    EXPECT_THAT(ins.why_no_kernel, HasSubstr("/boot has vmlinuz* but no matching initrd.img"));
    EXPECT_THAT(ins.why_no_kernel, HasSubstr("whole disk ext4"));
}

TEST_F(Inspect, BackingAndDataFilesAreRefusedBeforeQemuImgRuns) {
    std::string base = file("base.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", base, "16M"});
    std::string overlay = file("overlay.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, overlay});
    std::string split = file("split.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=" + file("data.bin"), split,
            "4M"});
    // From here on, qemu-img only leaves a mark that it ran.
    std::string bin = file("bin");
    std::filesystem::create_directories(bin);
    std::string mark = file("qemu-img-ran");
    test::write_text(bin + "/qemu-img", "#!/bin/sh\ntouch " + mark + "\nexit 1\n", 0755);
    test::ScopedEnv path("PATH", bin + ":/usr/bin:/bin");
    for (const auto& [image, says] : {std::pair{overlay, "has a backing file (" + base + ")"},
                                      std::pair{split, std::string("external data file")}}) {
        SCOPED_TRACE(image);
        auto ins = inspect(image, Format::Qcow2, work(), out());
        ASSERT_FALSE(ins);
        EXPECT_EQ(ins.error().kind, ErrorKind::InvalidArgument);
        EXPECT_THAT(ins.error().message(), HasSubstr(says));
        auto facts = check_disk(image, Format::Qcow2);
        ASSERT_FALSE(facts);
        EXPECT_THAT(facts.error().message(), HasSubstr(says));
    }
    EXPECT_FALSE(path_exists(mark));
    EXPECT_TRUE(list_dir(work())->empty());
}

TEST_F(Inspect, LogicalPartitionInAnExtendedOne) {
    std::string disk = file("dos.raw");
    partition(disk, 24, "dos",
              {"1 : start=2048, size=4096, type=c", "2 : start=6144, size=40000, type=5",
               "5 : start=8192, size=32768, type=83"});
    place(ext4("root",
               with(kDebianBase, {{"boot/vmlinuz-6.1.0-28-amd64", "kernel 28\n"},
                                  {"boot/initrd.img-6.1.0-28-amd64", "initrd 28\n"}}),
               kRootUuid, 16),
          disk, 8192 * kSector);
    Inspection ins = ok(disk, Format::Raw);
    EXPECT_EQ(ins.partition_table, "dos");
    ASSERT_TRUE(ins.kernel) << ins.why_no_kernel;
    EXPECT_EQ(ins.kernel->root_arg, std::string("UUID=") + kRootUuid);
}

TEST_F(Inspect, DiskFullWhileConvertingIsNoSpace) {
    std::string qcow2 = file("disk.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", qcow2, "16M"});
    // A qemu-img that fails the way a full disk makes it fail.
    std::string bin = file("bin");
    std::filesystem::create_directories(bin);
    test::write_text(bin + "/qemu-img",
                     "#!/bin/sh\necho 'qemu-img: error while writing at byte 0: No space left on "
                     "device' >&2\nexit 1\n",
                     0755);
    test::ScopedEnv path("PATH", bin + ":/usr/bin:/bin");
    auto ins = inspect(qcow2, Format::Qcow2, work(), out());
    ASSERT_FALSE(ins);
    EXPECT_EQ(ins.error().kind, ErrorKind::NoSpace);
    EXPECT_THAT(ins.error().message(), HasSubstr("disk full while converting"));
    EXPECT_THAT(ins.error().hint, HasSubstr(work()));
    EXPECT_TRUE(list_dir(work())->empty());
}

TEST_F(Inspect, MissingQemuImgIsNamed) {
    std::string qcow2 = file("disk.qcow2");
    run_ok({"qemu-img", "create", "-q", "-f", "qcow2", qcow2, "16M"});
    test::ScopedEnv path("PATH", file("empty-bin"));
    auto ins = inspect(qcow2, Format::Qcow2, work(), out());
    ASSERT_FALSE(ins);
    EXPECT_EQ(ins.error().kind, ErrorKind::MissingDependency);
    EXPECT_THAT(ins.error().hint, HasSubstr("qemu-utils"));
    EXPECT_TRUE(list_dir(work())->empty());
}

TEST_F(Inspect, CorruptFilesystemsNeverCrashIt) {
    // The same disk with its metadata overwritten in different places by pseudo-random
    // bytes: inspect may find less, or fail with an error, but returns.
    std::string clean = ext4("disk",
                             with(kDebianBase, {{"boot/vmlinuz-6.1.0-28-amd64", "kernel 28\n"},
                                                {"boot/initrd.img-6.1.0-28-amd64", "initrd 28\n"},
                                                {"vmlinuz", "->boot/vmlinuz-6.1.0-28-amd64"}}),
                             kRootUuid, 8);
    std::mt19937 gen(7);
    for (std::uint64_t offset : {1024ULL, 4096ULL, 8192ULL, 1ULL << 20, 2ULL << 20, 4ULL << 20}) {
        SCOPED_TRACE(offset);
        std::string disk = file("corrupt.raw");
        std::filesystem::copy_file(clean, disk, std::filesystem::copy_options::overwrite_existing);
        std::string noise(offset == 1024 ? 512 : 64 * 1024, '\0');
        for (std::size_t i = offset == 1024 ? 100 : 0; i < noise.size(); ++i)
            noise[i] = static_cast<char>(gen() & 0xff);
        if (offset == 1024) // keep the superblock's first bytes, break the rest of it
            noise.replace(0, 100, test::read_text(clean).substr(1024, 100));
        poke(disk, offset, noise);
        auto ins = inspect(disk, Format::Raw, work(), out());
        if (ins && ins->kernel) {
            EXPECT_EQ(test::read_text(out() + "/vmlinuz"), "kernel 28\n");
        }
    }
}

TEST_F(Inspect, AFilesystemLargerThanItsPartitionIsNotRead) {
    std::string disk = file("gpt.raw");
    partition(disk, 24, "gpt", {"1 : start=2048, size=16384, type=" + std::string(kLinuxFs)});
    // 16 MiB of filesystem in an 8 MiB partition (its tail is cut off).
    std::string fs = ext4("root",
                          with(kDebianBase, {{"boot/vmlinuz-6.1.0-28-amd64", "k\n"},
                                             {"boot/initrd.img-6.1.0-28-amd64", "i\n"}}),
                          kRootUuid, 16);
    place(fs, disk, 2048 * kSector);
    Inspection ins = ok(disk, Format::Raw);
    EXPECT_FALSE(ins.kernel);
    EXPECT_THAT(ins.why_no_kernel,
                HasSubstr("1 ext4 (unreadable: the filesystem is larger than its partition)"));
}

TEST_F(Inspect, AKernelOverTheSizeLimitIsNotExtracted) {
    std::string tree = file("big.tree");
    make_tree(tree, with(kDebianBase, {{"boot/vmlinuz-6.1.0-28-amd64", ""},
                                       {"boot/initrd.img-6.1.0-28-amd64", "initrd\n"}}));
    // 257 MiB, sparse (mkfs.ext4 -d keeps the hole, so the filesystem stays small).
    std::filesystem::resize_file(tree + "/boot/vmlinuz-6.1.0-28-amd64", 257ULL << 20);
    std::string disk = file("big.ext4");
    make_ext4(disk, tree, 16, kRootUuid);
    Inspection ins = ok(disk, Format::Raw);
    EXPECT_FALSE(ins.kernel);
    EXPECT_THAT(ins.why_no_kernel,
                HasSubstr("/boot/vmlinuz-6.1.0-28-amd64 is larger than 256.0 MiB"));
    EXPECT_TRUE(list_dir(out())->empty());
}

TEST_F(Inspect, RelativePathsWithColonsAreFiles) {
    // "nbd:..." or "a:b/..." given to qemu-img as plain names would be parsed as protocols.
    std::string raw = ext4("disk",
                           with(kDebianBase, {{"boot/vmlinuz-6.1.0-28-amd64", "k\n"},
                                              {"boot/initrd.img-6.1.0-28-amd64", "i\n"}}),
                           kRootUuid, 8);
    to_qcow2(raw, file("nbd:127.0.0.1:9"));
    std::filesystem::create_directories(file("work:dir"));
    ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
    auto ins = inspect("nbd:127.0.0.1:9", Format::Qcow2, "work:dir", "out");
    ASSERT_EQ(::chdir("/"), 0);
    ASSERT_TRUE(ins) << ins.error().message();
    ASSERT_TRUE(ins->kernel) << ins->why_no_kernel;
    EXPECT_EQ(test::read_text(out() + "/vmlinuz"), "k\n");
    EXPECT_TRUE(list_dir(file("work:dir"))->empty());
}

} // namespace
} // namespace fleetbox::diskimage
