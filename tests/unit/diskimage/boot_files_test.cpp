// The kernel choice rules: version order, the versioned pair, names and header versions,
// os-release's PRETTY_NAME, MBR boot code.
#include "diskimage/boot_files.hpp"

#include <gtest/gtest.h>

namespace fleetbox::diskimage {
namespace {

TEST(CompareVersions, NumbersCompareAsNumbers) {
    EXPECT_GT(compare_versions("6.1.0-28-amd64", "6.1.0-9-amd64"), 0);
    EXPECT_LT(compare_versions("5.10.0-30-amd64", "6.1.0-9-amd64"), 0);
    EXPECT_EQ(compare_versions("6.8.0-40-generic", "6.8.0-40-generic"), 0);
    EXPECT_GT(compare_versions("6.8.0-40-generic", "6.8.0-040-generi"), 0);
    EXPECT_GT(compare_versions("6.10", "6.9.9"), 0);
    EXPECT_LT(compare_versions("6.1", "6.1.1"), 0);
}

TEST(ChooseVersioned, NewestWithAMatchingInitrd) {
    auto pair = choose_versioned({"vmlinuz-6.1.0-9-amd64", "initrd.img-6.1.0-9-amd64",
                                  "vmlinuz-6.1.0-28-amd64", "initrd.img-6.1.0-28-amd64",
                                  "vmlinuz-6.1.0-30-amd64", "config-6.1.0-30-amd64",
                                  "vmlinuz-6.1.0-31-amd64.old", "initrd.img-6.1.0-31-amd64.old",
                                  "System.map-6.1.0-28-amd64"});
    ASSERT_TRUE(pair);
    EXPECT_EQ(pair->kernel, "vmlinuz-6.1.0-28-amd64");
    EXPECT_EQ(pair->initrd, "initrd.img-6.1.0-28-amd64");
    EXPECT_EQ(pair->version, "6.1.0-28-amd64");
}

TEST(ChooseVersioned, InitramfsNamingAndNothing) {
    auto pair =
        choose_versioned({"vmlinuz-6.9.4-200.fc40.x86_64", "initramfs-6.9.4-200.fc40.x86_64.img"});
    ASSERT_TRUE(pair);
    EXPECT_EQ(pair->initrd, "initramfs-6.9.4-200.fc40.x86_64.img");
    EXPECT_FALSE(choose_versioned({"vmlinuz-6.1", "initrd.img-6.2", "vmlinuz", "initrd.img"}));
    EXPECT_FALSE(choose_versioned({"vmlinuz-a;rm -rf", "initrd.img-a;rm -rf"}));
}

TEST(VersionFromKernelName, OnlySafeVersions) {
    EXPECT_EQ(version_from_kernel_name("vmlinuz-6.1.0-28-amd64"), "6.1.0-28-amd64");
    EXPECT_EQ(version_from_kernel_name("boot/vmlinuz-6.8.0-40-generic"), "6.8.0-40-generic");
    EXPECT_EQ(version_from_kernel_name("/boot/vmlinuz-6.8.0-40-generic"), "6.8.0-40-generic");
    EXPECT_EQ(version_from_kernel_name("vmlinuz"), "");
    EXPECT_EQ(version_from_kernel_name("vmlinuz-"), "");
    EXPECT_EQ(version_from_kernel_name("vmlinuz-6.1.old"), "");
    EXPECT_EQ(version_from_kernel_name("vmlinuz-6.1\x1b[2J"), "");
    EXPECT_EQ(version_from_kernel_name("../../etc/shadow"), "");
}

std::string bzimage(std::uint16_t pointer, const std::string& text, std::size_t size = 4096) {
    std::string img(size, '\0');
    img.replace(0x202, 4, "HdrS");
    img[0x206] = 0x0f;
    img[0x207] = 0x02;
    img[0x20e] = static_cast<char>(pointer & 0xff);
    img[0x20f] = static_cast<char>(pointer >> 8);
    if (0x200U + pointer + text.size() <= size)
        img.replace(0x200 + pointer, text.size(), text);
    return img;
}

TEST(VersionFromBzImage, ReadsTheSetupHeaderWithinBounds) {
    EXPECT_EQ(version_from_bzimage(bzimage(0x100, "6.1.0-28-amd64 (debian-kernel@lists) #1")),
              "6.1.0-28-amd64");
    EXPECT_EQ(version_from_bzimage(bzimage(0xff00, "6.1")), "");        // points past the end
    EXPECT_EQ(version_from_bzimage(bzimage(0, "6.1")), "");             // no version field
    EXPECT_EQ(version_from_bzimage(bzimage(0x100, "6.1\n$(x) y")), ""); // unsafe characters
    EXPECT_EQ(version_from_bzimage(std::string(4096, 'x')), "");
    EXPECT_EQ(version_from_bzimage("HdrS"), "");
    std::string at_end = bzimage(0x100, "6.2.0-end", 0x300 + 9); // no terminator in the buffer
    EXPECT_EQ(version_from_bzimage(at_end), "6.2.0-end");
}

TEST(PrettyName, QuotingAndControlCharacters) {
    EXPECT_EQ(pretty_name("ID=debian\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"),
              "Debian GNU/Linux 12 (bookworm)");
    EXPECT_EQ(pretty_name("PRETTY_NAME='Ubuntu 24.04 LTS'"), "Ubuntu 24.04 LTS");
    EXPECT_EQ(pretty_name("PRETTY_NAME=Plain\r\n"), "Plain");
    EXPECT_EQ(pretty_name("PRETTY_NAME=\"say \\\"hi\\\"\""), "say \"hi\"");
    EXPECT_EQ(pretty_name("PRETTY_NAME=\"evil\x1b[2Jname\""), "evil[2Jname");
    EXPECT_EQ(pretty_name("NAME=x\n"), "");
    EXPECT_EQ(pretty_name(std::string("PRETTY_NAME=") + std::string(500, 'a')).size(), 128U);
}

TEST(MbrBootCode, NeedsCodeAndSignature) {
    std::string sector(512, '\0');
    EXPECT_FALSE(has_mbr_boot_code(sector));
    sector[510] = '\x55';
    sector[511] = '\xaa';
    EXPECT_FALSE(has_mbr_boot_code(sector)); // a protective MBR: no code
    sector[446] = '\x80';                    // partition entries are not code
    EXPECT_FALSE(has_mbr_boot_code(sector));
    sector[0] = '\xeb';
    EXPECT_TRUE(has_mbr_boot_code(sector));
    sector[511] = 0;
    EXPECT_FALSE(has_mbr_boot_code(sector));
    EXPECT_FALSE(has_mbr_boot_code("\xeb"));
}

} // namespace
} // namespace fleetbox::diskimage
