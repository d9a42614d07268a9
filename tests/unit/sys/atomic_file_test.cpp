// Unit tests for sys/atomic_file: commit writes the content with the requested mode, an
// uncommitted AtomicFile leaves the old content and no temporary file, write_file_atomic
// replaces by rename (a new inode), and failures leave the directory clean.
//
// Why: config.json and manifests must never be seen half-written, and a crashed or abandoned
// write must not leave ".name.tmp-XXXXXX" litter that a later listing trips over.
#include "support/test_support.hpp"
#include "sys/atomic_file.hpp"
#include "sys/fs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using Names = std::vector<std::string>;

struct stat stat_of(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st;
}

Names entries(const std::string& dir) {
    auto r = list_dir(dir);
    return r ? *r : Names{"<list failed>"};
}

TEST(AtomicFile, CommitWritesContentWithMode) {
    test::ScratchDir dir;
    auto f = AtomicFile::open(dir.file("config.json"), 0600);
    ASSERT_TRUE(f) << f.error().message();
    ASSERT_TRUE(f->write("{\"a\":"));
    ASSERT_TRUE(f->write("1}\n"));
    ASSERT_TRUE(f->commit());
    EXPECT_EQ(test::read_text(dir.file("config.json")), "{\"a\":1}\n");
    EXPECT_EQ(stat_of(dir.file("config.json")).st_mode & 07777, 0600u);
    EXPECT_EQ(entries(dir.path()), (Names{"config.json"}));
    EXPECT_TRUE(f->commit()); // a second commit is a no-op
}

TEST(AtomicFile, ModeIsNotNarrowedByUmask) {
    test::ScratchDir dir;
    mode_t old = ::umask(077);
    auto st = write_file_atomic(dir.file("f"), "x", 0644);
    ::umask(old);
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_EQ(stat_of(dir.file("f")).st_mode & 07777, 0644u);
}

TEST(AtomicFile, TempFileLivesBesideTargetUntilCommit) {
    test::ScratchDir dir;
    test::write_text(dir.file("manifest"), "old");
    auto f = AtomicFile::open(dir.file("manifest"));
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ(parent_dir(f->temp_path()), dir.path());
    EXPECT_TRUE(path_exists(f->temp_path()));
    ASSERT_TRUE(f->write("new"));
    EXPECT_EQ(test::read_text(dir.file("manifest")), "old"); // readers still see the old one
    ASSERT_TRUE(f->commit());
    EXPECT_EQ(test::read_text(dir.file("manifest")), "new");
    EXPECT_FALSE(path_exists(f->temp_path()));
}

TEST(AtomicFile, UncommittedDropKeepsOldContentAndCleansUp) {
    test::ScratchDir dir;
    test::write_text(dir.file("config.json"), "old content");
    std::string temp;
    {
        auto f = AtomicFile::open(dir.file("config.json"));
        ASSERT_TRUE(f) << f.error().message();
        temp = f->temp_path();
        ASSERT_TRUE(f->write("half-written new con"));
    }
    EXPECT_EQ(test::read_text(dir.file("config.json")), "old content");
    EXPECT_FALSE(path_exists(temp));
    EXPECT_EQ(entries(dir.path()), (Names{"config.json"}));
}

TEST(AtomicFile, UncommittedDropWithoutPreviousFileLeavesNothing) {
    test::ScratchDir dir;
    {
        auto f = AtomicFile::open(dir.file("new.json"));
        ASSERT_TRUE(f);
    }
    EXPECT_TRUE(entries(dir.path()).empty());
}

TEST(AtomicFile, MoveKeepsSingleOwnerOfTempFile) {
    test::ScratchDir dir;
    auto f = AtomicFile::open(dir.file("target"));
    ASSERT_TRUE(f) << f.error().message();
    AtomicFile owner(std::move(*f));
    f = fail(ErrorKind::Internal, "drop the moved-from shell");
    EXPECT_TRUE(path_exists(owner.temp_path()));
    ASSERT_TRUE(owner.write("moved"));
    ASSERT_TRUE(owner.commit());
    EXPECT_EQ(test::read_text(dir.file("target")), "moved");
}

TEST(AtomicFile, MoveAssignmentDiscardsOverwrittenTempFile) {
    test::ScratchDir dir;
    auto a = AtomicFile::open(dir.file("a"));
    auto b = AtomicFile::open(dir.file("b"));
    ASSERT_TRUE(a && b);
    std::string a_temp = a->temp_path();
    *a = std::move(*b);
    // The uncommitted write that was replaced is abandoned, like a dropped AtomicFile.
    EXPECT_FALSE(path_exists(a_temp)) << "temporary file leaked: " << a_temp;
    ASSERT_TRUE(a->write("b-data"));
    ASSERT_TRUE(a->commit());
    EXPECT_EQ(test::read_text(dir.file("b")), "b-data");
}

TEST(WriteFileAtomic, ReplacesExistingContentByRename) {
    test::ScratchDir dir;
    test::write_text(dir.file("f"), "a much longer old content that must fully disappear");
    ino_t old_inode = stat_of(dir.file("f")).st_ino;
    ASSERT_TRUE(write_file_atomic(dir.file("f"), "short", 0640));
    EXPECT_EQ(test::read_text(dir.file("f")), "short");
    EXPECT_NE(stat_of(dir.file("f")).st_ino, old_inode);
    EXPECT_EQ(stat_of(dir.file("f")).st_mode & 07777, 0640u);
    EXPECT_EQ(entries(dir.path()), (Names{"f"}));
}

TEST(WriteFileAtomic, EmptyContent) {
    test::ScratchDir dir;
    test::write_text(dir.file("f"), "old");
    ASSERT_TRUE(write_file_atomic(dir.file("f"), ""));
    EXPECT_EQ(test::read_text(dir.file("f")), "");
}

TEST(WriteFileAtomic, MissingDirectoryFailsCleanly) {
    test::ScratchDir dir;
    auto st = write_file_atomic(dir.file("missing/config.json"), "x");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(st.error().message(), HasSubstr("missing/config.json"));
    EXPECT_TRUE(entries(dir.path()).empty());
}

TEST(AtomicFile, CommitFailureKeepsOldFileAndRemovesTemp) {
    test::ScratchDir dir;
    ASSERT_TRUE(ensure_dir(dir.file("target"))); // a non-empty directory cannot be renamed over
    test::write_text(dir.file("target/inside"), "x");
    std::string temp;
    {
        auto f = AtomicFile::open(dir.file("target"));
        ASSERT_TRUE(f) << f.error().message();
        temp = f->temp_path();
        ASSERT_TRUE(f->write("data"));
        EXPECT_FALSE(f->commit());
    }
    EXPECT_TRUE(is_directory(dir.file("target")));
    EXPECT_FALSE(path_exists(temp));
    EXPECT_EQ(entries(dir.path()), (Names{"target"}));
}

} // namespace
} // namespace fleetbox
