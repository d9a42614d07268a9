// Pulling images (cache.hpp ImageCache::ensure(ImageSource)) from an HTTP server on 127.0.0.1
// the test starts, and from local files: a pinned raw image becomes a qcow2 entry with its
// kernel taken out; two concurrent pulls of one URL download it once; a wrong pin, a 404, a
// file that is not a disk image and an image with nothing to boot each fail with one line
// and leave no entry (and no download that could be mistaken for one); a changed local
// file is imported again, but never under a VM that uses the old one.
#include "image/cache.hpp"
#include "image/source.hpp"
#include "support/http_server.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"
#include "sys/sha256.hpp"

#include <fcntl.h>
#include <filesystem>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utime.h>

namespace fleetbox::image {
namespace {

using ::testing::HasSubstr;

void run(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Capture;
    auto r = run_checked(spec);
    ASSERT_TRUE(r) << r.error().message();
}

class ImagePull : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* tool : {"mkfs.ext4", "qemu-img"})
            if (find_program(tool).empty())
                GTEST_SKIP() << tool << " is not installed";
        images_ = dir_.file("images");
        options_.progress = ProgressMode::Quiet;
        options_.min_free_bytes = 0;
    }

    // A whole-disk ext4 image that looks like a tiny Debian root: os-release, a kernel and
    // initrd under /boot, and cloud-init unless told otherwise.
    std::string make_raw(const std::string& name, bool kernel = true, bool cloud_init = true,
                         std::size_t random_bytes = 0) {
        const std::string tree = dir_.file(name + ".tree");
        std::filesystem::create_directories(tree + "/etc");
        std::filesystem::create_directories(tree + "/boot");
        std::filesystem::create_directories(tree + "/usr/bin");
        test::write_text(tree + "/etc/os-release",
                         "PRETTY_NAME=\"Testian 1 (pull)\"\nID=testian\n");
        if (kernel) {
            test::write_text(tree + "/boot/vmlinuz-6.1.0-test", std::string(4096, 'k'));
            test::write_text(tree + "/boot/initrd.img-6.1.0-test", std::string(2048, 'i'));
        }
        if (cloud_init)
            test::write_text(tree + "/usr/bin/cloud-init", "#!/bin/sh\n", 0755);
        if (random_bytes > 0) { // data qemu-img cannot leave out of the qcow2
            std::string noise(random_bytes, '\0');
            for (std::size_t i = 0; i < noise.size(); ++i)
                noise[i] = static_cast<char>((i * 2654435761U) >> 13);
            test::write_text(tree + "/var.bin", noise);
        }
        const std::string out = dir_.file(name);
        run({"mkfs.ext4", "-q", "-F", "-d", tree, out, random_bytes > 0 ? "32M" : "16M"});
        return out;
    }

    std::string body_of(const std::string& path) { return test::read_text(path); }

    test::ScopedEnv no_proxy_{"no_proxy", "*"}; // an environment proxy never sees loopback
    BuildOptions options_;
    test::ScratchDir dir_;
    std::string images_;
    test::HttpServer server_;
};

TEST_F(ImagePull, PinnedRawUrlBecomesAQcow2EntryWithItsKernel) {
    const std::string body = body_of(make_raw("disk.raw"));
    server_.serve("/img/disk.raw", body);
    auto source = parse_image_source(server_.url("/img/disk.raw") + "#sha256=" + sha256_hex(body));
    ASSERT_TRUE(source) << source.error().message();
    ImageCache cache(images_);
    auto info = cache.ensure(*source, options_);
    ASSERT_TRUE(info) << info.error().message();
    const auto& m = info->manifest;
    EXPECT_TRUE(m.pulled());
    EXPECT_EQ(m.origin.kind, "url");
    EXPECT_EQ(m.origin.format, "raw");
    EXPECT_EQ(m.origin.sha256, sha256_hex(body));
    EXPECT_EQ(m.origin.os_name, "Testian 1 (pull)");
    EXPECT_EQ(m.origin.has_cloud_init, 1);
    EXPECT_EQ(m.boot.mode, "kernel");
    EXPECT_EQ(m.boot.machine, "q35");
    EXPECT_THAT(m.boot.root, ::testing::StartsWith("UUID="));
    EXPECT_EQ(m.kernel_version, "6.1.0-test");
    EXPECT_EQ(m.virtual_size, 16ULL << 20);
    EXPECT_EQ(test::read_text(info->disk_path).substr(0, 4), "QFI\xfb");
    EXPECT_EQ(test::read_text(info->kernel_path), std::string(4096, 'k'));
    EXPECT_EQ(test::read_text(info->initrd_path), std::string(2048, 'i'));
    EXPECT_TRUE(cache.verify(source->name)) << "verify re-hashes what the manifest recorded";
    // Used again: no second request, and the download is gone from .downloads.
    auto again = cache.ensure(*source, options_);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->reused);
    EXPECT_EQ(server_.requests("/img/disk.raw"), 1);
    auto downloads = list_dir(images_ + "/.downloads");
    ASSERT_TRUE(downloads);
    EXPECT_TRUE(downloads->empty()) << "the download became the entry";
}

TEST_F(ImagePull, AKeptDownloadServesOnlyItsOwnPin) {
    // A pinned download kept after a later step failed (here: the cache is full when it
    // converts) is reused by the next pull with the same pin, never by one with another pin.
    const std::string body = body_of(make_raw("disk.raw"));
    server_.serve("/disk.raw", body);
    const std::string pinned = server_.url("/disk.raw") + "#sha256=" + sha256_hex(body);
    auto source = parse_image_source(pinned);
    ASSERT_TRUE(source);
    ImageCache cache(images_);
    ASSERT_TRUE(ensure_dir(images_ + "/.downloads", 0700));
    const std::string kept = images_ + "/.downloads/" + source->name + "-" +
                             sha256_hex(body).substr(0, 16) + ".download";
    test::write_text(kept, body);
    auto reused = cache.ensure(*source, options_);
    ASSERT_TRUE(reused) << reused.error().message();
    EXPECT_EQ(server_.requests("/disk.raw"), 0) << "the kept download was used";
    EXPECT_FALSE(path_exists(kept));

    auto other = parse_image_source(server_.url("/disk.raw") + "#sha256=" + std::string(64, 'e'));
    ASSERT_TRUE(other);
    EXPECT_EQ(other->name, source->name);
    auto mismatch = cache.ensure(*other, options_);
    ASSERT_FALSE(mismatch) << "another pin downloads again, and its check fails";
    EXPECT_EQ(mismatch.error().kind, ErrorKind::Corrupt);
    EXPECT_EQ(server_.requests("/disk.raw"), 1);
}

TEST_F(ImagePull, ACutDownloadIsKeptListedAndRemovedWithTheImage) {
    const std::string body = body_of(make_raw("disk.raw", true, true, 4U << 20));
    test::HttpBehaviour cut;
    cut.cut_after = 1U << 20;
    server_.serve("/disk.raw", body, cut);
    auto source = parse_image_source(server_.url("/disk.raw") + "#sha256=" + sha256_hex(body));
    ASSERT_TRUE(source);
    ImageCache cache(images_);
    auto info = cache.ensure(*source, options_);
    ASSERT_FALSE(info) << "the server cut the transfer";
    EXPECT_FALSE(path_exists(images_ + "/" + source->name));

    auto kept = cache.kept_downloads();
    ASSERT_TRUE(kept) << kept.error().message();
    ASSERT_EQ(kept->size(), 1U);
    EXPECT_EQ(kept->front().name, source->name);
    EXPECT_FALSE(kept->front().complete);
    EXPECT_EQ(kept->front().bytes, 1U << 20);
    EXPECT_EQ(cache.kept_downloads(source->name)->size(), 1U);
    EXPECT_TRUE(cache.kept_downloads(source->name + "x")->empty());

    // No entry, but its download: `image rm` removes the download (and its validator).
    auto removed = cache.remove(source->name);
    ASSERT_TRUE(removed) << removed.error().message();
    EXPECT_FALSE(removed->image);
    EXPECT_EQ(removed->downloads, 1);
    EXPECT_EQ(removed->download_bytes, 1U << 20);
    EXPECT_TRUE(list_dir(images_ + "/.downloads")->empty());
    auto again = cache.remove(source->name);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().kind, ErrorKind::NotFound);
}

TEST_F(ImagePull, APullDropsTheDownloadsOfAnotherPinOnly) {
    const std::string body = body_of(make_raw("disk.raw"));
    server_.serve("/disk.raw", body);
    auto source = parse_image_source(server_.url("/disk.raw") + "#sha256=" + sha256_hex(body));
    ASSERT_TRUE(source);
    ASSERT_TRUE(ensure_dir(images_ + "/.downloads", 0700));
    const std::string downloads = images_ + "/.downloads/";
    const std::string old_pin = downloads + source->name + "-" + std::string(16, 'e');
    test::write_text(old_pin + ".download", "old whole");
    test::write_text(old_pin + ".download.part", "old part");
    test::write_text(old_pin + ".download.part.validator", "etag");
    // Another image whose name starts the same way: not this pull's to remove.
    const std::string other = downloads + source->name + "-extra.download.part";
    test::write_text(other, "another image");
    ImageCache cache(images_);
    auto info = cache.ensure(*source, options_);
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_FALSE(path_exists(old_pin + ".download"));
    EXPECT_FALSE(path_exists(old_pin + ".download.part"));
    EXPECT_FALSE(path_exists(old_pin + ".download.part.validator"));
    EXPECT_TRUE(path_exists(other));
    auto kept = cache.kept_downloads();
    ASSERT_TRUE(kept);
    ASSERT_EQ(kept->size(), 1U);
    EXPECT_EQ(kept->front().name, source->name + "-extra");

    // The entry and nothing else of it: `rm` leaves the other image's download alone.
    auto removed = cache.remove(source->name);
    ASSERT_TRUE(removed) << removed.error().message();
    EXPECT_TRUE(removed->image);
    EXPECT_EQ(removed->downloads, 0);
    EXPECT_TRUE(path_exists(other));
}

TEST_F(ImagePull, TwoConcurrentPullsDownloadOnce) {
    const std::string body = body_of(make_raw("disk.raw"));
    server_.serve("/disk.raw", body);
    auto source = parse_image_source(server_.url("/disk.raw"));
    ASSERT_TRUE(source);
    Result<ImageInfo> a = fail(ErrorKind::Internal, "a", "not run");
    Result<ImageInfo> b = a;
    std::thread ta([&] { a = ImageCache(images_).ensure(*source, options_); });
    std::thread tb([&] { b = ImageCache(images_).ensure(*source, options_); });
    ta.join();
    tb.join();
    ASSERT_TRUE(a) << a.error().message();
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(server_.requests("/disk.raw"), 1);
    EXPECT_EQ(a->manifest.built_at, b->manifest.built_at);
    EXPECT_EQ(a->manifest.files[0].sha256, b->manifest.files[0].sha256);
}

TEST_F(ImagePull, WrongPinIsCorruptAndLeavesNothing) {
    server_.serve("/disk.raw", body_of(make_raw("disk.raw")));
    auto source = parse_image_source(server_.url("/disk.raw") + "#sha256=" + std::string(64, '0'));
    ASSERT_TRUE(source);
    auto info = ImageCache(images_).ensure(*source, options_);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().kind, ErrorKind::Corrupt);
    EXPECT_THAT(info.error().message(), HasSubstr(source->name));
    EXPECT_FALSE(path_exists(images_ + "/" + source->name));
    auto left = list_dir(images_ + "/.downloads");
    ASSERT_TRUE(left);
    EXPECT_TRUE(left->empty()) << "a download with the wrong bytes is never kept";
}

TEST_F(ImagePull, NotFoundUrlIsOneLineAndNoEntry) {
    auto source = parse_image_source(server_.url("/missing.qcow2"));
    ASSERT_TRUE(source);
    auto info = ImageCache(images_).ensure(*source, options_);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(info.error().message(), HasSubstr("404"));
    EXPECT_EQ(info.error().message().find('\n'), std::string::npos);
    EXPECT_FALSE(path_exists(images_ + "/" + source->name));
}

TEST_F(ImagePull, AFileThatIsNoDiskImageIsRefusedAndNotKept) {
    server_.serve("/notes.qcow2", std::string(1 << 20, 'x'));
    auto source = parse_image_source(server_.url("/notes.qcow2"));
    ASSERT_TRUE(source);
    auto info = ImageCache(images_).ensure(*source, options_);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(info.error().message(), HasSubstr("neither"));
    EXPECT_FALSE(path_exists(images_ + "/" + source->name));
    auto downloads = list_dir(images_ + "/.downloads");
    EXPECT_TRUE(!downloads || downloads->empty()) << "content that is no image is not kept";
}

TEST_F(ImagePull, AnImageWithNothingToBootIsRefused) {
    auto source = parse_image_source(make_raw("empty.raw", /*kernel=*/false));
    ASSERT_TRUE(source);
    auto info = ImageCache(images_).ensure(*source, options_);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(info.error().message(), HasSubstr("no BIOS boot loader"));
    EXPECT_FALSE(path_exists(images_ + "/" + source->name));
}

TEST_F(ImagePull, NoKernelButABootLoaderBootsThroughFirmware) {
    // ext4 leaves the first 1024 bytes alone: boot code and the 0x55AA signature there make
    // a disk that only its own boot loader can start.
    const std::string path = make_raw("bios.raw", /*kernel=*/false);
    {
        std::string disk = test::read_text(path);
        for (std::size_t i = 0; i < 440; ++i)
            disk[i] = static_cast<char>(0xeb + i % 7);
        disk[510] = static_cast<char>(0x55);
        disk[511] = static_cast<char>(0xaa);
        test::write_text(path, disk);
    }
    auto source = parse_image_source(path);
    ASSERT_TRUE(source);
    auto info = ImageCache(images_).ensure(*source, options_);
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->manifest.boot.mode, "firmware");
    EXPECT_EQ(info->manifest.boot.machine, "q35");
    EXPECT_TRUE(info->kernel_path.empty());
    EXPECT_EQ(info->manifest.files.size(), 1U) << "a firmware image is its disk alone";
    EXPECT_TRUE(ImageCache(images_).verify(source->name));
}

TEST_F(ImagePull, LocalFileIsImportedAndReimportedWhenItChanges) {
    const std::string path = make_raw("local.img");
    auto source = parse_image_source(path);
    ASSERT_TRUE(source);
    EXPECT_EQ(source->kind, SourceKind::File);
    ImageCache cache(images_);
    auto first = cache.ensure(*source, options_);
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_EQ(first->manifest.origin.path, path);
    auto same = cache.ensure(*source, options_);
    ASSERT_TRUE(same);
    EXPECT_TRUE(same->reused);

    struct utimbuf later {
        1'000'000'000, 1'000'000'000
    };
    ASSERT_EQ(::utime(path.c_str(), &later), 0);
    BuildOptions guarded = options_;
    guarded.may_replace = [] {
        return Status(fail(ErrorKind::Busy, "replace image", "VM web-1 uses it"));
    };
    auto refused = cache.ensure(*source, guarded);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::Busy);
    auto kept = cache.lookup(source->name);
    ASSERT_TRUE(kept && *kept) << "the entry VMs use is kept";

    auto again = cache.ensure(*source, options_);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_FALSE(again->reused);
    EXPECT_EQ(again->manifest.origin.mtime_ns, 1'000'000'000LL * 1'000'000'000LL);
}

// Runs in a forked child: the images directory is a 12 MiB tmpfs in a private mount
// namespace; writes the error kind and whether anything is left under the entry's name.
int pull_into_small_tmpfs(const ImageSource& source, const std::string& images,
                          const BuildOptions& options, const std::string& report) {
    if (::unshare(CLONE_NEWNS) != 0)
        return 10;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return 11;
    if (::mkdir(images.c_str(), 0700) != 0 ||
        ::mount("tmpfs", images.c_str(), "tmpfs", 0, "size=12m") != 0)
        return 12;
    auto r = ImageCache(images).ensure(source, options);
    std::string text =
        r ? "ok" : std::string(to_string(r.error().kind)) + " " + r.error().message();
    auto names = list_dir(images);
    for (const auto& n : names.value_or(std::vector<std::string>{}))
        if (n == source.name || n.rfind(".build-", 0) == 0)
            text += " left:" + n;
    test::write_text(report, text);
    return 0;
}

TEST_F(ImagePull, DiskFullWhileConvertingIsNoSpaceAndLeavesNothing) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root (a tmpfs in a private mount namespace)";
    auto source = parse_image_source(make_raw("big.raw", true, true, 20U << 20)); // 32M disk
    ASSERT_TRUE(source);
    const std::string report = dir_.file("report");
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0)
        ::_exit(pull_into_small_tmpfs(*source, images_, options_, report));
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0) << "child step failed (10-12: namespace/mount)";
    const std::string seen = test::read_text(report);
    EXPECT_EQ(seen.rfind("no-space ", 0), 0U) << seen;
    EXPECT_THAT(seen, HasSubstr("disk full"));
    EXPECT_THAT(seen, ::testing::Not(HasSubstr("left:"))) << seen;
}

TEST_F(ImagePull, MissingLocalFileIsNotFound) {
    auto source = parse_image_source(dir_.file("nope.qcow2"));
    ASSERT_TRUE(source);
    auto info = ImageCache(images_).ensure(*source, options_);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(info.error().message(), HasSubstr("no such file"));
}

TEST_F(ImagePull, UnknownCachedNameListsTheKnownImages) {
    auto source = parse_image_source("nothing-here");
    ASSERT_TRUE(source);
    auto info = ImageCache(images_).ensure(*source, options_);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(info.error().message(), HasSubstr("ubuntu-24.04"));
}

} // namespace
} // namespace fleetbox::image
