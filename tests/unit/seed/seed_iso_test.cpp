// Unit tests for the seed ISO: read back with libisofs's own importer (with and without the
// Rock Ridge/Joliet extensions), its label as blkid (what cloud-init uses to find it) sees it,
// and atomic writing (a failure leaves no file and no temporary behind).
#include "seed/iso_image.hpp"
#include "seed/seed.hpp"
#include "seed_spec_fixture.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libisofs/libisofs.h>
#include <map>
#include <sys/stat.h>

namespace fleetbox::seed {
namespace {

using ::testing::ElementsAre;
using testing::valid_spec;

struct ReadBack {
    std::string volume_id;
    std::string publisher;
    std::map<std::string, std::string> files; // root name -> content
};

std::string read_stream(IsoFile* file) {
    IsoStream* stream = iso_file_get_stream(file);
    std::string out;
    if (iso_stream_open(stream) < 0)
        return "<open failed>";
    char buf[4096];
    int n = 0;
    while ((n = iso_stream_read(stream, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    iso_stream_close(stream);
    return out;
}

// Import an image with libisofs (initialized by the write that made it).
ReadBack read_iso(const std::string& path, bool extensions) {
    ReadBack back;
    IsoDataSource* src = nullptr;
    IsoReadOpts* opts = nullptr;
    IsoImage* image = nullptr;
    IsoReadImageFeatures* features = nullptr;
    EXPECT_GE(iso_data_source_new_from_file(path.c_str(), &src), 0);
    EXPECT_GE(iso_read_opts_new(&opts, 0), 0);
    iso_read_opts_set_no_rockridge(opts, extensions ? 0 : 1);
    iso_read_opts_set_no_joliet(opts, extensions ? 0 : 1);
    EXPECT_GE(iso_image_new("readback", &image), 0);
    int rc = iso_image_import(image, src, opts, &features);
    EXPECT_GE(rc, 0) << iso_error_to_msg(rc);
    if (rc >= 0) {
        back.volume_id = iso_image_get_volume_id(image);
        back.publisher = iso_image_get_publisher_id(image) ? iso_image_get_publisher_id(image) : "";
        IsoDirIter* iter = nullptr;
        EXPECT_EQ(iso_dir_get_children(iso_image_get_root(image), &iter), 1);
        IsoNode* node = nullptr;
        while (iso_dir_iter_next(iter, &node) == 1) {
            std::string name = iso_node_get_name(node);
            back.files[name] = ISO_NODE_IS_FILE(node)
                                   ? read_stream(reinterpret_cast<IsoFile*>(node))
                                   : "<not a file>";
        }
        iso_dir_iter_free(iter);
        iso_read_image_features_destroy(features);
    }
    iso_image_unref(image);
    iso_read_opts_free(opts);
    iso_data_source_unref(src);
    return back;
}

std::vector<std::string> names(const ReadBack& back) {
    std::vector<std::string> out;
    for (const auto& [name, content] : back.files)
        out.push_back(name);
    return out;
}

TEST(SeedIso, RootHoldsTheThreeDocumentsWithCidataLabel) {
    test::ScratchDir dir;
    auto spec = valid_spec("web-3");
    const std::string iso = dir.file("seed.iso");
    auto written = write_seed_iso(spec, iso);
    ASSERT_TRUE(written) << written.error().message();

    auto back = read_iso(iso, true);
    EXPECT_EQ(back.volume_id, "cidata");
    EXPECT_EQ(back.publisher, "FLEETBOX"); // ISO 9660 a-characters: libisofs uppercases it
    EXPECT_THAT(names(back), ElementsAre("meta-data", "network-config", "user-data"));
    EXPECT_EQ(back.files["meta-data"], *render_meta_data(spec));
    EXPECT_EQ(back.files["user-data"], *render_user_data(spec));
    EXPECT_EQ(back.files["network-config"], *render_network_config(spec));
}

TEST(SeedIso, PlainIso9660NamesAreNotMangled) {
    test::ScratchDir dir;
    const std::string iso = dir.file("seed.iso");
    ASSERT_TRUE(write_seed_iso(valid_spec(), iso));
    auto back = read_iso(iso, false);
    EXPECT_THAT(names(back), ElementsAre("meta-data", "network-config", "user-data"));
}

TEST(SeedIso, BlkidSeesTheCidataLabel) {
    if (find_program("blkid").empty())
        GTEST_SKIP() << "blkid not installed";
    test::ScratchDir dir;
    const std::string iso = dir.file("seed.iso");
    ASSERT_TRUE(write_seed_iso(valid_spec(), iso));
    ChildSpec spec;
    spec.argv = {"blkid", "-p", "-o", "export", iso};
    spec.out = Stream::Capture;
    auto out = run_command(spec);
    ASSERT_TRUE(out && out->status.ok()) << (out ? out->err : out.error().message());
    EXPECT_THAT(out->out, ::testing::HasSubstr("LABEL=cidata\n"));
    EXPECT_THAT(out->out, ::testing::HasSubstr("TYPE=iso9660\n"));
}

TEST(SeedIso, ReplacesAnExistingFile) {
    test::ScratchDir dir;
    const std::string iso = dir.file("seed.iso");
    test::write_text(iso, "old");
    ASSERT_TRUE(write_seed_iso(valid_spec("new-1"), iso));
    auto back = read_iso(iso, true);
    EXPECT_THAT(back.files["meta-data"], ::testing::HasSubstr("new-1"));
}

TEST(SeedIso, InvalidSpecWritesNothingAndKeepsTheOldFile) {
    test::ScratchDir dir;
    const std::string iso = dir.file("seed.iso");
    test::write_text(iso, "old");
    auto spec = valid_spec();
    spec.mac = "nope";
    auto written = write_seed_iso(spec, iso);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(test::read_text(iso), "old");
    EXPECT_THAT(*list_dir(dir.path()), ElementsAre("seed.iso"));
}

TEST(SeedIso, MissingDirectoryIsAnErrorAndCreatesNothing) {
    test::ScratchDir dir;
    auto written = write_seed_iso(valid_spec(), dir.file("absent/seed.iso"));
    ASSERT_FALSE(written);
    EXPECT_THAT(written.error().message(), ::testing::HasSubstr(dir.file("absent/seed.iso")));
    EXPECT_TRUE(list_dir(dir.path())->empty());
}

TEST(SeedIso, UnwritableDirectoryIsAnErrorAndLeavesNoFile) {
    if (::geteuid() == 0)
        GTEST_SKIP() << "root ignores directory permissions";
    test::ScratchDir dir;
    ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);
    auto written = write_seed_iso(valid_spec(), dir.file("seed.iso"));
    ::chmod(dir.path().c_str(), 0755);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().kind, ErrorKind::Permission);
    EXPECT_TRUE(list_dir(dir.path())->empty());
}

// A failure after the image was generated (the final rename fails because a directory is in
// the way) must still remove the temporary file.
TEST(SeedIso, FailedRenameLeavesNoTemporaryFile) {
    test::ScratchDir dir;
    const std::string iso = dir.file("seed.iso");
    ASSERT_TRUE(ensure_dir(iso + "/occupied"));
    auto written = write_seed_iso(valid_spec(), iso);
    ASSERT_FALSE(written);
    EXPECT_THAT(*list_dir(dir.path()), ElementsAre("seed.iso"));
    EXPECT_TRUE(is_directory(iso));
}

TEST(IsoImage, EmptyAndBinaryFilesRoundTrip) {
    test::ScratchDir dir;
    IsoSpec spec{"vol", "pub", {{"empty", ""}, {"bin", std::string("a\0b\xff", 4)}}};
    const std::string iso = dir.file("x.iso");
    auto written = write_iso_image(spec, iso);
    ASSERT_TRUE(written) << written.error().message();
    auto back = read_iso(iso, true);
    EXPECT_EQ(back.files["empty"], "");
    EXPECT_EQ(back.files["bin"], std::string("a\0b\xff", 4));
}

TEST(IsoImage, DuplicateNamesAreAnError) {
    test::ScratchDir dir;
    IsoSpec spec{"vol", "pub", {{"a", "1"}, {"a", "2"}}};
    auto written = write_iso_image(spec, dir.file("x.iso"));
    ASSERT_FALSE(written);
    EXPECT_TRUE(list_dir(dir.path())->empty());
}

} // namespace
} // namespace fleetbox::seed
