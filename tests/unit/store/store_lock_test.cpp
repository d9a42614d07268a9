// Store::lock_member: an exclusive flock on locks/<member>.lock. flock locks belong to the
// open file description, so a second open of the same file in this process conflicts like
// another process would. The lock file lives outside the member directory and is never
// deleted: a waiter must lock the very file the holder locked.
#include "store_fixture.hpp"
#include "sys/fs.hpp"

#include <chrono>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using namespace std::chrono_literals;
using test::StoreTest;

TEST_F(StoreTest, SecondLockIsBusyUntilTheFirstIsDropped) {
    create("web-1");
    {
        auto first = store().lock_member("web-1");
        ASSERT_TRUE(first) << first.error().message();
        EXPECT_EQ(first->path(), store().lock_path("web-1").value());
        auto second = store().lock_member("web-1");
        ASSERT_FALSE(second);
        EXPECT_EQ(second.error().kind, ErrorKind::Busy);
        EXPECT_EQ(second.error().message(), "VM \"web-1\" is in use by another fleetbox process");
    }
    auto again = store().lock_member("web-1");
    EXPECT_TRUE(again) << "released when the first lock was dropped";
}

TEST_F(StoreTest, LocksOfDifferentMembersAreIndependent) {
    create("web-1");
    create("web-2");
    auto a = store().lock_member("web-1");
    auto b = store().lock_member("web-2");
    EXPECT_TRUE(a);
    EXPECT_TRUE(b);
}

TEST_F(StoreTest, WaitingLockTimesOutWhileHeld) {
    create("web-1");
    auto first = store().lock_member("web-1");
    ASSERT_TRUE(first);
    auto second = store().lock_member_wait("web-1", 50ms);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, ErrorKind::Timeout);
    EXPECT_NE(second.error().message().find("is in use by another fleetbox process"),
              std::string::npos);
    first = tl::unexpected(Error{}); // drop the first lock
    EXPECT_TRUE(store().lock_member_wait("web-1", 1000ms));
}

TEST_F(StoreTest, LockingBeforeCreateMakesNoMemberDirectory) {
    auto lock = store().lock_member("db-1");
    ASSERT_TRUE(lock) << lock.error().message();
    EXPECT_FALSE(path_exists(root() + "/clusters/db/db-1"));
    EXPECT_FALSE(store().exists("db-1"));
    EXPECT_TRUE(store().list_members().value().empty());
    create("db-1");
    EXPECT_TRUE(store().exists("db-1"));
}

// rm deletes the member directory while an `up` may be waiting for the member's lock: the
// file it waits on must be the one the next `up` locks, so it outlives the member.
TEST_F(StoreTest, TheLockFileOutlivesRemoveSoAWaiterAndANewcomerShareIt) {
    create("web-1");
    auto held = store().lock_member("web-1");
    ASSERT_TRUE(held);
    const std::string path = store().lock_path("web-1").value();
    struct stat before {};
    ASSERT_EQ(::stat(path.c_str(), &before), 0);
    ASSERT_TRUE(store().remove("web-1"));
    EXPECT_FALSE(path_exists(root() + "/clusters/web"));
    struct stat after {};
    ASSERT_EQ(::stat(path.c_str(), &after), 0) << "the lock file went with the member";
    EXPECT_EQ(after.st_ino, before.st_ino);
    auto newcomer = store().lock_member("web-1");
    ASSERT_FALSE(newcomer) << "a newcomer got a lock that is still held";
    EXPECT_EQ(newcomer.error().kind, ErrorKind::Busy);
}

// (The lock file itself is 0600 and opened with O_NOFOLLOW by FileLock: sys tests.)
TEST_F(StoreTest, LocksLiveInAnOwnerOnlyDirectoryOfTheirOwn) {
    { ASSERT_TRUE(store().lock_member("web-1")); }
    EXPECT_EQ(test::mode_of(root() + "/locks"), 0700U);
    EXPECT_EQ(store().lock_path("web-1").value(), root() + "/locks/web-1.lock");
    EXPECT_TRUE(path_exists(root() + "/locks/web-1.lock"));
}

} // namespace
} // namespace fleetbox
