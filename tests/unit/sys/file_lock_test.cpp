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
#include <sys/stat.h>
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

TEST(FileLock, NewLockFilesAreOwnerOnly) {
    test::ScratchDir dir;
    const mode_t old = ::umask(0);
    auto lock = FileLock::acquire(dir.file("l"));
    ::umask(old);
    ASSERT_TRUE(lock) << lock.error().message();
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("l").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600U);
}

// A symlink planted at the lock path is refused: its target is neither created nor opened.
TEST(FileLock, APlantedSymlinkIsNeverFollowed) {
    test::ScratchDir dir;
    ASSERT_EQ(::mkdir(dir.file("private").c_str(), 0700), 0);
    const std::string absent = dir.file("private/created-through-link");
    const std::string present = dir.file("private/existing");
    test::write_text(present, "keep\n");
    ASSERT_EQ(::symlink(absent.c_str(), dir.file("a.lock").c_str()), 0);
    ASSERT_EQ(::symlink(present.c_str(), dir.file("b.lock").c_str()), 0);
    for (const char* name : {"a.lock", "b.lock"}) {
        auto timed = FileLock::acquire(dir.file(name), Mode::Exclusive, 100ms);
        ASSERT_FALSE(timed) << name;
        EXPECT_EQ(timed.error().kind, ErrorKind::Permission) << name;
        EXPECT_NE(timed.error().message().find("symbolic link"), std::string::npos)
            << timed.error().message();
        auto tried = FileLock::try_acquire(dir.file(name));
        ASSERT_FALSE(tried) << name;
        auto blocking = FileLock::acquire(dir.file(name));
        ASSERT_FALSE(blocking) << name;
    }
    EXPECT_FALSE(path_exists(absent)) << "the link target was created";
    EXPECT_EQ(read_file(present).value_or(""), "keep\n");
    struct stat st {};
    ASSERT_EQ(::stat(present.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 5) << "the link target was touched";
}

TEST(FileLock, AFifoAtTheLockPathIsRefusedWithoutBlocking) {
    test::ScratchDir dir;
    ASSERT_EQ(::mkfifo(dir.file("f.lock").c_str(), 0600), 0);
    auto lock = FileLock::try_acquire(dir.file("f.lock"));
    ASSERT_FALSE(lock);
    EXPECT_NE(lock.error().message().find("not a regular file"), std::string::npos)
        << lock.error().message();
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
