// Unit tests for sys/file_lock: exclusive/shared compatibility, Busy from try_acquire, Timeout
// from a timed acquire, release on drop and on move, a blocking acquire that waits for the
// holder, and the kernel dropping the lock when its holder is SIGKILLed.
//
// Why flock semantics matter here: locks belong to the open file description, so two
// FileLocks in one process on separate opens conflict exactly like two processes would, and a
// crashed fleetbox never leaves a stale lock behind.
#include "support/test_support.hpp"
#include "sys/file_lock.hpp"
#include "sys/fs.hpp"

#include <atomic>
#include <csignal>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fleetbox {
namespace {

using namespace std::chrono_literals;
using Mode = FileLock::Mode;

TEST(FileLock, CreatesLockFileAndReportsPath) {
    test::ScratchDir dir;
    auto lock = FileLock::acquire(dir.file("store.lock"));
    ASSERT_TRUE(lock) << lock.error().message();
    EXPECT_EQ(lock->path(), dir.file("store.lock"));
    EXPECT_TRUE(path_exists(dir.file("store.lock")));
}

TEST(FileLock, ExclusiveBlocksSecondExclusive) {
    test::ScratchDir dir;
    auto held = FileLock::try_acquire(dir.file("l"), Mode::Exclusive);
    ASSERT_TRUE(held) << held.error().message();
    auto second = FileLock::try_acquire(dir.file("l"), Mode::Exclusive);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, ErrorKind::Busy);
}

TEST(FileLock, SharedAndSharedCoexist) {
    test::ScratchDir dir;
    auto a = FileLock::try_acquire(dir.file("l"), Mode::Shared);
    auto b = FileLock::try_acquire(dir.file("l"), Mode::Shared);
    EXPECT_TRUE(a);
    EXPECT_TRUE(b);
}

TEST(FileLock, ExclusiveAndSharedConflictBothWays) {
    test::ScratchDir dir;
    {
        auto shared = FileLock::try_acquire(dir.file("l"), Mode::Shared);
        ASSERT_TRUE(shared);
        auto ex = FileLock::try_acquire(dir.file("l"), Mode::Exclusive);
        ASSERT_FALSE(ex);
        EXPECT_EQ(ex.error().kind, ErrorKind::Busy);
    }
    auto ex = FileLock::try_acquire(dir.file("l"), Mode::Exclusive);
    ASSERT_TRUE(ex);
    auto shared = FileLock::try_acquire(dir.file("l"), Mode::Shared);
    ASSERT_FALSE(shared);
    EXPECT_EQ(shared.error().kind, ErrorKind::Busy);
}

TEST(FileLock, ReleasedOnDestruction) {
    test::ScratchDir dir;
    {
        auto held = FileLock::acquire(dir.file("l"));
        ASSERT_TRUE(held);
    }
    EXPECT_TRUE(FileLock::try_acquire(dir.file("l")));
}

TEST(FileLock, MovedLockStaysHeldUntilOwnerDrops) {
    test::ScratchDir dir;
    auto held = FileLock::acquire(dir.file("l"));
    ASSERT_TRUE(held);
    {
        FileLock owner(std::move(*held));
        held = fail(ErrorKind::Internal, "drop the moved-from shell");
        EXPECT_FALSE(FileLock::try_acquire(dir.file("l")));
    }
    EXPECT_TRUE(FileLock::try_acquire(dir.file("l")));
}

TEST(FileLock, TimedAcquireTimesOutWhileHeld) {
    test::ScratchDir dir;
    auto held = FileLock::acquire(dir.file("l"));
    ASSERT_TRUE(held);
    auto waited = FileLock::acquire(dir.file("l"), Mode::Exclusive, 100ms);
    ASSERT_FALSE(waited);
    EXPECT_EQ(waited.error().kind, ErrorKind::Timeout);
    auto shared = FileLock::acquire(dir.file("l"), Mode::Shared, 50ms);
    ASSERT_FALSE(shared);
    EXPECT_EQ(shared.error().kind, ErrorKind::Timeout);
}

TEST(FileLock, TimedAcquireSucceedsWhenFree) {
    test::ScratchDir dir;
    auto lock = FileLock::acquire(dir.file("l"), Mode::Exclusive, 100ms);
    EXPECT_TRUE(lock);
}

TEST(FileLock, BlockingAcquireWaitsForRelease) {
    test::ScratchDir dir;
    auto held = FileLock::acquire(dir.file("l"));
    ASSERT_TRUE(held);
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        auto l = FileLock::acquire(dir.file("l"));
        got = l.has_value();
    });
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(got.load()) << "acquired a lock that was still held";
    held = fail(ErrorKind::Internal, "release");
    waiter.join();
    EXPECT_TRUE(got.load());
}

TEST(FileLock, MissingDirectoryIsNotFound) {
    test::ScratchDir dir;
    auto lock = FileLock::try_acquire(dir.file("missing/l"));
    ASSERT_FALSE(lock);
    EXPECT_EQ(lock.error().kind, ErrorKind::NotFound);
}

TEST(FileLock, KernelReleasesLockOfKilledHolder) {
    test::ScratchDir dir;
    std::string path = dir.file("l");
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(ready[0]);
        auto lock = FileLock::acquire(path);
        char c = lock ? 'y' : 'n';
        (void)!::write(ready[1], &c, 1);
        while (true)
            ::pause();
    }
    ASSERT_GT(pid, 0);
    ::close(ready[1]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ASSERT_EQ(c, 'y');

    {
        auto busy = FileLock::try_acquire(path);
        ASSERT_FALSE(busy);
        EXPECT_EQ(busy.error().kind, ErrorKind::Busy);
    }

    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(st));
    auto after = FileLock::try_acquire(path);
    EXPECT_TRUE(after) << after.error().message();
}

} // namespace
} // namespace fleetbox
