// Store::lock_member: an exclusive flock on <member>/.lock. flock locks belong to the open
// file description, so a second open of the same file in this process conflicts like another
// process would.
#include "store_fixture.hpp"
#include "sys/fs.hpp"

#include <chrono>

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

TEST_F(StoreTest, LockingBeforeCreateMakesTheMemberDirectory) {
    auto lock = store().lock_member("db-1");
    ASSERT_TRUE(lock) << lock.error().message();
    EXPECT_TRUE(is_directory(root() + "/clusters/db/db-1"));
    EXPECT_FALSE(store().exists("db-1"));
    EXPECT_EQ(store().list_members().value(), std::vector<std::string>{"db-1"});
    create("db-1");
    EXPECT_TRUE(store().exists("db-1"));
}

TEST_F(StoreTest, LockFileIsNotListedAsConfigAndGoesWithRemove) {
    create("web-1");
    { ASSERT_TRUE(store().lock_member("web-1")); }
    EXPECT_TRUE(path_exists(store().lock_path("web-1").value()));
    ASSERT_TRUE(store().remove("web-1"));
    EXPECT_FALSE(path_exists(root() + "/clusters/web"));
}

} // namespace
} // namespace fleetbox
