// ImageCache leases and guards: a lease (shared alias lock) keeps remove() waiting until it
// ends; remove()'s may_remove and build --force's may_replace are asked under the exclusive
// lock and their refusal changes nothing. Cached entries are faked (files + manifest): no
// build runs here.
#include "image/cache.hpp"
#include "image/manifest.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"

#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <thread>

namespace fleetbox::image {
namespace {

using namespace std::chrono_literals;

// A complete cached debian-12 entry with tiny files.
void fake_entry(const std::string& images_dir) {
    const std::string dir = images_dir + "/debian-12";
    test::write_text(dir + "/disk.qcow2", "disk");
    test::write_text(dir + "/vmlinuz", "krn");
    test::write_text(dir + "/initrd.img", "");
    Manifest m;
    m.alias = "debian-12";
    m.built_at = "2026-11-28T18:30:00Z";
    m.virtual_size = 768ULL << 20;
    m.files = {{"disk.qcow2", 4, "aa"}, {"vmlinuz", 3, "bb"}, {"initrd.img", 0, "cc"}};
    test::write_text(dir + "/manifest.json", manifest_to_json(m));
}

TEST(CacheLease, ALeaseOfACachedEntryReusesItAndHoldsTheSharedLock) {
    test::ScratchDir images;
    fake_entry(images.path());
    ImageCache cache(images.path());
    auto lease = cache.lease("debian-12");
    ASSERT_TRUE(lease) << lease.error().message();
    EXPECT_TRUE(lease->info.reused);
    EXPECT_EQ(lease->info.disk_path, images.file("debian-12/disk.qcow2"));
    auto second = cache.lease("debian-12"); // shared: leases do not exclude each other
    ASSERT_TRUE(second) << second.error().message();
    auto exclusive =
        FileLock::acquire(cache.lock_path("debian-12"), FileLock::Mode::Exclusive, 100ms);
    ASSERT_FALSE(exclusive);
    EXPECT_EQ(exclusive.error().kind, ErrorKind::Timeout);
}

TEST(CacheLease, RemoveWaitsForTheLeaseThenAsksItsGuard) {
    test::ScratchDir images;
    fake_entry(images.path());
    ImageCache cache(images.path());
    auto lease = cache.lease("debian-12");
    ASSERT_TRUE(lease) << lease.error().message();

    std::atomic<bool> asked{false};
    std::atomic<bool> done{false};
    Result<Removed> removed = fail(ErrorKind::Internal, "remove", "not run");
    std::thread remover([&] {
        ImageCache other(images.path());
        removed = other.remove("debian-12", [&] {
            asked = true;
            return Status{};
        });
        done = true;
    });
    std::this_thread::sleep_for(600ms);
    EXPECT_FALSE(asked.load()) << "the guard ran while a lease was held";
    EXPECT_FALSE(done.load());
    EXPECT_TRUE(is_directory(images.file("debian-12")));
    { ImageLease ended = std::move(*lease); } // the lease ends (as when a new VM's config exists)
    remover.join();
    EXPECT_TRUE(asked.load());
    ASSERT_TRUE(removed) << removed.error().message();
    EXPECT_FALSE(path_exists(images.file("debian-12")));
}

TEST(CacheLease, ARefusingGuardKeepsTheEntry) {
    test::ScratchDir images;
    fake_entry(images.path());
    ImageCache cache(images.path());
    auto refused = cache.remove("debian-12", [] {
        return Status(fail(ErrorKind::Busy, "remove image debian-12", "in use"));
    });
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::Busy);
    EXPECT_TRUE(cache.lookup("debian-12").value().has_value());

    BuildOptions options;
    options.require_root = false;
    options.may_replace = [] {
        return Status(fail(ErrorKind::Busy, "rebuild image debian-12", "in use"));
    };
    auto rebuilt = cache.build("debian-12", options);
    ASSERT_FALSE(rebuilt);
    EXPECT_EQ(rebuilt.error().kind, ErrorKind::Busy);
    auto kept = cache.lookup("debian-12").value();
    ASSERT_TRUE(kept.has_value());
    EXPECT_EQ(read_file(kept->disk_path).value(), "disk");
}

} // namespace
} // namespace fleetbox::image
