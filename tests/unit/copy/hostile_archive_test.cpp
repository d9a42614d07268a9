// A guest's tar stream is untrusted: crafted archives must be refused with a clear error, with
// nothing written outside the destination and nothing left under its final name. Each case
// runs the host half of a download (Scratch next to the destination, extract_tree, commit)
// on an archive built here, with a canary directory beside the destination's parent.
#include "copy/host_place.hpp"
#include "copy/tar_extract.hpp"
#include "sys/fs.hpp"
#include "sys/temp_dir.hpp"
#include "tar_builder.hpp"

#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::copy {
namespace {

using namespace testing;
namespace fs = std::filesystem;

struct Hostile : ::testing::Test {
    TempDir sandbox = *TempDir::create("/tmp", "fbx-copy-test-");
    std::string parent = sandbox.path() + "/parent";
    std::string outside = sandbox.path() + "/outside";
    std::string dest = parent + "/out";

    void SetUp() override {
        ASSERT_TRUE(ensure_dir(parent));
        ASSERT_TRUE(ensure_dir(outside));
    }
    void TearDown() override { make_tree_removable(sandbox.path()); }

    Status download(const std::vector<Member>& members, const std::string& top = "top") {
        auto bytes = std::make_shared<std::string>(make_tar(members));
        auto scratch = FBX_TRY(Scratch::next_to(dest));
        auto got = FBX_TRY(extract_tree(scratch.fd(), "data", top, source_of(bytes)));
        return scratch.commit("data", got.top_is_dir);
    }

    // The refusal, and the proof that nothing was written anywhere.
    void expect_refused(const std::vector<Member>& members, const std::string& why) {
        auto r = download(members);
        ASSERT_FALSE(r) << "archive was accepted";
        EXPECT_EQ(r.error().kind, ErrorKind::Corrupt) << r.error().message();
        EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
        EXPECT_TRUE(fs::is_empty(outside)) << "something was written outside";
        EXPECT_TRUE(fs::is_empty(parent)) << "something left next to the destination";
        EXPECT_FALSE(fs::exists(fs::symlink_status(dest)));
    }
};

TEST_F(Hostile, DotDotMember) {
    expect_refused({dir("top"), file("top/../../../outside/pwned")},
                   "unsafe tar entry \"top/../../../outside/pwned\": \"..\" in the path");
    expect_refused({file("../outside/pwned")}, "\"..\" in the path");
}

TEST_F(Hostile, AbsoluteMember) {
    expect_refused({dir("top"), file(outside + "/pwned")}, "absolute path");
}

TEST_F(Hostile, AbsoluteSymlinkThenAFileThroughIt) {
    expect_refused({dir("top"), link("top/evil", outside), file("top/evil/pwned")},
                   "unsafe tar entry \"top/evil\": symlink to \"" + outside + "\" is absolute");
}

TEST_F(Hostile, SymlinkClimbingOut) {
    expect_refused({dir("top"), link("top/up", "../../outside"), file("top/up/pwned")},
                   "symlink to \"../../outside\" leads outside the destination");
    expect_refused({dir("top"), dir("top/s"), link("top/s/l", "x/../../..")},
                   "climbs after a name");
}

TEST_F(Hostile, MemberBelowASymlinkIsRefusedEvenWhenTheLinkIsInside) {
    expect_refused({dir("top"), dir("top/sub"), link("top/l", "sub"), file("top/l/x")},
                   "its parent \"l\" is a symlink");
}

TEST_F(Hostile, DeviceNode) {
    Member dev{"top/null", AE_IFCHR, 0666, {}, {}, {}};
    expect_refused({dir("top"), dev}, "unsafe tar entry \"top/null\": device node");
}

TEST_F(Hostile, SecondTopLevelEntry) {
    expect_refused({dir("top"), file("top/a"), file("other")}, "\"other\": not under \"top\"");
}

TEST_F(Hostile, MemberBeforeItsParent) {
    expect_refused({file("top/a")}, "is not in the archive before it");
    expect_refused({file("top"), file("top/a")}, "its parent the top entry is not a directory");
}

TEST_F(Hostile, HardLinkOutside) {
    expect_refused({dir("top"), hardlink("top/h", "top/../../outside/secret")},
                   "\"..\" in the path");
    expect_refused({dir("top"), hardlink("top/h", "/etc/passwd")}, "absolute path");
    expect_refused({dir("top"), dir("top/d"), hardlink("top/h", "top/d")},
                   "which is not an earlier regular file");
}

TEST_F(Hostile, DirectoryReplacedByASymlink) {
    expect_refused({dir("top"), dir("top/d"), link("top/d", ".")}, "it would replace a directory");
}

TEST_F(Hostile, ALaterFileReplacesAnEarlierSymlinkInsteadOfWritingThroughIt) {
    ASSERT_TRUE(download({dir("top"), link("top/f", "target"), file("top/f", "data")}));
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dest + "/f")));
    EXPECT_FALSE(fs::exists(dest + "/target"));
    EXPECT_EQ(*read_file(dest + "/f"), "data");
}

TEST_F(Hostile, AWellFormedTreeKeepsModesLinksAndDropsSetuid) {
    Member fifo{"top/p", AE_IFIFO, 0640, {}, {}, {}};
    auto r = download({dir("top", 0750), file("top/bin", "#!/bin/sh\n", 0755),
                       file("top/suid", "x", 04755), dir("top/ro", 0555),
                       file("top/ro/f", "ro", 0444), link("top/l", "bin"),
                       link("top/ro/up", "../bin"), hardlink("top/h", "top/bin"), fifo});
    ASSERT_TRUE(r) << r.error().message();
    auto mode = [&](const std::string& p) {
        struct stat st {};
        EXPECT_EQ(::lstat((dest + p).c_str(), &st), 0) << p;
        return st.st_mode;
    };
    EXPECT_EQ(mode("") & 07777, 0750U);
    EXPECT_EQ(mode("/bin") & 07777, 0755U);
    EXPECT_EQ(mode("/suid") & 07777, 0755U) << "setuid must be dropped";
    EXPECT_EQ(mode("/ro") & 07777, 0555U);
    EXPECT_EQ(mode("/ro/f") & 07777, 0444U);
    EXPECT_TRUE(S_ISFIFO(mode("/p")));
    EXPECT_EQ(mode("/p") & 07777, 0640U);
    EXPECT_EQ(fs::read_symlink(dest + "/l"), "bin");
    EXPECT_EQ(fs::read_symlink(dest + "/ro/up"), "../bin");
    EXPECT_TRUE(fs::equivalent(dest + "/h", dest + "/bin"));
    EXPECT_EQ(*read_file(dest + "/ro/f"), "ro");
    struct stat st {};
    ASSERT_EQ(::stat((dest + "/bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtime, 1700000000);
    EXPECT_EQ(*list_dir(parent), std::vector<std::string>{"out"}) << "scratch left behind";
}

TEST_F(Hostile, GuestRootMembers) {
    ASSERT_TRUE(download({dir("./"), dir("./etc"), file("./etc/hosts", "h")}, "."));
    EXPECT_EQ(*read_file(dest + "/etc/hosts"), "h");
}

TEST_F(Hostile, ExistingDestination) {
    ASSERT_TRUE(ensure_dir(dest + "/old"));
    // A directory replaces a directory: nothing of the old tree remains.
    ASSERT_TRUE(download({dir("top"), file("top/new", "n")}));
    EXPECT_TRUE(fs::exists(dest + "/new"));
    EXPECT_FALSE(fs::exists(dest + "/old"));
    // A file never replaces a directory.
    auto r = download({file("top", "f")});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find(dest + " is a directory"), std::string::npos);
    EXPECT_TRUE(fs::exists(dest + "/new"));
    EXPECT_EQ(*list_dir(parent), std::vector<std::string>{"out"});
}

TEST_F(Hostile, DestinationParentIsAFile) {
    ASSERT_TRUE(ensure_dir(parent));
    std::string blocker = parent + "/file";
    ASSERT_EQ(::close(::creat(blocker.c_str(), 0600)), 0);
    dest = blocker + "/x/out";
    auto r = download({file("top", "f")});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(r.error().message(), blocker + " is not a directory");
}

TEST_F(Hostile, ParentsMadeForAFailedCopyAreRemoved) {
    dest = parent + "/new/deeper/out";
    ASSERT_FALSE(download({file("other")}));
    EXPECT_TRUE(fs::is_empty(parent));
    ASSERT_TRUE(download({file("top", "f")}));
    EXPECT_EQ(*read_file(dest), "f");
}

TEST_F(Hostile, GarbageStream) {
    auto bytes = std::make_shared<std::string>(std::string(4096, 'z'));
    auto scratch = Scratch::next_to(dest);
    ASSERT_TRUE(scratch);
    auto r = extract_tree(scratch->fd(), "data", "top", source_of(bytes));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().operation, "read the guest's tar stream");
}

} // namespace
} // namespace fleetbox::copy
