// Scratch placement: a tmpfs only when it is one, is mounted for programs and devices and has
// room; prefixes are per store and alias; the sweep removes only a killed build's leftovers.
#include "image/scratch.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::image {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(Scratch, NonTmpfsIsNotSuitable) {
    test::ScratchDir dir;
    std::string why;
    if (suitable_tmpfs(dir.path(), 0, &why))
        GTEST_SKIP() << "TMPDIR is a tmpfs here";
    EXPECT_THAT(why, HasSubstr("is not a tmpfs"));
    auto place = choose_scratch("", dir.path());
    EXPECT_EQ(place.parent, "");
    EXPECT_THAT(place.reason, HasSubstr("staging directory"));
}

TEST(Scratch, TmpfsNeedsRoom) {
    if (!suitable_tmpfs(kDefaultTmpfs, 0))
        GTEST_SKIP() << "/dev/shm is not a usable tmpfs here";
    std::string why;
    EXPECT_FALSE(suitable_tmpfs(kDefaultTmpfs, 1ULL << 62, &why));
    EXPECT_THAT(why, HasSubstr("free"));
}

TEST(Scratch, ExplicitChoicesWin) {
    EXPECT_EQ(choose_scratch("/some/dir").parent, "/some/dir");
    EXPECT_EQ(choose_scratch("staging").parent, "");
}

TEST(Scratch, PrefixIsPerStoreAndAlias) {
    std::string a = scratch_prefix("/home/u/.fleetbox/images", "debian-12");
    EXPECT_THAT(a, StartsWith("fleetbox-build-"));
    EXPECT_EQ(a.size(), std::string("fleetbox-build-12345678-debian-12-").size());
    EXPECT_EQ(a, scratch_prefix("/home/u/.fleetbox/images", "debian-12"));
    EXPECT_NE(a, scratch_prefix("/tmp/other/images", "debian-12"));
    EXPECT_NE(a, scratch_prefix("/home/u/.fleetbox/images", "debian-13"));
}

TEST(Scratch, SweepRemovesOnlyMatchingBuildDirs) {
    test::ScratchDir parent;
    std::string prefix = scratch_prefix("/x/images", "debian");
    test::write_text(parent.file(prefix + "aBcDeF/rootfs/f"), "stale");
    test::write_text(parent.file(prefix + "12-aBcDeF/f"), "alias debian-12: not ours");
    test::write_text(parent.file(prefix + "toolong7/f"), "not a mkdtemp name");
    test::write_text(parent.file("unrelated/f"), "x");
    ASSERT_TRUE(sweep_scratch(parent.path(), prefix));
    EXPECT_EQ(*list_dir(parent.path()),
              (std::vector<std::string>{prefix + "12-aBcDeF", prefix + "toolong7", "unrelated"}));
    EXPECT_TRUE(sweep_scratch(parent.file("missing"), prefix));
}

} // namespace
} // namespace fleetbox::image
