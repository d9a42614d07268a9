// Unit tests for client/fixtures: the create-time checks of Options::fixtures (each bad input
// is one line naming the entry, with a hint), what a good set becomes in config.json and in
// the seed, and the guest command that mounts fixtures (quoted arguments, idempotent).
#include "client/fixtures.hpp"
#include "support/test_support.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::client {
namespace {

using ::testing::HasSubstr;

class FixtureOptions : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = std::filesystem::temp_directory_path() /
                ("fbx-fixtures-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(root_ / "data" / "sub");
        std::ofstream(root_ / "file.txt") << "x\n";
    }
    void TearDown() override { std::filesystem::remove_all(root_); }
    [[nodiscard]] std::string dir() const { return (root_ / "data").string(); }

    // The error of resolving `fixtures` (with cwd = root_), asserting there is one.
    Error error_of(const std::vector<Fixture>& fixtures) {
        auto r = resolve_fixtures(fixtures, root_.string());
        EXPECT_FALSE(r);
        if (r)
            return {};
        EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
        EXPECT_FALSE(r.error().hint.empty()) << r.error().message();
        return r.error();
    }

    std::filesystem::path root_;
};

TEST_F(FixtureOptions, AGoodSetIsStoredWithAbsoluteHostPathsAndLabels) {
    auto r =
        resolve_fixtures({{"data", "/srv/data/"}, {dir() + "/sub/", "//opt//x"}}, root_.string());
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0], (StoredFixture{dir(), "/srv/data", "FBFIX0"}));
    EXPECT_EQ((*r)[1], (StoredFixture{dir() + "/sub", "/opt/x", "FBFIX1"}));
    auto mounts = seed_mounts(*r);
    ASSERT_EQ(mounts.size(), 2u);
    EXPECT_EQ(mounts[1].label, "FBFIX1");
    EXPECT_EQ(mounts[1].guest_path, "/opt/x");
    EXPECT_TRUE(resolve_fixtures({}, root_.string()).value().empty());
}

TEST_F(FixtureOptions, TheGuestPathMustBeAbsolute) {
    for (const char* bad : {"srv/data", "", "./x"}) {
        auto e = error_of({{dir(), bad}});
        EXPECT_EQ(e.kind, ErrorKind::InvalidArgument);
        EXPECT_EQ(e.message(), "fixture guest path \"" + std::string(bad) + "\" must be absolute");
    }
}

TEST_F(FixtureOptions, TheGuestPathMustBeNormalizedAndNotTheRootOrASystemDirectory) {
    EXPECT_THAT(error_of({{dir(), "/"}}).message(), HasSubstr("is the guest's root"));
    EXPECT_THAT(error_of({{dir(), "///"}}).message(), HasSubstr("is the guest's root"));
    EXPECT_THAT(error_of({{dir(), "/srv/../etc"}}).message(), HasSubstr("is not normalized"));
    EXPECT_THAT(error_of({{dir(), "/srv/./x"}}).message(), HasSubstr("is not normalized"));
    EXPECT_THAT(error_of({{dir(), "/srv/a b"}}).message(), HasSubstr("whitespace"));
    EXPECT_THAT(error_of({{dir(), "/srv/a\nb"}}).message(), HasSubstr("control character"));
    for (const char* system :
         {"/etc", "/usr/", "/home", "/home/fleetbox", "/home/fleetbox/.ssh", "/proc/x", "/dev/shm"})
        EXPECT_THAT(error_of({{dir(), system}}).message(),
                    HasSubstr("would hide a directory the guest needs"))
            << system;
    // Subdirectories of most system directories are fine mount points.
    EXPECT_TRUE(resolve_fixtures({{dir(), "/usr/local/share/x"}}, root_.string()));
}

TEST_F(FixtureOptions, GuestPathsMustBeDistinctAndNotNested) {
    EXPECT_EQ(error_of({{dir(), "/data"}, {dir(), "/data/"}}).message(),
              "duplicate fixture guest path \"/data\"");
    EXPECT_EQ(error_of({{dir(), "/data/x"}, {dir(), "/data"}}).message(),
              "fixture guest paths \"/data/x\" and \"/data\" are nested");
    EXPECT_TRUE(resolve_fixtures({{dir(), "/data"}, {dir(), "/data2"}}, root_.string()));
}

TEST_F(FixtureOptions, TheHostPathMustBeAnExistingDirectory) {
    auto missing = error_of({{"nope", "/data"}});
    EXPECT_EQ(missing.kind, ErrorKind::NotFound);
    EXPECT_THAT(missing.message(), HasSubstr("fixture host path \"nope\" does not exist"));
    EXPECT_THAT(missing.message(), HasSubstr(root_.string() + "/nope")); // where it looked
    auto file = error_of({{"file.txt", "/data"}});
    EXPECT_EQ(file.kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(file.message(), "fixture host path \"file.txt\" is not a directory");
    EXPECT_EQ(error_of({{"", "/data"}}).message(), "fixture host path is empty");
}

TEST_F(FixtureOptions, AtMostEightFixtures) {
    std::vector<Fixture> many;
    for (std::size_t i = 0; i < kMaxFixtures; ++i)
        many.push_back({dir(), "/f" + std::to_string(i)});
    EXPECT_TRUE(resolve_fixtures(many, root_.string()));
    many.push_back({dir(), "/f-last"});
    EXPECT_EQ(error_of(many).message(), "too many fixtures: 9 (at most 8 per VM)");
}

TEST(FixtureMountCommand, QuotesEachLabelAndPathAndIsIdempotent) {
    std::vector<StoredFixture> fixtures = {{"/h", "/srv/it's", "FBFIX0"},
                                           {"/h2", "/opt/x", "FBFIX1"}};
    auto cmd = fixture_mount_command(fixtures);
    EXPECT_EQ(cmd.rfind("sudo -n sh -c '", 0), 0u) << cmd;
    EXPECT_THAT(cmd, HasSubstr(" fleetbox-fixtures FBFIX0 '/srv/it'\\''s' FBFIX1 /opt/x"));
    EXPECT_THAT(cmd, HasSubstr("mountpoint -q"));            // an existing mount is kept
    EXPECT_THAT(cmd, HasSubstr("mount -o ro \"LABEL=$1\"")); // read-only, by label
    EXPECT_THAT(cmd, HasSubstr("findmnt -n -o OPTIONS --mountpoint"));
}

TEST(FixtureNames, LabelAndImageName) {
    EXPECT_EQ(fixture_label(0), "FBFIX0");
    EXPECT_EQ(fixture_label(7), "FBFIX7");
    EXPECT_EQ(fixture_image_name(3), "fixture-3.img");
}

} // namespace
} // namespace fleetbox::client
