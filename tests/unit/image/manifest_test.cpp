// Manifest: JSON round trip (including the provisioning methods), a manifest from before the
// fast path reads as NoCloud with cloud-config/cloud-final masked, corrupt or incomplete
// manifests are rejected, sizes are checked against the files, sha256 matches known vectors,
// and the cache does not count a directory with a bad manifest as an image.
#include "image/cache.hpp"
#include "image/manifest.hpp"
#include "image/recipe.hpp"
#include "support/test_support.hpp"
#include "sys/sha256.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::image {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Manifest sample() {
    Manifest m;
    m.alias = "debian-12";
    m.description = "d";
    m.built_at = "2026-11-28T18:30:00Z";
    m.build_seconds = 61.5;
    m.virtual_size = 768ULL << 20;
    m.kernel_version = "6.1.0-28-cloud-amd64";
    m.kernel_cmdline = "console=ttyS0 root=/dev/vda rw";
    m.root_device = "/dev/vda";
    m.suite = "bookworm";
    m.packages = {"a", "b"};
    m.mirrors = {"deb http://m/debian bookworm main"};
    m.files = {{"disk.qcow2", 4, "aa"}, {"vmlinuz", 3, "bb"}, {"initrd.img", 0, "cc"}};
    m.boot_markers = {"fleetbox: stage=initramfs"};
    m.phases = {{"bootstrap", 120.5}, {"mkfs", 2.25}};
    m.provisioning = {{"fleetbox-seed", "fleetbox.seed=/dev/vdb cloud-init=disabled"},
                      {"nocloud", "systemd.mask=cloud-config.service"}};
    return m;
}

void write_image_files(const std::string& dir) {
    test::write_text(dir + "/disk.qcow2", "disk");
    test::write_text(dir + "/vmlinuz", "krn");
    test::write_text(dir + "/initrd.img", "");
}

TEST(Manifest, RoundTrips) {
    Manifest m = sample();
    auto back = manifest_from_json(manifest_to_json(m));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->alias, m.alias);
    EXPECT_EQ(back->built_at, m.built_at);
    EXPECT_DOUBLE_EQ(back->build_seconds, m.build_seconds);
    EXPECT_EQ(back->virtual_size, m.virtual_size);
    EXPECT_EQ(back->kernel_version, m.kernel_version);
    EXPECT_EQ(back->kernel_cmdline, m.kernel_cmdline);
    EXPECT_EQ(back->packages, m.packages);
    EXPECT_EQ(back->mirrors, m.mirrors);
    EXPECT_EQ(back->boot_markers, m.boot_markers);
    ASSERT_EQ(back->phases.size(), 2u);
    EXPECT_EQ(back->phases[1].name, "mkfs");
    EXPECT_DOUBLE_EQ(back->phases[1].seconds, 2.25);
    ASSERT_EQ(back->files.size(), 3u);
    EXPECT_EQ(back->file("vmlinuz")->size, 3u);
    EXPECT_EQ(back->file("initrd.img")->sha256, "cc");
    EXPECT_EQ(back->file("nope"), nullptr);
}

TEST(Manifest, ProvisioningRoundTripsInOrder) {
    Manifest m = sample();
    auto back = manifest_from_json(manifest_to_json(m));
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_EQ(back->provisioning.size(), 2u);
    EXPECT_EQ(back->provisioning[0].method, "fleetbox-seed");
    EXPECT_EQ(back->provisioning[0].kernel_cmdline, "fleetbox.seed=/dev/vdb cloud-init=disabled");
    EXPECT_EQ(back->provisioning[1].method, "nocloud");
    EXPECT_EQ(back->provisioning[1].kernel_cmdline, "systemd.mask=cloud-config.service");
    EXPECT_THAT(back->method_names(), ElementsAre("fleetbox-seed", "nocloud"));

    // Written as a list of {method, kernel_cmdline} objects.
    auto doc = nlohmann::json::parse(manifest_to_json(m));
    ASSERT_TRUE(doc["provisioning"].is_array());
    EXPECT_EQ(doc["provisioning"][0]["method"], "fleetbox-seed");
    EXPECT_EQ(doc["provisioning"][1]["kernel_cmdline"], "systemd.mask=cloud-config.service");
}

TEST(Manifest, MethodLooksUpByName) {
    Manifest m = sample();
    const ProvisioningMethod* fast = m.method("fleetbox-seed");
    ASSERT_NE(fast, nullptr);
    EXPECT_EQ(fast->kernel_cmdline, "fleetbox.seed=/dev/vdb cloud-init=disabled");
    ASSERT_NE(m.method("nocloud"), nullptr);
    EXPECT_EQ(m.method("nocloud")->method, "nocloud");
    EXPECT_EQ(m.method("teleport"), nullptr);
    EXPECT_EQ(m.method(""), nullptr);
    m.provisioning.clear();
    EXPECT_EQ(m.method("nocloud"), nullptr);
    EXPECT_TRUE(m.method_names().empty());
}

TEST(Manifest, WithoutProvisioningReadsAsLegacyNoCloud) {
    auto doc = nlohmann::json::parse(manifest_to_json(sample()));
    doc.erase("provisioning");
    auto back = manifest_from_json(doc.dump());
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_EQ(back->provisioning.size(), 1u);
    EXPECT_EQ(back->provisioning[0].method, "nocloud");
    EXPECT_THAT(back->provisioning[0].kernel_cmdline,
                HasSubstr("systemd.mask=cloud-config.service"));
    EXPECT_THAT(back->provisioning[0].kernel_cmdline,
                HasSubstr("systemd.mask=cloud-final.service"));
    EXPECT_THAT(back->method_names(), ElementsAre("nocloud"));
    ASSERT_NE(back->method("nocloud"), nullptr);
    EXPECT_EQ(back->method("fleetbox-seed"), nullptr);

    auto legacy = legacy_provisioning();
    ASSERT_EQ(legacy.size(), 1u);
    EXPECT_EQ(legacy[0].method, back->provisioning[0].method);
    EXPECT_EQ(legacy[0].kernel_cmdline, back->provisioning[0].kernel_cmdline);
    EXPECT_EQ(legacy[0].kernel_cmdline,
              "systemd.mask=cloud-config.service systemd.mask=cloud-final.service");
}

TEST(Manifest, AnEmptyProvisioningListReadsAsLegacyNoCloud) {
    Manifest m = sample();
    m.provisioning.clear();
    auto back = manifest_from_json(manifest_to_json(m));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_THAT(back->method_names(), ElementsAre("nocloud"));
    EXPECT_EQ(back->provisioning[0].kernel_cmdline, legacy_provisioning()[0].kernel_cmdline);
}

TEST(Manifest, MethodWithoutKernelCmdlineReadsAsEmpty) {
    auto doc = nlohmann::json::parse(manifest_to_json(sample()));
    doc["provisioning"] = nlohmann::json::array({{{"method", "nocloud"}}});
    auto back = manifest_from_json(doc.dump());
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_EQ(back->provisioning.size(), 1u);
    EXPECT_EQ(back->provisioning[0].method, "nocloud");
    EXPECT_EQ(back->provisioning[0].kernel_cmdline, "");
}

TEST(Manifest, MalformedProvisioningIsCorrupt) {
    for (const nlohmann::json& bad :
         {nlohmann::json::array({{{"kernel_cmdline", "x"}}}),
          nlohmann::json::array({{{"method", 5}}}), nlohmann::json::array({"nocloud"})}) {
        auto doc = nlohmann::json::parse(manifest_to_json(sample()));
        doc["provisioning"] = bad;
        auto back = manifest_from_json(doc.dump());
        ASSERT_FALSE(back) << bad.dump();
        EXPECT_EQ(back.error().kind, ErrorKind::Corrupt) << bad.dump();
    }
}

TEST(Manifest, RejectsCorruptOrIncompleteDocuments) {
    std::string good = manifest_to_json(sample());
    Manifest no_kernel = sample();
    no_kernel.files.erase(no_kernel.files.begin() + 1);
    Manifest future = sample();
    future.version = 99;
    for (const std::string& text :
         {std::string("{"), std::string("[]"), good.substr(0, good.size() / 2),
          manifest_to_json(no_kernel), manifest_to_json(future)}) {
        auto m = manifest_from_json(text);
        ASSERT_FALSE(m) << text;
        EXPECT_EQ(m.error().kind, ErrorKind::Corrupt);
    }
}

TEST(Manifest, BuiltImagesBootOnMicrovmFromTheirKernelByDefault) {
    auto parsed = manifest_from_json(manifest_to_json(sample()));
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_FALSE(parsed->pulled());
    EXPECT_EQ(parsed->boot.mode, "kernel");
    EXPECT_EQ(parsed->boot.machine, "microvm");
    EXPECT_EQ(parsed->boot.root, "/dev/vda");
    // A manifest from before "boot" existed reads the same way.
    auto doc = nlohmann::json::parse(manifest_to_json(sample()));
    doc.erase("boot");
    auto old = manifest_from_json(doc.dump());
    ASSERT_TRUE(old);
    EXPECT_EQ(old->boot.machine, "microvm");
    EXPECT_FALSE(nlohmann::json::parse(manifest_to_json(sample())).contains("origin"));
}

TEST(Manifest, PulledImagesKeepTheirOriginAndBoot) {
    Manifest m = sample();
    m.origin.kind = "url";
    m.origin.given = "https://h/x.raw#sha256=00";
    m.origin.url = "https://h/x.raw";
    m.origin.digest = "sha256:00";
    m.origin.sha256 = "ab";
    m.origin.size = 1234;
    m.origin.format = "raw";
    m.origin.os_name = "Debian GNU/Linux 12 (bookworm)";
    m.origin.has_cloud_init = 1;
    m.boot = {"kernel", "q35", "UUID=0f0e"};
    auto parsed = manifest_from_json(manifest_to_json(m));
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_TRUE(parsed->pulled());
    EXPECT_EQ(parsed->origin.given, m.origin.given);
    EXPECT_EQ(parsed->origin.digest, "sha256:00");
    EXPECT_EQ(parsed->origin.size, 1234U);
    EXPECT_EQ(parsed->origin.format, "raw");
    EXPECT_EQ(parsed->origin.has_cloud_init, 1);
    EXPECT_EQ(parsed->boot.machine, "q35");
    EXPECT_EQ(parsed->boot.root, "UUID=0f0e");
}

TEST(Manifest, FirmwareBootNeedsOnlyTheDiskAndQ35) {
    Manifest m = sample();
    m.boot = {"firmware", "q35", ""};
    m.files = {{"disk.qcow2", 4, "aa"}};
    auto parsed = manifest_from_json(manifest_to_json(m));
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_TRUE(parsed->boot.firmware());
    m.boot.machine = "microvm"; // microvm has no firmware that boots a disk
    auto bad = manifest_from_json(manifest_to_json(m));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::Corrupt);
    m.boot = {"kernel", "q35", "UUID=1"}; // kernel boot without its kernel file
    EXPECT_FALSE(manifest_from_json(manifest_to_json(m)));
}

TEST(Manifest, LoadChecksFileSizes) {
    test::ScratchDir dir;
    write_image_files(dir.path());
    test::write_text(dir.file("manifest.json"), manifest_to_json(sample()));
    ASSERT_TRUE(load_manifest(dir.path()));

    test::write_text(dir.file("vmlinuz"), "truncated-or-grown");
    auto m = load_manifest(dir.path());
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().kind, ErrorKind::Corrupt);
    EXPECT_THAT(m.error().message(), HasSubstr("vmlinuz"));

    ::unlink(dir.file("vmlinuz").c_str());
    m = load_manifest(dir.path());
    ASSERT_FALSE(m);
    EXPECT_THAT(m.error().message(), HasSubstr("vmlinuz is missing"));
}

TEST(Manifest, Sha256MatchesKnownVectors) {
    test::ScratchDir dir;
    test::write_text(dir.file("abc"), "abc");
    test::write_text(dir.file("empty"), "");
    EXPECT_EQ(*sha256_file_hex(dir.file("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(*sha256_file_hex(dir.file("empty")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_FALSE(sha256_file_hex(dir.file("missing")));
}

TEST(Manifest, NowIsRfc3339Utc) {
    std::string t = now_rfc3339();
    ASSERT_EQ(t.size(), 20u);
    EXPECT_EQ(t[4], '-');
    EXPECT_EQ(t[10], 'T');
    EXPECT_EQ(t.back(), 'Z');
}

TEST(CacheLookup, OnlyDirectoriesWithAValidManifestAreImages) {
    test::ScratchDir images;
    ImageCache cache(images.path());
    auto none = cache.lookup("debian-12");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());

    std::string dir = images.file("debian-12");
    write_image_files(dir);
    auto no_manifest = cache.lookup("debian-12"); // e.g. a copy interrupted before the manifest
    ASSERT_TRUE(no_manifest) << no_manifest.error().message();
    EXPECT_FALSE(no_manifest->has_value());

    test::write_text(dir + "/manifest.json", "{ not json");
    auto corrupt = cache.lookup("debian-12");
    ASSERT_TRUE(corrupt) << corrupt.error().message();
    EXPECT_FALSE(corrupt->has_value());
    EXPECT_TRUE(cache.list()->empty());

    test::write_text(dir + "/manifest.json", manifest_to_json(sample()));
    auto hit = cache.lookup("debian-12");
    ASSERT_TRUE(hit && hit->has_value());
    EXPECT_EQ((*hit)->disk_path, dir + "/disk.qcow2");
    EXPECT_EQ((*hit)->kernel_path, dir + "/vmlinuz");
    EXPECT_EQ((*hit)->initrd_path, dir + "/initrd.img");
    EXPECT_EQ((*hit)->manifest.kernel_version, "6.1.0-28-cloud-amd64");
    // Dot entries (locks, logs, staging dirs) are never listed.
    test::write_text(images.file(".debian-12.lock"), "");
    test::write_text(images.file(".build-debian-12-abcdef/manifest.json"),
                     manifest_to_json(sample()));
    auto all = cache.list();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 1u);
    EXPECT_EQ(all->front().alias, "debian-12");
}

// An image built by another recipe (an older fleetbox: no or another fingerprint) is found
// and usable, but marked outdated; one with this binary's fingerprint is not.
TEST(CacheLookup, AnImageOfAnotherRecipeIsOutdated) {
    test::ScratchDir images;
    ImageCache cache(images.path());
    std::string dir = images.file("debian-12");
    write_image_files(dir);
    Manifest m = sample();
    m.recipe = "";
    test::write_text(dir + "/manifest.json", manifest_to_json(m));
    auto old = cache.lookup("debian-12");
    ASSERT_TRUE(old && old->has_value());
    EXPECT_TRUE((*old)->outdated);
    m.recipe = recipe_fingerprint(*find_alias("debian-12").value());
    test::write_text(dir + "/manifest.json", manifest_to_json(m));
    auto current = cache.lookup("debian-12");
    ASSERT_TRUE(current && current->has_value());
    EXPECT_FALSE((*current)->outdated);
    EXPECT_EQ((*current)->manifest.recipe, m.recipe);
}

TEST(CacheLookup, RejectsNamesThatEscapeTheCache) {
    test::ScratchDir images;
    ImageCache cache(images.path());
    for (const char* bad : {"../etc", ".hidden", "", "a/b", "x y"}) {
        auto r = cache.lookup(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    }
}

} // namespace
} // namespace fleetbox::image
