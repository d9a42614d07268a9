// Bad input and failing steps: each gives one clear error and leaves nothing in the cache
// (no entry, no staging directory, no rootfs or raw disk).
#include "fake_tools.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::image {
namespace {

using test_fakes::FakeEnv;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ImageBuildFailure : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* tool : {"mkfs.ext4", "qemu-img"})
            if (find_program(tool).empty())
                GTEST_SKIP() << tool << " is not installed";
    }
    void expect_nothing_left() {
        EXPECT_TRUE(env_.leftovers().empty()) << testing::PrintToString(env_.leftovers());
        auto hit = ImageCache(env_.images()).lookup("debian-12");
        ASSERT_TRUE(hit);
        EXPECT_FALSE(hit->has_value());
    }
    FakeEnv env_;
};

TEST_F(ImageBuildFailure, UnreachableMirrorNamesItAndLeavesNoEntry) {
    test::ScopedEnv mode("FAKE_MMDEBSTRAP_MODE", "network");
    test::ScratchDir apt;
    test::write_text(
        apt.file("sources.list.d/debian.sources"),
        "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\n");
    auto options = env_.options();
    options.mirrors.clear();
    options.apt_dir = apt.path();
    ImageCache cache(env_.images());
    auto r = cache.ensure("debian-12", options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Network);
    EXPECT_THAT(r.error().message(),
                HasSubstr("cannot reach the Debian mirror http://deb.debian.org/debian (from " +
                          apt.file("sources.list.d/debian.sources") + ")"));
    EXPECT_THAT(r.error().message(), HasSubstr("Could not connect to deb.debian.org:80"));
    EXPECT_THAT(r.error().hint, HasSubstr(cache.log_path("debian-12")));
    EXPECT_EQ(env_.runs(), 1);
    expect_nothing_left();
}

TEST_F(ImageBuildFailure, GenericFailureCarriesTheErrorLine) {
    test::ScopedEnv mode("FAKE_MMDEBSTRAP_MODE", "generic");
    ImageCache cache(env_.images());
    auto r = cache.ensure("debian-12", env_.options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::ExternalCommand);
    EXPECT_EQ(r.error().message(), "build image debian-12: mmdebstrap exited with status 2: E: the "
                                   "fake failed in an unexpected way");
    EXPECT_THAT(test::read_text(cache.log_path("debian-12")),
                HasSubstr("W: some trailing warning"));
    expect_nothing_left();
}

TEST_F(ImageBuildFailure, MissingToolsNameTheirPackages) {
    struct Case {
        std::vector<std::string> keep; // real tools linked into the scratch PATH
        bool fake_mmdebstrap;
        std::string program, package;
    };
    const std::vector<Case> cases = {
        {{"qemu-img"}, true, "mkfs.ext4", "e2fsprogs"},
        {{"mkfs.ext4"}, true, "qemu-img", "qemu-utils"},
        {{"mkfs.ext4", "qemu-img"}, false, "mmdebstrap", "mmdebstrap"},
    };
    for (const auto& c : cases) {
        test::ScratchDir only;
        for (const auto& tool : c.keep)
            ASSERT_EQ(::symlink(find_program(tool).c_str(), only.file(tool).c_str()), 0);
        if (c.fake_mmdebstrap)
            test::write_text(only.file("mmdebstrap"), test_fakes::kFakeMmdebstrap, 0755);
        test::ScopedEnv path("PATH", only.path());
        auto r = ImageCache(env_.images()).ensure("debian-12", env_.options());
        ASSERT_FALSE(r) << c.program;
        EXPECT_EQ(r.error().kind, ErrorKind::MissingDependency) << r.error().message();
        EXPECT_THAT(r.error().message(),
                    HasSubstr(c.program + " is not installed (package " + c.package + ")"));
        EXPECT_THAT(r.error().hint, HasSubstr("apt-get install " + c.package));
    }
    EXPECT_EQ(env_.runs(), 0);
    expect_nothing_left();
}

TEST_F(ImageBuildFailure, NotEnoughFreeSpaceRefusesToStart) {
    auto options = env_.options();
    options.min_free_bytes = 1ULL << 62;
    auto r = ImageCache(env_.images()).ensure("debian-12", options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NoSpace);
    EXPECT_THAT(r.error().message(), HasSubstr("free, a build needs at least"));
    EXPECT_FALSE(r.error().hint.empty());
    EXPECT_EQ(env_.runs(), 0);
    expect_nothing_left();
}

TEST_F(ImageBuildFailure, DiskFullDuringAStepIsNoSpace) {
    test::write_text(env_.bin("mkfs.ext4"), test_fakes::kFullDiskMkfs, 0755);
    auto r = ImageCache(env_.images()).ensure("debian-12", env_.options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NoSpace);
    EXPECT_THAT(r.error().message(), HasSubstr("mkfs.ext4 ran out of disk space"));
    EXPECT_EQ(env_.runs(), 1);
    expect_nothing_left();
}

TEST_F(ImageBuildFailure, FailedBuildDoesNotDisturbTheCachedImage) {
    ImageCache cache(env_.images());
    auto good = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(good) << good.error().message();
    test::ScopedEnv mode("FAKE_MMDEBSTRAP_MODE", "generic");
    auto forced = cache.build("debian-12", env_.options());
    ASSERT_FALSE(forced);
    auto still = cache.lookup("debian-12");
    ASSERT_TRUE(still && still->has_value());
    EXPECT_EQ((*still)->manifest.built_at, good->manifest.built_at);
    EXPECT_THAT(env_.leftovers(), ElementsAre("debian-12"));
}

TEST_F(ImageBuildFailure, NoHostMirrorIsAClearError) {
    test::ScratchDir apt; // no sources at all
    auto options = env_.options();
    options.mirrors.clear();
    options.apt_dir = apt.path();
    auto r = ImageCache(env_.images()).ensure("debian-12", options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(r.error().message(), HasSubstr("no Debian archive"));
    EXPECT_EQ(env_.runs(), 0);
    expect_nothing_left();
}

} // namespace
} // namespace fleetbox::image
