// The boot-member path guard and the main-thread executor, in-process.
#include "component/helper/helper_fixture.hpp"
#include "helper/main_thread_executor.hpp"
#include "helper/path_guard.hpp"

#include <atomic>
#include <filesystem>
#include <future>
#include <poll.h>
#include <sys/stat.h>
#include <thread>

namespace fleetbox::test {
namespace {

using helper::check_boot_paths;
using helper::check_inside_store;

class PathGuardTest : public HelperFixture {};

TEST_F(PathGuardTest, PathsInsideTheStoreAreAccepted) {
    std::string dir = *store_.ensure_member_dir("web");
    write_text(dir + "/disk.qcow2", "disk");
    EXPECT_TRUE(check_inside_store(store_.root(), dir + "/disk.qcow2"));
    EXPECT_TRUE(check_inside_store(store_.root(), dir + "/not-yet/seed.iso")); // need not exist
    EXPECT_TRUE(check_inside_store(store_.root(), store_.root()));
    EXPECT_TRUE(check_boot_paths(store_.root(), spec_for("web")));
}

TEST_F(PathGuardTest, PathsOutsideTheStoreAreRefusedWithOneClearLine) {
    auto refused = check_inside_store(store_.root(), "/etc/shadow");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(refused.error().message(),
              "boot-member: path /etc/shadow is outside the store " + store_.root());
    // A sibling whose name merely starts with the root's name is outside too.
    EXPECT_FALSE(check_inside_store(store_.root(), store_.root() + "-other/disk"));
    EXPECT_FALSE(check_inside_store(store_.root(), "relative/disk.qcow2"));
    EXPECT_FALSE(check_inside_store(store_.root(), ""));
}

TEST_F(PathGuardTest, DotDotAndSymlinkEscapesAreRefused) {
    std::string dir = *store_.ensure_member_dir("web");
    EXPECT_FALSE(check_inside_store(store_.root(), dir + "/../../../../etc/shadow"));
    EXPECT_FALSE(check_inside_store(store_.root(), dir + "/../web/disk.qcow2")); // ".." at all
    std::filesystem::create_symlink("/etc", dir + "/escape");
    EXPECT_FALSE(check_inside_store(store_.root(), dir + "/escape/shadow"));
    EXPECT_FALSE(check_inside_store(store_.root(), dir + "/escape/missing/file"));
    std::filesystem::create_symlink(dir, store_.images_dir() + "/inside-link");
    EXPECT_TRUE(check_inside_store(store_.root(), store_.images_dir() + "/inside-link/disk"));
}

TEST_F(PathGuardTest, EveryBootPathIsChecked) {
    for (auto field : {&proto::BootSpec::member_dir, &proto::BootSpec::disk_path,
                       &proto::BootSpec::seed_path, &proto::BootSpec::kernel_path,
                       &proto::BootSpec::initrd_path, &proto::BootSpec::base_image_path}) {
        auto spec = spec_for("web");
        spec.*field = "/etc/passwd";
        auto refused = check_boot_paths(store_.root(), spec);
        ASSERT_FALSE(refused);
        EXPECT_NE(refused.error().message().find("/etc/passwd is outside the store"),
                  std::string::npos);
    }
    auto spec = spec_for("web");
    spec.disk_path.clear();
    EXPECT_FALSE(check_boot_paths(store_.root(), spec));
}

TEST_F(PathGuardTest, FixtureImagesAreAcceptedOnlyInsideTheMemberDirectory) {
    ASSERT_TRUE(store_.ensure_member_dir("web"));
    auto spec = spec_for("web");
    spec.fixture_paths = {spec.member_dir + "/fixture-0.img", spec.member_dir + "/fixture-1.img"};
    EXPECT_TRUE(check_boot_paths(store_.root(), spec));
    std::string other = *store_.ensure_member_dir("db");
    std::filesystem::create_symlink(other, spec.member_dir + "/to-db");
    for (const std::string& bad :
         {std::string("/etc/passwd"), other + "/disk.qcow2", store_.images_dir() + "/x.img",
          spec.member_dir + "/../db/disk.qcow2", spec.member_dir + "/to-db/disk.qcow2",
          spec.member_dir}) {
        SCOPED_TRACE(bad);
        spec.fixture_paths = {spec.member_dir + "/fixture-0.img", bad};
        auto refused = check_boot_paths(store_.root(), spec);
        ASSERT_FALSE(refused);
        EXPECT_NE(refused.error().message().find("is outside the member directory"),
                  std::string::npos)
            << refused.error().message();
    }
}

TEST(MainThreadExecutor, RunsTasksOnTheThreadThatCreatedIt) {
    auto executor = helper::MainThreadExecutor::create();
    ASSERT_TRUE(executor);
    auto& exec = **executor;
    EXPECT_TRUE(exec.on_main_thread());
    EXPECT_EQ(exec.run([] { return 7; }), 7); // on the main thread: runs directly

    std::thread::id ran_on;
    std::atomic<bool> finished{false};
    std::thread worker([&] {
        int value = exec.run([&] {
            ran_on = std::this_thread::get_id();
            return 42;
        });
        EXPECT_EQ(value, 42);
        finished = true;
    });
    while (!finished) { // the "main loop": poll the wake fd and drain
        pollfd p{exec.wake_fd(), POLLIN, 0};
        if (::poll(&p, 1, 50) > 0)
            exec.drain();
    }
    worker.join();
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(MainThreadExecutor, AfterCloseTasksRunOnTheirCaller) {
    auto executor = helper::MainThreadExecutor::create();
    ASSERT_TRUE(executor);
    (*executor)->close();
    std::thread::id ran_on;
    std::thread::id worker_id;
    std::thread worker([&] {
        worker_id = std::this_thread::get_id();
        (*executor)->run([&] { ran_on = std::this_thread::get_id(); });
    });
    worker.join();
    EXPECT_EQ(ran_on, worker_id);
}

} // namespace
} // namespace fleetbox::test
