// Unit tests for sys/fs: read_file, ensure_dir (mkdir -p with a mode), remove_tree (never
// following symlinks, never crossing mounts), list_dir, sizes of sparse files, free_space,
// find_program and the path helpers.
//
// Why: remove_tree runs on build directories that may contain symlinks to the host or leaked
// bind mounts; following either would delete host data. The sparse-file size is what the
// store reports as disk usage of qcow2/raw images.
#include "support/test_support.hpp"
#include "sys/fs.hpp"

#include <cerrno>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;

mode_t mode_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

TEST(ReadFile, ReadsWholeFileIncludingNulBytes) {
    test::ScratchDir dir;
    std::string content = std::string("a\0b\n", 4) + std::string(200000, 'x');
    test::write_text(dir.file("f"), content);
    auto r = read_file(dir.file("f"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(*r, content);
}

TEST(ReadFile, MissingIsNotFound) {
    test::ScratchDir dir;
    auto r = read_file(dir.file("missing"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(r.error().err_no, ENOENT);
    EXPECT_THAT(r.error().message(), HasSubstr(dir.file("missing")));
}

TEST(EnsureDir, CreatesNestedDirectoriesWithMode) {
    test::ScratchDir dir;
    std::string deep = dir.file("a/b/c");
    ASSERT_TRUE(ensure_dir(deep, 0700));
    EXPECT_TRUE(is_directory(deep));
    EXPECT_EQ(mode_of(dir.file("a")), 0700u);
    EXPECT_EQ(mode_of(dir.file("a/b")), 0700u);
    EXPECT_EQ(mode_of(deep), 0700u);
    ASSERT_TRUE(ensure_dir(dir.file("x/y"), 0750));
    EXPECT_EQ(mode_of(dir.file("x/y")), 0750u);
}

TEST(EnsureDir, ExistingDirectoryIsFineAndKeepsMode) {
    test::ScratchDir dir;
    ASSERT_EQ(::mkdir(dir.file("d").c_str(), 0755), 0);
    ASSERT_TRUE(ensure_dir(dir.file("d"), 0700));
    EXPECT_EQ(mode_of(dir.file("d")), 0755u);
    EXPECT_TRUE(ensure_dir(dir.file("d/")));
}

TEST(EnsureDir, FileInTheWayFails) {
    test::ScratchDir dir;
    test::write_text(dir.file("f"), "x");
    auto r = ensure_dir(dir.file("f"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::AlreadyExists);
    EXPECT_THAT(r.error().message(), HasSubstr(dir.file("f")));
    // A file as an intermediate component fails too.
    EXPECT_FALSE(ensure_dir(dir.file("f/sub/dir")));
    EXPECT_EQ(test::read_text(dir.file("f")), "x");
}

TEST(RemoveTree, RemovesNestedTree) {
    test::ScratchDir dir;
    test::write_text(dir.file("t/a/b/file1"), "1");
    test::write_text(dir.file("t/a/file2"), "2");
    test::write_text(dir.file("t/.hidden"), "3");
    ASSERT_EQ(::mkdir(dir.file("t/empty").c_str(), 0755), 0);
    ASSERT_EQ(::symlink("/nonexistent", dir.file("t/dangling").c_str()), 0);
    ASSERT_TRUE(remove_tree(dir.file("t")));
    EXPECT_FALSE(path_exists(dir.file("t")));
}

TEST(RemoveTree, SingleFileAndMissingPath) {
    test::ScratchDir dir;
    test::write_text(dir.file("f"), "x");
    EXPECT_TRUE(remove_tree(dir.file("f")));
    EXPECT_FALSE(path_exists(dir.file("f")));
    EXPECT_TRUE(remove_tree(dir.file("never-existed")));
}

TEST(RemoveTree, DoesNotFollowSymlinkInside) {
    test::ScratchDir outside;
    test::write_text(outside.file("precious/data"), "keep me");
    test::ScratchDir dir;
    test::write_text(dir.file("t/file"), "x");
    ASSERT_EQ(::symlink(outside.file("precious").c_str(), dir.file("t/link").c_str()), 0);
    ASSERT_TRUE(remove_tree(dir.file("t")));
    EXPECT_FALSE(path_exists(dir.file("t")));
    EXPECT_EQ(test::read_text(outside.file("precious/data")), "keep me");
}

TEST(RemoveTree, SymlinkAsRootRemovesOnlyTheLink) {
    test::ScratchDir outside;
    test::write_text(outside.file("data"), "keep me");
    test::ScratchDir dir;
    ASSERT_EQ(::symlink(outside.path().c_str(), dir.file("link").c_str()), 0);
    ASSERT_TRUE(remove_tree(dir.file("link")));
    EXPECT_FALSE(path_exists(dir.file("link")));
    EXPECT_EQ(test::read_text(outside.file("data")), "keep me");
}

TEST(RemoveTree, DoesNotCrossMountPoints) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to mount";
    test::ScratchDir dir;
    test::write_text(dir.file("t/file"), "x");
    ASSERT_EQ(::mkdir(dir.file("t/mnt").c_str(), 0755), 0);
    // Mount in a private mount namespace of a forked child, so nothing leaks if it fails.
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::unshare(CLONE_NEWNS) != 0)
            ::_exit(77);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            ::_exit(77);
        if (::mount("tmpfs", dir.file("t/mnt").c_str(), "tmpfs", 0, nullptr) != 0)
            ::_exit(77);
        test::write_text(dir.file("t/mnt/inside"), "on another fs");
        bool removed = remove_tree(dir.file("t")).has_value();
        bool inside_kept = test::read_text(dir.file("t/mnt/inside")) == "on another fs";
        ::umount(dir.file("t/mnt").c_str());
        ::_exit(!removed && inside_kept ? 0 : 1);
    }
    ASSERT_GT(pid, 0);
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77)
        GTEST_SKIP() << "cannot create a mount namespace here";
    EXPECT_EQ(WEXITSTATUS(st), 0) << "remove_tree descended into a mounted filesystem";
}

TEST(ListDir, SortedWithoutDotEntries) {
    test::ScratchDir dir;
    test::write_text(dir.file("b"), "");
    test::write_text(dir.file("a"), "");
    test::write_text(dir.file(".hidden"), "");
    ASSERT_EQ(::mkdir(dir.file("c").c_str(), 0755), 0);
    auto r = list_dir(dir.path());
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(*r, (std::vector<std::string>{".hidden", "a", "b", "c"}));
}

TEST(ListDir, MissingDirIsEmptyAndFileIsError) {
    test::ScratchDir dir;
    auto r = list_dir(dir.file("missing"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->empty());
    test::write_text(dir.file("f"), "x");
    auto e = list_dir(dir.file("f"));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().err_no, ENOTDIR);
}

TEST(Sizes, FileSizeAndMissingFile) {
    test::ScratchDir dir;
    test::write_text(dir.file("f"), std::string(12345, 'z'));
    auto s = file_size(dir.file("f"));
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, 12345u);
    auto m = file_size(dir.file("missing"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().kind, ErrorKind::NotFound);
    EXPECT_FALSE(allocated_size(dir.file("missing")));
}

TEST(Sizes, SparseFileAllocatesLittle) {
    test::ScratchDir dir;
    int fd = ::open(dir.file("sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 1LL << 30), 0);
    ASSERT_EQ(::pwrite(fd, "data", 4, 1LL << 20), 4);
    ::close(fd);
    auto size = file_size(dir.file("sparse"));
    auto alloc = allocated_size(dir.file("sparse"));
    ASSERT_TRUE(size && alloc);
    EXPECT_EQ(*size, 1ULL << 30);
    EXPECT_GT(*alloc, 0u);          // the written block counts
    EXPECT_LT(*alloc, 16ULL << 20); // the hole does not
}

TEST(Sizes, AllocatedSizeOfWrittenFile) {
    test::ScratchDir dir;
    test::write_text(dir.file("full"), std::string(1 << 20, 'q'));
    auto alloc = allocated_size(dir.file("full"));
    ASSERT_TRUE(alloc);
    EXPECT_GE(*alloc, 1ULL << 20);
}

TEST(FreeSpace, PositiveForScratchAndErrorForMissing) {
    test::ScratchDir dir;
    auto r = free_space(dir.path());
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_GT(*r, 0u);
    EXPECT_FALSE(free_space(dir.file("missing/deeper")));
}

TEST(FindProgram, FindsShAndNotNonsense) {
    std::string sh = find_program("sh");
    ASSERT_FALSE(sh.empty());
    EXPECT_EQ(base_name(sh), "sh");
    EXPECT_EQ(sh.front(), '/');
    EXPECT_EQ(::access(sh.c_str(), X_OK), 0);
    EXPECT_EQ(find_program("fleetbox-nonsense-program-91c2"), "");
}

TEST(FindProgram, HonorsPathAndExecutableBit) {
    test::ScratchDir dir;
    test::write_text(dir.file("bin/mytool"), "#!/bin/sh\n", 0755);
    test::write_text(dir.file("bin/notexec"), "#!/bin/sh\n", 0644);
    ASSERT_EQ(::mkdir(dir.file("bin/adir").c_str(), 0755), 0);
    test::ScopedEnv path("PATH", "/nonexistent::" + dir.file("bin"));
    EXPECT_EQ(find_program("mytool"), dir.file("bin/mytool"));
    EXPECT_EQ(find_program("notexec"), "");
    EXPECT_EQ(find_program("adir"), "");
    EXPECT_EQ(find_program("sh"), ""); // not on this PATH
}

TEST(FindProgram, PathWithSlashIsCheckedDirectly) {
    test::ScratchDir dir;
    test::write_text(dir.file("tool"), "#!/bin/sh\n", 0755);
    EXPECT_EQ(find_program(dir.file("tool")), dir.file("tool"));
    EXPECT_EQ(find_program(dir.file("missing")), "");
}

TEST(PathHelpers, ParentAndBaseName) {
    EXPECT_EQ(parent_dir("/a/b"), "/a");
    EXPECT_EQ(parent_dir("/a"), "/");
    EXPECT_EQ(parent_dir("a"), ".");
    EXPECT_EQ(parent_dir("a/b/c"), "a/b");
    EXPECT_EQ(base_name("/a/b"), "b");
    EXPECT_EQ(base_name("b"), "b");
}

TEST(PathHelpers, ExistsAndIsDirectory) {
    test::ScratchDir dir;
    test::write_text(dir.file("f"), "x");
    ASSERT_EQ(::symlink("/nonexistent", dir.file("dangling").c_str()), 0);
    ASSERT_EQ(::symlink(dir.path().c_str(), dir.file("dirlink").c_str()), 0);
    EXPECT_TRUE(path_exists(dir.file("f")));
    EXPECT_TRUE(path_exists(dir.file("dangling")));
    EXPECT_FALSE(path_exists(dir.file("missing")));
    EXPECT_TRUE(is_directory(dir.path()));
    EXPECT_TRUE(is_directory(dir.file("dirlink")));
    EXPECT_FALSE(is_directory(dir.file("f")));
}

TEST(PathHelpers, SelfExeAndFsyncDir) {
    std::string exe = self_exe();
    ASSERT_FALSE(exe.empty());
    EXPECT_TRUE(path_exists(exe));
    EXPECT_THAT(exe, HasSubstr("fleetbox_unit_sys_tests"));
    test::ScratchDir dir;
    EXPECT_TRUE(fsync_dir(dir.path()));
    auto r = fsync_dir(dir.file("missing"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
}

} // namespace
} // namespace fleetbox
