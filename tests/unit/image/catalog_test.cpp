// Catalog: the embedded catalog parses and describes debian-11/12/13; unknown aliases fail with
// the list of known ones; malformed catalogs are Corrupt, never a crash.
#include "image/catalog.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::image {
namespace {

using ::testing::Contains;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(Catalog, EmbeddedCatalogDescribesDebian12) {
    const Catalog& c = catalog();
    EXPECT_EQ(c.default_alias, "debian-12");
    auto entry = find_alias("debian-12");
    ASSERT_TRUE(entry) << entry.error().message();
    const CatalogEntry& e = **entry;
    EXPECT_EQ(e.builder, "mmdebstrap");
    EXPECT_EQ(e.suite, "bookworm");
    EXPECT_EQ(e.variant, "minbase");
    for (const char* pkg :
         {"systemd-sysv", "udev", "openssh-server", "cloud-init", "linux-image-cloud-amd64", "sudo",
          "iproute2", "iputils-ping", "ifupdown", "isc-dhcp-client", "netbase", "ca-certificates",
          "libnss-myhostname"})
        EXPECT_THAT(e.packages, Contains(pkg));
    for (const char* mod : {"virtio_blk", "virtio_mmio", "virtio_pci"})
        EXPECT_THAT(e.initrd_modules, Contains(mod));
    EXPECT_EQ(e.root_device, "/dev/vda");
    EXPECT_THAT(e.kernel_cmdline, HasSubstr("root=/dev/vda"));
}

// The three Debian releases share one recipe; what differs per suite is data (ADR 0021):
// the suite, bullseye's merged-/usr hook, trixie's DHCP client. Everything that makes the
// image boot with fleetbox's tuning (initrd modules, masked units, root, command line) is
// the same.
TEST(Catalog, DebianSuitesDifferOnlyInTheirData) {
    const CatalogEntry& e12 = **find_alias("debian-12");
    struct Want {
        const char* alias;
        const char* suite;
    };
    for (Want w : {Want{"debian-11", "bullseye"}, Want{"debian-12", "bookworm"},
                   Want{"debian-13", "trixie"}}) {
        SCOPED_TRACE(w.alias);
        auto entry = find_alias(w.alias);
        ASSERT_TRUE(entry) << entry.error().message();
        const CatalogEntry& e = **entry;
        EXPECT_EQ(e.suite, w.suite);
        EXPECT_THAT(e.description, HasSubstr(w.suite));
        EXPECT_EQ(e.variant, e12.variant);
        EXPECT_EQ(e.components, e12.components);
        EXPECT_EQ(e.initrd_modules, e12.initrd_modules);
        for (const auto& unit : e12.masked_units)
            EXPECT_THAT(e.masked_units, Contains(unit));
        EXPECT_EQ(e.root_device, e12.root_device);
        EXPECT_EQ(e.kernel_cmdline, e12.kernel_cmdline);
        for (const char* pkg :
             {"systemd-sysv", "udev", "openssh-server", "openssh-sftp-server", "cloud-init", "sudo",
              "iproute2", "ifupdown", "libnss-myhostname", "zstd", "e2fsprogs"})
            EXPECT_THAT(e.packages, Contains(pkg));
        EXPECT_THAT(e.packages, Contains(::testing::AllOf(StartsWith("linux-image-"),
                                                          EndsWith("-cloud-amd64"))));
    }
    // bullseye: the recipe merges /usr (later releases merge it through their packages).
    EXPECT_TRUE((*find_alias("debian-11"))->merged_usr_symlinks);
    EXPECT_FALSE(e12.merged_usr_symlinks);
    EXPECT_FALSE((*find_alias("debian-13"))->merged_usr_symlinks);
    // trixie deprecates isc-dhcp-client: dhcpcd-base, as its ifupdown and cloud-init prefer.
    const auto& p13 = (*find_alias("debian-13"))->packages;
    EXPECT_THAT(p13, Contains("dhcpcd-base"));
    EXPECT_THAT(p13, Not(Contains("isc-dhcp-client")));
    // trixie's openssh-server generates every missing host key type at the first boot: a
    // VM has exactly the seed's ed25519 key, so that unit is masked there.
    EXPECT_THAT((*find_alias("debian-13"))->masked_units, Contains("sshd-keygen.service"));
    // ...and systemd 257 re-runs ldconfig before sysinit.target at every VM's first boot
    // (ConditionNeedsUpdate): the image's cache is made at build time.
    EXPECT_THAT((*find_alias("debian-13"))->masked_units, Contains("ldconfig.service"));
    // bullseye is past its LTS: its last kernel ABI is named, because the mirror lacks the
    // file of the linux-image-cloud-amd64 meta package that bullseye-security lists.
    EXPECT_THAT((*find_alias("debian-11"))->packages,
                Contains("linux-image-5.10.0-46-cloud-amd64"));
}

TEST(Catalog, UnknownAliasListsKnownOnes) {
    auto r = find_alias("debian-99");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(r.error().message(),
              "unknown image \"debian-99\": known images are debian-11, debian-12, debian-13");
    EXPECT_THAT(r.error().hint, HasSubstr("fleetbox image build debian-12"));
}

constexpr const char* kTwoImages = R"({
  "version": 1, "default": "b-2",
  "images": {
    "b-2": {"builder": "mmdebstrap", "suite": "trixie", "packages": ["x"]},
    "a-1": {"builder": "mmdebstrap", "suite": "bookworm", "variant": "essential",
            "packages": ["y", "z"], "root_device": "/dev/vdb"}
  }})";

TEST(Catalog, ParsesEntriesSortedWithDefaults) {
    auto c = parse_catalog(kTwoImages);
    ASSERT_TRUE(c) << c.error().message();
    ASSERT_EQ(c->entries.size(), 2u);
    EXPECT_EQ(c->entries[0].alias, "a-1");
    EXPECT_EQ(c->entries[0].variant, "essential");
    EXPECT_EQ(c->entries[0].kernel_cmdline, "console=ttyS0 root=/dev/vdb rw");
    EXPECT_EQ(c->entries[1].variant, "minbase");
    EXPECT_EQ(c->entries[1].components, std::vector<std::string>{"main"});
    EXPECT_EQ(known_aliases(*c), "a-1, b-2");
    auto miss = find_alias("c-3", *c);
    ASSERT_FALSE(miss);
    EXPECT_THAT(miss.error().message(), HasSubstr("known images are a-1, b-2"));
}

TEST(Catalog, MalformedCatalogsAreCorrupt) {
    for (
        const char* text : {
            "{",
            R"({"images": {"x": {"suite": "bookworm", "packages": ["a"]}}})", // no builder
            R"({"images": {"x": {"builder": "debootstrap", "suite": "s", "packages": ["a"]}}})",
            R"({"images": {"x": {"builder": "mmdebstrap", "suite": "s", "packages": []}}})",
            R"({"default": "y", "images": {"x": {"builder": "mmdebstrap", "suite": "s", "packages": ["a"]}}})",
            R"({"images": {"x": {"builder": "mmdebstrap", "suite": 3, "packages": ["a"]}}})",
            R"({"images": {"x": {"builder": "mmdebstrap", "suite": "s", "packages": ["a"], "merged_usr_symlinks": "yes"}}})",
            R"({"images": {"x": {"builder": "mmdebstrap", "suite": "s", "packages": ["a"], "initrd_exclude": ["/etc/x"]}}})",
            R"({"images": {"x": {"builder": "mmdebstrap", "suite": "s", "packages": ["a"], "initrd_exclude": ["../x"]}}})",
            R"({"images": {"x": {"builder": "mmdebstrap", "suite": "s", "packages": ["a"], "initrd_exclude": ["a b"]}}})",
        }) {
        auto c = parse_catalog(text);
        ASSERT_FALSE(c) << text;
        EXPECT_EQ(c.error().kind, ErrorKind::Corrupt) << text;
    }
}

} // namespace
} // namespace fleetbox::image
