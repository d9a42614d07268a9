// Unit tests for write_tar_image: the archive read back with libarchive's reader has the
// entries in order with their contents, permission bits and root ownership; the file is a
// 0600 (or the given mode) ustar archive of whole 512-byte sectors; unsafe names are refused
// before anything is written (no file, an existing one unchanged, no temporary left).
#include "seed/tar_image.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"
#include "tar_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fleetbox::seed {
namespace {

using ::testing::ElementsAre;
using testing::entry_names;
using ::testing::HasSubstr;
using testing::read_tar;

mode_t file_mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

TEST(TarImage, ReadsBackWithNamesContentsModesAndRootOwnership) {
    test::ScratchDir dir;
    const std::string tar = dir.file("seed.tar");
    std::vector<TarEntry> entries = {
        {"format", "fleetbox-seed 1\n", 0644},
        {"secret", "-----BEGIN KEY-----\nabc\n", 0600},
        {"run", "#!/bin/sh\n", 0755},
        {"empty", "", 0644},
        {"binary", std::string("a\0b\xff\n", 5), 0640},
        {"sub/dir/file", "nested", 0644},
    };
    auto written = write_tar_image(entries, tar);
    ASSERT_TRUE(written) << written.error().message();

    auto back = read_tar(tar);
    EXPECT_THAT(entry_names(back),
                ElementsAre("format", "secret", "run", "empty", "binary", "sub/dir/file"));
    ASSERT_EQ(back.size(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
        SCOPED_TRACE(entries[i].name);
        EXPECT_EQ(back[i].content, entries[i].content);
        EXPECT_EQ(back[i].perm, entries[i].mode);
        EXPECT_TRUE(back[i].regular);
        EXPECT_EQ(back[i].uid, 0);
        EXPECT_EQ(back[i].gid, 0);
    }
}

TEST(TarImage, LargeContentRoundTrips) {
    test::ScratchDir dir;
    const std::string tar = dir.file("big.tar");
    std::string big;
    for (int i = 0; i < 100000; ++i)
        big += static_cast<char>('a' + i % 26);
    ASSERT_TRUE(write_tar_image({{"big", big, 0644}}, tar));
    auto back = read_tar(tar);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].content, big);
}

TEST(TarImage, FileIsPrivateByDefaultAndTakesAGivenMode) {
    test::ScratchDir dir;
    ASSERT_TRUE(write_tar_image({{"a", "1", 0644}}, dir.file("default.tar")));
    EXPECT_EQ(file_mode(dir.file("default.tar")), 0600u);
    ASSERT_TRUE(write_tar_image({{"a", "1", 0644}}, dir.file("public.tar"), 0644));
    EXPECT_EQ(file_mode(dir.file("public.tar")), 0644u);
}

TEST(TarImage, IsUstarInWholeSectors) {
    test::ScratchDir dir;
    const std::string tar = dir.file("seed.tar");
    ASSERT_TRUE(write_tar_image(
        {{"hostname", "web-1\n", 0644}, {"odd", std::string(777, 'x'), 0644}}, tar));
    auto size = file_size(tar);
    ASSERT_TRUE(size);
    EXPECT_GT(*size, 0u);
    EXPECT_EQ(*size % 512, 0u) << *size;
    std::string bytes = test::read_text(tar);
    ASSERT_GE(bytes.size(), 263u);
    EXPECT_EQ(bytes.substr(257, 5), "ustar");
    EXPECT_EQ(bytes.substr(0, 9), std::string("hostname\0", 9)); // the first header's name field
}

TEST(TarImage, NoEntriesIsAnEmptyArchive) {
    test::ScratchDir dir;
    const std::string tar = dir.file("empty.tar");
    ASSERT_TRUE(write_tar_image({}, tar));
    EXPECT_TRUE(read_tar(tar).empty());
    EXPECT_EQ(*file_size(tar) % 512, 0u);
}

TEST(TarImage, ReplacesAnExistingFile) {
    test::ScratchDir dir;
    const std::string tar = dir.file("seed.tar");
    test::write_text(tar, "old", 0644);
    ASSERT_TRUE(write_tar_image({{"new", "1", 0644}}, tar));
    EXPECT_THAT(entry_names(read_tar(tar)), ElementsAre("new"));
    EXPECT_EQ(file_mode(tar), 0600u);
    EXPECT_THAT(*list_dir(dir.path()), ElementsAre("seed.tar"));
}

class UnsafeName : public ::testing::TestWithParam<std::string> {};

TEST_P(UnsafeName, IsRefusedAndWritesNothing) {
    test::ScratchDir dir;
    const std::string tar = dir.file("seed.tar");
    auto written = write_tar_image({{"format", "ok", 0644}, {GetParam(), "x", 0644}}, tar);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(written.error().message(), HasSubstr("unsafe entry name"));
    EXPECT_THAT(written.error().message(), HasSubstr(tar));
    EXPECT_TRUE(list_dir(dir.path())->empty());
}

TEST_P(UnsafeName, KeepsAnExistingFileUnchanged) {
    test::ScratchDir dir;
    const std::string tar = dir.file("seed.tar");
    test::write_text(tar, "old", 0644);
    auto written = write_tar_image({{GetParam(), "x", 0644}}, tar);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(test::read_text(tar), "old");
    EXPECT_EQ(file_mode(tar), 0644u);
    EXPECT_THAT(*list_dir(dir.path()), ElementsAre("seed.tar"));
}

INSTANTIATE_TEST_SUITE_P(TarImage, UnsafeName,
                         ::testing::Values("/abs", "../x", "a/../../b", "", "..", "x/..", "a/../b",
                                           std::string(100, 'n')),
                         [](const auto& param_info) {
                             return "case" + std::to_string(param_info.index);
                         });

TEST(TarImage, NamesUpToTheUstarLimitAreAccepted) {
    test::ScratchDir dir;
    const std::string tar = dir.file("seed.tar");
    const std::string name(99, 'n');
    ASSERT_TRUE(write_tar_image({{name, "x", 0644}, {"..hidden", "y", 0644}}, tar));
    EXPECT_THAT(entry_names(read_tar(tar)), ElementsAre(name, "..hidden"));
}

TEST(TarImage, MissingDirectoryIsAnError) {
    test::ScratchDir dir;
    auto written = write_tar_image({{"a", "1", 0644}}, dir.file("absent/seed.tar"));
    ASSERT_FALSE(written);
    EXPECT_TRUE(list_dir(dir.path())->empty());
}

} // namespace
} // namespace fleetbox::seed
