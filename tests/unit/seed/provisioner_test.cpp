// Unit tests for the provisioning methods: names round-trip, the choice of a method from an
// image's supported list (legacy images, preference order, an explicit request, unknown
// names), and each provisioner's seed file (an ISO or a ustar tar).
#include "seed/provisioner.hpp"
#include "seed_spec_fixture.hpp"
#include "support/test_support.hpp"
#include "tar_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::seed {
namespace {

using ::testing::HasSubstr;
using testing::valid_spec;

TEST(Provisioning, NamesRoundTrip) {
    for (auto m : {Provisioning::NoCloud, Provisioning::FleetboxSeed}) {
        auto back = parse_provisioning(to_string(m));
        ASSERT_TRUE(back) << to_string(m);
        EXPECT_EQ(*back, m);
    }
    EXPECT_EQ(to_string(Provisioning::NoCloud), "nocloud");
    EXPECT_EQ(to_string(Provisioning::FleetboxSeed), "fleetbox-seed");
}

TEST(Provisioning, UnknownNameIsAnErrorListingBoth) {
    for (const char* bad : {"", "NoCloud", "fleetbox_seed", "cloud-init", "nocloud "}) {
        auto m = parse_provisioning(bad);
        ASSERT_FALSE(m) << bad;
        EXPECT_EQ(m.error().kind, ErrorKind::InvalidArgument);
        EXPECT_THAT(m.error().hint, HasSubstr("fleetbox-seed"));
        EXPECT_THAT(m.error().hint, HasSubstr("nocloud"));
    }
}

TEST(ChooseProvisioning, AnImageWithoutAListIsNoCloud) {
    auto m = choose_provisioning({}, std::nullopt, "debian-12");
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(*m, Provisioning::NoCloud);
    m = choose_provisioning({}, Provisioning::NoCloud, "debian-12");
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, Provisioning::NoCloud);
}

TEST(ChooseProvisioning, TheImagesFirstMethodWhenNoneIsRequested) {
    auto m = choose_provisioning({"fleetbox-seed", "nocloud"}, std::nullopt, "debian-12");
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(*m, Provisioning::FleetboxSeed);
    m = choose_provisioning({"nocloud", "fleetbox-seed"}, std::nullopt, "debian-12");
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, Provisioning::NoCloud);
}

TEST(ChooseProvisioning, ARequestedMethodTheImageSupportsIsHonored) {
    auto m = choose_provisioning({"fleetbox-seed", "nocloud"}, Provisioning::NoCloud, "debian-12");
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(*m, Provisioning::NoCloud);
    m = choose_provisioning({"nocloud", "fleetbox-seed"}, Provisioning::FleetboxSeed, "debian-12");
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(*m, Provisioning::FleetboxSeed);
}

TEST(ChooseProvisioning, FastPathOnAnOldImageAsksForARebuild) {
    for (const std::vector<std::string>& supported :
         {std::vector<std::string>{"nocloud"}, std::vector<std::string>{}}) {
        auto m = choose_provisioning(supported, Provisioning::FleetboxSeed, "debian-12");
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().kind, ErrorKind::InvalidArgument);
        EXPECT_THAT(m.error().message(), HasSubstr("debian-12"));
        EXPECT_THAT(m.error().message(), HasSubstr("does not support fleetbox-seed"));
        EXPECT_THAT(m.error().message(), HasSubstr("nocloud"));
        EXPECT_THAT(m.error().hint, HasSubstr("image build --force debian-12"));
    }
}

TEST(ChooseProvisioning, NoCloudOnAFastOnlyImageListsWhatItSupports) {
    auto m = choose_provisioning({"fleetbox-seed"}, Provisioning::NoCloud, "mini");
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(m.error().hint, HasSubstr("fleetbox-seed"));
    EXPECT_THAT(m.error().hint, ::testing::Not(HasSubstr("--force")));
}

TEST(ChooseProvisioning, UnknownNamesAreSkipped) {
    auto m =
        choose_provisioning({"teleport", "fleetbox-seed", "nocloud"}, std::nullopt, "debian-12");
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(*m, Provisioning::FleetboxSeed);
    m = choose_provisioning({"teleport", "nocloud"}, std::nullopt, "debian-12");
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, Provisioning::NoCloud);
    m = choose_provisioning({"teleport", "nocloud"}, Provisioning::NoCloud, "debian-12");
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, Provisioning::NoCloud);
}

TEST(ChooseProvisioning, OnlyUnknownNamesIsAnError) {
    for (auto requested :
         {std::optional<Provisioning>{}, std::optional<Provisioning>{Provisioning::NoCloud}}) {
        auto m = choose_provisioning({"teleport", "carrier-pigeon"}, requested, "future-img");
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().kind, ErrorKind::InvalidArgument);
        EXPECT_THAT(m.error().message(), HasSubstr("future-img"));
        EXPECT_THAT(m.error().message(), HasSubstr("teleport"));
        EXPECT_THAT(m.error().hint, HasSubstr("upgrade fleetbox"));
    }
}

TEST(Provisioner, EachMethodHasItsSeedFile) {
    EXPECT_EQ(provisioner_for(Provisioning::NoCloud).method(), Provisioning::NoCloud);
    EXPECT_EQ(provisioner_for(Provisioning::FleetboxSeed).method(), Provisioning::FleetboxSeed);
    EXPECT_STREQ(provisioner_for(Provisioning::NoCloud).seed_file_name(), "seed.iso");
    EXPECT_STREQ(provisioner_for(Provisioning::FleetboxSeed).seed_file_name(), "seed.tar");
}

TEST(Provisioner, FastSeedIsAUstarTar) {
    test::ScratchDir dir;
    const auto& p = provisioner_for(Provisioning::FleetboxSeed);
    const std::string path = dir.file(p.seed_file_name());
    auto written = p.write_seed(valid_spec("web-4"), path);
    ASSERT_TRUE(written) << written.error().message();
    std::string bytes = test::read_text(path);
    ASSERT_GE(bytes.size(), 512u);
    EXPECT_EQ(bytes.substr(257, 5), "ustar");
    auto entries = testing::read_tar(path);
    auto* hostname = testing::find_entry(entries, "hostname");
    ASSERT_NE(hostname, nullptr);
    EXPECT_EQ(hostname->content, "web-4\n");
}

TEST(Provisioner, NoCloudSeedIsAnIso) {
    test::ScratchDir dir;
    const auto& p = provisioner_for(Provisioning::NoCloud);
    const std::string path = dir.file(p.seed_file_name());
    auto written = p.write_seed(valid_spec(), path);
    ASSERT_TRUE(written) << written.error().message();
    std::string bytes = test::read_text(path);
    ASSERT_GT(bytes.size(), 0x8006u);
    EXPECT_EQ(bytes.substr(0x8001, 5), "CD001"); // the primary volume descriptor at sector 16
    EXPECT_NE(bytes.substr(257, 5), "ustar");
}

TEST(Provisioner, InvalidSpecIsRejectedByBoth) {
    auto spec = valid_spec();
    spec.mac = "bad";
    for (auto m : {Provisioning::NoCloud, Provisioning::FleetboxSeed}) {
        test::ScratchDir dir;
        auto written = provisioner_for(m).write_seed(spec, dir.file("seed"));
        ASSERT_FALSE(written) << to_string(m);
        EXPECT_EQ(written.error().kind, ErrorKind::InvalidArgument);
    }
}

} // namespace
} // namespace fleetbox::seed
