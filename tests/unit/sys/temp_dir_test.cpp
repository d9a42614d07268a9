// Unit tests for sys/temp_dir: unique 0700 directories removed with their contents on drop,
// release() to keep one, explicit remove(), and move semantics (exactly one owner removes).
//
// Why: image builds stage into a TempDir and rename it into the store; a moved or released
// TempDir must never delete the finished result, and an abandoned one must not linger.
#include "support/test_support.hpp"
#include "sys/fs.hpp"
#include "sys/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fleetbox {
namespace {

mode_t mode_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

TEST(TempDir, CreatedUniqueWithMode0700) {
    test::ScratchDir parent;
    auto a = TempDir::create(parent.path(), "build-");
    auto b = TempDir::create(parent.path(), "build-");
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->path(), b->path());
    EXPECT_EQ(a->path().rfind(parent.path() + "/build-", 0), 0u) << a->path();
    EXPECT_EQ(a->path().size(), (parent.path() + "/build-XXXXXX").size());
    EXPECT_TRUE(is_directory(a->path()));
    EXPECT_EQ(mode_of(a->path()), 0700u);
}

TEST(TempDir, RemovedWithContentsOnDestruction) {
    test::ScratchDir parent;
    std::string path;
    {
        auto t = TempDir::create(parent.path(), "t-");
        ASSERT_TRUE(t) << t.error().message();
        path = t->path();
        test::write_text(path + "/sub/deeper/file", "content");
        test::write_text(path + "/top", "content");
    }
    EXPECT_FALSE(path_exists(path));
    auto left = list_dir(parent.path());
    ASSERT_TRUE(left);
    EXPECT_TRUE(left->empty());
}

TEST(TempDir, ReleaseKeepsDirectory) {
    test::ScratchDir parent;
    std::string kept;
    {
        auto t = TempDir::create(parent.path(), "t-");
        ASSERT_TRUE(t) << t.error().message();
        std::string original = t->path();
        test::write_text(original + "/file", "keep");
        kept = t->release();
        EXPECT_EQ(kept, original);
        EXPECT_TRUE(t->path().empty());
    }
    EXPECT_EQ(test::read_text(kept + "/file"), "keep");
}

TEST(TempDir, ExplicitRemove) {
    test::ScratchDir parent;
    auto t = TempDir::create(parent.path(), "t-");
    ASSERT_TRUE(t);
    std::string path = t->path();
    test::write_text(path + "/f", "x");
    EXPECT_TRUE(t->remove());
    EXPECT_FALSE(path_exists(path));
    EXPECT_TRUE(t->path().empty());
    EXPECT_TRUE(t->remove()); // idempotent
}

TEST(TempDir, MoveConstructionTransfersOwnership) {
    test::ScratchDir parent;
    auto t = TempDir::create(parent.path(), "t-");
    ASSERT_TRUE(t);
    std::string path = t->path();
    {
        TempDir owner(std::move(*t));
        EXPECT_EQ(owner.path(), path);
        EXPECT_TRUE(t->path().empty());
        t = fail(ErrorKind::Internal, "drop the moved-from shell");
        EXPECT_TRUE(is_directory(path)); // the moved-from object did not remove it
    }
    EXPECT_FALSE(path_exists(path));
}

TEST(TempDir, MoveAssignmentRemovesPreviousDirectory) {
    test::ScratchDir parent;
    auto a = TempDir::create(parent.path(), "a-");
    auto b = TempDir::create(parent.path(), "b-");
    ASSERT_TRUE(a && b);
    std::string pa = a->path();
    std::string pb = b->path();
    *a = std::move(*b);
    EXPECT_FALSE(path_exists(pa));
    EXPECT_EQ(a->path(), pb);
    EXPECT_TRUE(is_directory(pb));
    EXPECT_TRUE(b->path().empty());
}

TEST(TempDir, MissingParentFails) {
    test::ScratchDir parent;
    auto t = TempDir::create(parent.file("missing"), "t-");
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().kind, ErrorKind::NotFound);
}

} // namespace
} // namespace fleetbox
