// Unit tests for the lifetime side of sys/child_process: timed waits, kill(), the destructor
// that kills and reaps, process groups and sessions, PR_SET_PDEATHSIG, move/detach, try_wait,
// exit_fd, and the signal state (mask, ignored signals) a child starts with.
//
// Why: fleetbox must never leave a QEMU or mmdebstrap running after it gives up on it. The
// tests watch the real processes through /proc and waitpid (see process_helpers.hpp).
#include "support/process_helpers.hpp"
#include "sys/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

ChildSpec quiet(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Null;
    spec.err = Stream::Null;
    return spec;
}

TEST(ChildLifecycle, WaitTimeoutLeavesChildRunningThenKill) {
    auto child = ChildProcess::spawn(quiet({"sleep", "5"}));
    ASSERT_TRUE(child) << child.error().message();
    pid_t pid = child->pid();
    auto waited = child->wait(100ms);
    ASSERT_FALSE(waited);
    EXPECT_EQ(waited.error().kind, ErrorKind::Timeout);
    EXPECT_THAT(waited.error().message(), HasSubstr("still running"));
    EXPECT_TRUE(child->running());
    EXPECT_EQ(::kill(pid, 0), 0);
    EXPECT_FALSE(child->try_wait());

    ExitStatus st = child->kill();
    EXPECT_EQ(st.signal, SIGKILL);
    EXPECT_EQ(st.code, -1);
    EXPECT_EQ(st.describe(), "killed by SIGKILL");
    EXPECT_FALSE(child->running());
    EXPECT_FALSE(test::proc_exists(pid)); // reaped, not a zombie
    // Waiting again returns the recorded status.
    auto again = child->wait();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->signal, SIGKILL);
}

TEST(ChildLifecycle, WaitWithTimeoutReturnsStatusOfQuickChild) {
    auto child = ChildProcess::spawn(quiet({"sh", "-c", "exit 7"}));
    ASSERT_TRUE(child) << child.error().message();
    auto st = child->wait(60s);
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_EQ(st->code, 7);
    EXPECT_FALSE(child->running());
}

TEST(ChildLifecycle, DestructorKillsAndReaps) {
    pid_t pid = -1;
    {
        auto child = ChildProcess::spawn(quiet({"sleep", "100"}));
        ASSERT_TRUE(child) << child.error().message();
        pid = child->pid();
        ASSERT_EQ(::kill(pid, 0), 0);
    }
    errno = 0;
    EXPECT_EQ(::kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
    EXPECT_FALSE(test::proc_exists(pid)); // no zombie left behind
}

TEST(ChildLifecycle, TryWaitAndExitFd) {
    auto child = ChildProcess::spawn(quiet({"sh", "-c", "read x; exit 5"}));
    ASSERT_TRUE(child) << child.error().message();
    // stdin is /dev/null, so `read` returns at once and the shell exits.
    pollfd p{child->exit_fd(), POLLIN, 0};
    ASSERT_GE(p.fd, 0);
    ASSERT_EQ(::poll(&p, 1, 30000), 1); // bound, not a timing assertion
    std::optional<ExitStatus> st;
    ASSERT_TRUE(test::eventually([&] { return (st = child->try_wait()).has_value(); }));
    EXPECT_EQ(st->code, 5);
    EXPECT_FALSE(child->running());
}

TEST(ChildLifecycle, SignalDeliversToChild) {
    auto child = ChildProcess::spawn(quiet({"sleep", "100"}));
    ASSERT_TRUE(child) << child.error().message();
    ASSERT_TRUE(child->signal(SIGTERM));
    auto st = child->wait(30s);
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_EQ(st->signal, SIGTERM);
    EXPECT_EQ(st->describe(), "killed by SIGTERM");
}

TEST(ChildLifecycle, MoveTransfersOwnership) {
    auto spawned = ChildProcess::spawn(quiet({"sleep", "100"}));
    ASSERT_TRUE(spawned) << spawned.error().message();
    pid_t pid = spawned->pid();
    ChildProcess owner(std::move(*spawned));
    EXPECT_FALSE(spawned->running());
    EXPECT_EQ(owner.pid(), pid);
    EXPECT_TRUE(owner.running());
    spawned = fail(ErrorKind::Internal, "drop moved-from"); // destroying the shell must not kill
    EXPECT_EQ(::kill(pid, 0), 0);
    EXPECT_EQ(owner.kill().signal, SIGKILL);
    EXPECT_FALSE(test::proc_exists(pid));
}

TEST(ChildLifecycle, MoveAssignKillsPreviousChild) {
    auto a = ChildProcess::spawn(quiet({"sleep", "100"}));
    auto b = ChildProcess::spawn(quiet({"sleep", "100"}));
    ASSERT_TRUE(a && b);
    pid_t old_pid = a->pid();
    pid_t new_pid = b->pid();
    *a = std::move(*b);
    EXPECT_FALSE(test::proc_exists(old_pid)); // killed and reaped
    EXPECT_EQ(a->pid(), new_pid);
    EXPECT_EQ(::kill(new_pid, 0), 0);
}

TEST(ChildLifecycle, DetachLeavesChildRunning) {
    pid_t pid = -1;
    {
        auto child = ChildProcess::spawn(quiet({"sleep", "100"}));
        ASSERT_TRUE(child) << child.error().message();
        pid = child->detach();
        EXPECT_FALSE(child->running());
    }
    EXPECT_EQ(::kill(pid, 0), 0);
    EXPECT_NE(test::proc_state(pid), 'Z');
    test::kill_and_reap(pid);
}

TEST(ChildLifecycle, OwnProcessGroupAndNewSession) {
    ChildSpec grouped = quiet({"sleep", "100"});
    grouped.own_process_group = true;
    auto g = ChildProcess::spawn(grouped);
    ASSERT_TRUE(g) << g.error().message();
    EXPECT_EQ(::getpgid(g->pid()), g->pid());
    EXPECT_EQ(::getsid(g->pid()), ::getsid(0));

    ChildSpec session = quiet({"sleep", "100"});
    session.new_session = true;
    auto s = ChildProcess::spawn(session);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(::getsid(s->pid()), s->pid());
    EXPECT_EQ(::getpgid(s->pid()), s->pid());

    auto plain = ChildProcess::spawn(quiet({"sleep", "100"}));
    ASSERT_TRUE(plain) << plain.error().message();
    EXPECT_EQ(::getpgid(plain->pid()), ::getpgid(0));
}

// Spawns `sh` that starts a background sleep, prints its pid and then execs a foreground sleep
// (exec: so the only grandchild is the background one).
// Returns the background pid (or -1).
pid_t spawn_with_grandchild(bool own_group, std::optional<ChildProcess>& out) {
    ChildSpec spec;
    spec.argv = {"sh", "-c", "sleep 100 & echo $!; exec sleep 100"};
    spec.out = Stream::Capture;
    spec.err = Stream::Null;
    spec.own_process_group = own_group;
    auto child = ChildProcess::spawn(spec);
    if (!child)
        return -1;
    out.emplace(std::move(*child));
    std::string text;
    if (!test::eventually(
            [&] { return (text = out->captured_stdout()).find('\n') != std::string::npos; }))
        return -1;
    return static_cast<pid_t>(std::stol(text));
}

TEST(ChildLifecycle, GroupKillReachesGrandchildren) {
    test::Subreaper reaper; // the orphaned background sleep is re-parented to us
    ASSERT_TRUE(reaper.ok());
    std::optional<ChildProcess> child;
    pid_t grandchild = spawn_with_grandchild(true, child);
    ASSERT_GT(grandchild, 0);
    pid_t pid = child->pid();
    EXPECT_EQ(child->kill().signal, SIGKILL);
    EXPECT_FALSE(test::proc_exists(pid));
    auto st = test::reap_within(grandchild);
    ASSERT_TRUE(st) << "background sleep survived the group kill";
    EXPECT_TRUE(WIFSIGNALED(*st));
    EXPECT_EQ(WTERMSIG(*st), SIGKILL);
}

TEST(ChildLifecycle, WithoutGroupGrandchildSurvivesKill) {
    // Control for the test above: it shows the group, not luck, killed the grandchild.
    test::Subreaper reaper;
    ASSERT_TRUE(reaper.ok());
    std::optional<ChildProcess> child;
    pid_t grandchild = spawn_with_grandchild(false, child);
    ASSERT_GT(grandchild, 0);
    child->kill();
    EXPECT_EQ(::kill(grandchild, 0), 0);
    EXPECT_FALSE(test::process_dead(grandchild));
    test::kill_and_reap(grandchild);
}

// Forks an intermediate process that spawns `sleep 100` with the given parent-death signal,
// reports the sleep's pid through a pipe and exits (without running destructors).
pid_t orphan_sleep_via_intermediate(int death_signal) {
    int p[2];
    if (::pipe(p) != 0)
        return -1;
    pid_t mid = ::fork();
    if (mid == 0) {
        ::close(p[0]);
        ChildSpec spec = quiet({"sleep", "100"});
        spec.parent_death_signal = death_signal;
        auto child = ChildProcess::spawn(spec);
        pid_t pid = child ? child->pid() : -1;
        (void)!::write(p[1], &pid, sizeof pid);
        ::_exit(child ? 0 : 1);
    }
    ::close(p[1]);
    pid_t pid = -1;
    if (mid < 0 || ::read(p[0], &pid, sizeof pid) != sizeof pid)
        pid = -1;
    ::close(p[0]);
    int st = 0;
    if (mid > 0)
        ::waitpid(mid, &st, 0);
    return pid;
}

TEST(ChildLifecycle, ParentDeathSignalKillsOrphan) {
    test::Subreaper reaper;
    ASSERT_TRUE(reaper.ok());
    pid_t pid = orphan_sleep_via_intermediate(SIGKILL);
    ASSERT_GT(pid, 0);
    auto st = test::reap_within(pid);
    if (!st)
        test::kill_and_reap(pid);
    ASSERT_TRUE(st) << "sleep outlived its parent despite parent_death_signal";
    EXPECT_TRUE(WIFSIGNALED(*st));
    EXPECT_EQ(WTERMSIG(*st), SIGKILL);
}

TEST(ChildLifecycle, WithoutParentDeathSignalOrphanSurvives) {
    test::Subreaper reaper;
    ASSERT_TRUE(reaper.ok());
    pid_t pid = orphan_sleep_via_intermediate(0);
    ASSERT_GT(pid, 0);
    EXPECT_FALSE(test::reap_within(pid, 300ms)); // still running
    EXPECT_EQ(::kill(pid, 0), 0);
    test::kill_and_reap(pid);
}

TEST(ChildLifecycle, ChildStartsWithEmptySignalMask) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, &block, &old), 0);
    auto r = run_command(quiet({"sh", "-c", "kill -TERM $$; exit 0"}), 60s);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status.signal, SIGTERM);
}

TEST(ChildLifecycle, IgnoredSignalsAreResetForChild) {
    struct sigaction ign {
    }, old{};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    ASSERT_EQ(::sigaction(SIGPIPE, &ign, &old), 0);
    auto r = run_command(quiet({"sh", "-c", "kill -PIPE $$; exit 0"}), 60s);
    ::sigaction(SIGPIPE, &old, nullptr);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status.signal, SIGPIPE);
}

} // namespace
} // namespace fleetbox
