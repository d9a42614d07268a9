// Component: the helper.log the client opens for a helper it spawns. It is the store owner's
// file (0600), and a symlink planted in its place is refused: the file it names (here in a
// directory only the test may enter) is neither created nor written, and no helper starts.
#include "helper_fixture.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fleetbox::test {
namespace {

class ClientLogTest : public HelperFixture {};

TEST_F(ClientLogTest, HelperLogIsOwnerOnly) {
    const mode_t old = ::umask(0);
    auto handle = launcher().spawn(store_, "web", client::HelperMode::Bound);
    ::umask(old);
    ASSERT_TRUE(handle) << handle.error().message();
    struct stat st {};
    ASSERT_EQ(::stat((*store_.member_dir("web") + "/helper.log").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600U);
    EXPECT_TRUE(handle->close());
}

TEST_F(ClientLogTest, APlantedHelperLogSymlinkIsNotFollowed) {
    ASSERT_EQ(::mkdir(scratch_.file("private").c_str(), 0700), 0);
    const std::string absent = scratch_.file("private/created-through-link");
    const std::string present = scratch_.file("private/existing");
    write_text(present, "keep\n");
    const std::string dir = *store_.ensure_member_dir("web");
    for (const auto& target : {absent, present}) {
        ::unlink((dir + "/helper.log").c_str());
        ASSERT_EQ(::symlink(target.c_str(), (dir + "/helper.log").c_str()), 0);
        auto handle = launcher().spawn(store_, "web", client::HelperMode::Bound);
        ASSERT_FALSE(handle) << target;
        EXPECT_EQ(handle.error().kind, ErrorKind::Permission);
        EXPECT_NE(handle.error().message().find("symbolic link"), std::string::npos)
            << handle.error().message();
    }
    EXPECT_FALSE(path_exists(absent));
    EXPECT_EQ(read_text(present), "keep\n");
    EXPECT_TRUE(processes_mentioning(store_.root()).empty()) << "a helper was started";
}

} // namespace
} // namespace fleetbox::test
