// Component test for build_fixture_images with the real mkfs.ext4 and debugfs: the image
// holds the tree (nested file, symlink kept as a symlink, hard link), every entry root-owned
// with directories 0555 and files 0444 (0555 when executable), no lost+found, label FBFIX<i>,
// mode 0600; a rebuild replaces the image with the directory's new content; a failure (a FIFO
// in the tree, a file the user cannot read, a vanished host directory) is one error line and
// leaves no image and no temporary file behind, also none from an earlier boot.
#include "client/fixtures.hpp"
#include "support/as_user.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fleetbox::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

class FixtureImage : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_program("mkfs.ext4").empty() || find_program("debugfs").empty())
            GTEST_SKIP() << "e2fsprogs is not installed";
        root_ = fs::temp_directory_path() / ("fbx-fiximg-" + std::to_string(::getpid()));
        fs::create_directories(root_ / "member");
        fs::create_directories(src() + "/nested/deeper");
        write(src() + "/nested/deeper/file.txt", "hello fixture\n");
        write(src() + "/tool.sh", "#!/bin/sh\necho hi\n");
        fs::permissions(src() + "/tool.sh", fs::perms(0755));
        fs::create_symlink("nested/deeper/file.txt", src() + "/link");
        fs::create_hard_link(src() + "/tool.sh", src() + "/tool-again.sh");
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    [[nodiscard]] std::string src() const { return (root_ / "src").string(); }
    [[nodiscard]] std::string member() const { return (root_ / "member").string(); }
    [[nodiscard]] std::vector<StoredFixture> one() const { return {{src(), "/srv/x", "FBFIX0"}}; }
    static void write(const std::string& path, const std::string& text) {
        std::ofstream(path) << text;
    }
    // debugfs -R "<request>" on the image: its stdout.
    static std::string debugfs(const std::string& image, const std::string& request) {
        ChildSpec spec;
        spec.argv = {"debugfs", "-R", request, image};
        spec.out = Stream::Capture;
        auto r = run_command(spec, std::chrono::seconds(30));
        return r ? r->out : std::string();
    }
    [[nodiscard]] std::vector<std::string> member_files() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(root_ / "member"))
            names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

    fs::path root_;
};

TEST_F(FixtureImage, HoldsTheTreeRootOwnedWithReadOnlyModes) {
    auto built = build_fixture_images(one(), member());
    ASSERT_TRUE(built) << built.error().message();
    const std::string image = member() + "/fixture-0.img";
    EXPECT_THAT(*built, ElementsAre(image));
    EXPECT_THAT(member_files(), ElementsAre("fixture-0.img")); // no temporary file left
    struct stat st {};
    ASSERT_EQ(::stat(image.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    EXPECT_EQ(debugfs(image, "cat /nested/deeper/file.txt"), "hello fixture\n");
    EXPECT_THAT(debugfs(image, "stat /link"),
                HasSubstr("Fast link dest: \"nested/deeper/file.txt\""));
    // "ls -p": /inode/mode/uid/gid/name/size/ per entry.
    const std::string root_list = debugfs(image, "ls -p /");
    EXPECT_THAT(root_list, HasSubstr("/040555/0/0/./"));
    EXPECT_THAT(root_list, HasSubstr("/040555/0/0/nested/"));
    EXPECT_THAT(root_list, HasSubstr("/100555/0/0/tool.sh/"));
    EXPECT_THAT(root_list, HasSubstr("/120777/0/0/link/"));
    EXPECT_THAT(root_list, ::testing::Not(HasSubstr("lost+found")));
    EXPECT_THAT(debugfs(image, "ls -p /nested/deeper"), HasSubstr("/100444/0/0/file.txt/"));
    EXPECT_THAT(debugfs(image, "stat /tool-again.sh"), HasSubstr("Links: 2"));
    EXPECT_THAT(debugfs(image, "stats"), HasSubstr("Filesystem volume name:   FBFIX0"));
}

TEST_F(FixtureImage, ARebuildShowsTheNewContent) {
    ASSERT_TRUE(build_fixture_images(one(), member()));
    write(src() + "/nested/deeper/file.txt", "second\n");
    write(src() + "/added.txt", std::string(3 << 20, 'x')); // more than the first image held
    auto built = build_fixture_images(one(), member());
    ASSERT_TRUE(built) << built.error().message();
    EXPECT_EQ(debugfs(built->front(), "cat /nested/deeper/file.txt"), "second\n");
    EXPECT_EQ(debugfs(built->front(), "cat /added.txt").size(), 3u << 20);
    EXPECT_THAT(member_files(), ElementsAre("fixture-0.img"));
}

TEST_F(FixtureImage, AFailureLeavesNoImageNotEvenTheLastBootsOne) {
    ASSERT_TRUE(build_fixture_images(one(), member()));
    ASSERT_EQ(::mkfifo((src() + "/nested/pipe").c_str(), 0600), 0);
    auto fifo = build_fixture_images(one(), member());
    ASSERT_FALSE(fifo);
    EXPECT_EQ(fifo.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(fifo.error().message(),
                HasSubstr("fixture \"" + src() + "/nested/pipe\": unsupported file type"));
    EXPECT_EQ(fifo.error().message().find('\n'), std::string::npos);
    EXPECT_TRUE(member_files().empty());

    fs::remove(src() + "/nested/pipe");
    fs::remove_all(src());
    auto gone = build_fixture_images(one(), member());
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(gone.error().message(), HasSubstr("does not exist"));
    EXPECT_TRUE(member_files().empty());
}

TEST_F(FixtureImage, AnUnreadableFileIsNamed) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to build as another user";
    // The tree and the member directory belong to nobody; the secret stays root's.
    write(src() + "/secret", "root only\n");
    ::chmod((src() + "/secret").c_str(), 0600);
    for (const auto& e : fs::recursive_directory_iterator(root_))
        if (e.path() != fs::path(src() + "/secret"))
            (void)::lchown(e.path().c_str(), test::kNobody, test::kNobody);
    (void)::chown(root_.c_str(), test::kNobody, test::kNobody);
    auto result = test::run_as_user(test::kNobody, test::kNobody, [&]() -> std::string {
        auto built = build_fixture_images(one(), member());
        return built ? "built" : built.error().message();
    });
    EXPECT_THAT(result, HasSubstr("fixture \"" + src() + "/secret\": cannot read it"));
    EXPECT_TRUE(member_files().empty());
}

} // namespace
} // namespace fleetbox::client
