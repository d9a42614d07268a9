// Overlay creation against a small real qcow2 base made with qemu-img: right virtual size,
// a tiny file, the backing file pointing at the base; a too-small size or an existing file is
// refused and nothing is left behind.
#include "image/overlay.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::image {
namespace {

using ::testing::HasSubstr;

constexpr std::uint64_t kBaseSize = 64ULL << 20;

class Overlay : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_program("qemu-img").empty())
            GTEST_SKIP() << "qemu-img (qemu-utils) is not installed";
        base_.alias = "tiny";
        base_.dir = scratch_.file("images/tiny");
        base_.disk_path = base_.dir + "/disk.qcow2";
        base_.manifest.virtual_size = kBaseSize;
        ASSERT_TRUE(ensure_dir(base_.dir));
        ChildSpec spec;
        spec.argv = {
            "qemu-img", "create", "-q", "-f", "qcow2", base_.disk_path, std::to_string(kBaseSize)};
        auto made = run_checked(spec);
        ASSERT_TRUE(made) << made.error().message();
    }

    nlohmann::json info(const std::string& path) {
        ChildSpec spec;
        spec.argv = {"qemu-img", "info", "--output=json", "-U", path};
        spec.out = Stream::Capture;
        auto out = run_checked(spec);
        EXPECT_TRUE(out) << out.error().message();
        return out ? nlohmann::json::parse(out->out) : nlohmann::json{};
    }

    std::vector<std::string> vm_dir_entries() { return *list_dir(scratch_.file("vm")); }

    test::ScratchDir scratch_;
    ImageInfo base_;
};

TEST_F(Overlay, CreatesASmallOverlayOfTheRequestedSize) {
    ASSERT_TRUE(ensure_dir(scratch_.file("vm")));
    std::string out = scratch_.file("vm/disk.qcow2");
    auto st = create_overlay(base_, out, 1ULL << 30);
    ASSERT_TRUE(st) << st.error().message();
    auto j = info(out);
    EXPECT_EQ(j["format"], "qcow2");
    EXPECT_EQ(j["virtual-size"].get<std::uint64_t>(), 1ULL << 30);
    EXPECT_EQ(j["backing-filename"], base_.disk_path);
    EXPECT_EQ(j["backing-filename-format"], "qcow2");
    EXPECT_LT(*allocated_size(out), 1ULL << 20); // a few hundred KiB at most
    EXPECT_EQ(vm_dir_entries(), std::vector<std::string>{"disk.qcow2"}); // no temp file left
}

TEST_F(Overlay, DefaultSizeIs20GiB) {
    ASSERT_TRUE(ensure_dir(scratch_.file("vm")));
    std::string out = scratch_.file("vm/disk.qcow2");
    ASSERT_TRUE(create_overlay(base_, out));
    EXPECT_EQ(kDefaultDiskSize, 20ULL << 30);
    EXPECT_EQ(info(out)["virtual-size"].get<std::uint64_t>(), 20ULL << 30);
}

TEST_F(Overlay, RelativeBasePathIsStoredAbsolute) {
    ASSERT_TRUE(ensure_dir(scratch_.file("vm")));
    ImageInfo rel = base_;
    ASSERT_EQ(::chdir(scratch_.path().c_str()), 0);
    rel.disk_path = "images/tiny/disk.qcow2";
    std::string out = scratch_.file("vm/disk.qcow2");
    ASSERT_TRUE(create_overlay(rel, out, kBaseSize));
    ASSERT_EQ(::chdir("/"), 0);
    EXPECT_EQ(info(out)["backing-filename"], base_.disk_path);
}

TEST_F(Overlay, SmallerThanTheBaseIsRefusedAndLeavesNothing) {
    ASSERT_TRUE(ensure_dir(scratch_.file("vm")));
    auto st = create_overlay(base_, scratch_.file("vm/disk.qcow2"), 32ULL << 20);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(
        st.error().message(),
        HasSubstr("requested disk size 32.0 MiB is smaller than the image tiny (64.0 MiB)"));
    EXPECT_TRUE(vm_dir_entries().empty());
}

TEST_F(Overlay, ExistingFileIsNotOverwritten) {
    std::string out = scratch_.file("vm/disk.qcow2");
    test::write_text(out, "precious");
    auto st = create_overlay(base_, out, kBaseSize);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::AlreadyExists);
    EXPECT_EQ(test::read_text(out), "precious");
}

TEST_F(Overlay, MissingBaseOrFailingQemuImgLeavesNothing) {
    ASSERT_TRUE(ensure_dir(scratch_.file("vm")));
    ImageInfo gone = base_;
    gone.disk_path = scratch_.file("images/none/disk.qcow2");
    auto st = create_overlay(gone, scratch_.file("vm/disk.qcow2"), kBaseSize);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::NotFound);

    // A base that is not a qcow2: qemu-img itself fails.
    test::write_text(scratch_.file("images/bad/disk.qcow2"), "not a qcow2 image");
    ImageInfo bad = base_;
    bad.disk_path = scratch_.file("images/bad/disk.qcow2");
    st = create_overlay(bad, scratch_.file("vm/disk.qcow2"), kBaseSize);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::ExternalCommand);
    EXPECT_TRUE(vm_dir_entries().empty());
}

TEST(OverlayArgv, IsTheDocumentedQemuImgCommand) {
    EXPECT_EQ(overlay_argv("/b/disk.qcow2", "/v/d.qcow2", 1024),
              (std::vector<std::string>{"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
                                        "-b", "/b/disk.qcow2", "/v/d.qcow2", "1024"}));
}

} // namespace
} // namespace fleetbox::image
