// ProcessIdentity: a pid is alive only while /proc/<pid>/stat exists, the process is not a
// zombie and its start time equals the recorded one (a reused pid is a different process).
#include "sys/child_process.hpp"
#include "sys/process_identity.hpp"

#include <csignal>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox {
namespace {

TEST(ProcessIdentity, ThisProcessIsAliveWithItsOwnStartTime) {
    auto self = self_identity();
    ASSERT_TRUE(self) << self.error().message();
    EXPECT_EQ(self->pid, ::getpid());
    EXPECT_GT(self->start_time, 0U);
    EXPECT_TRUE(process_alive(*self));
    EXPECT_EQ(*process_start_time(::getpid()), self->start_time) << "stable over time";
}

TEST(ProcessIdentity, ALivePidWithAnotherStartTimeIsDead) {
    auto self = self_identity();
    ASSERT_TRUE(self);
    EXPECT_FALSE(process_alive({self->pid, self->start_time + 1}));
    EXPECT_FALSE(process_alive({self->pid, 0}));
}

TEST(ProcessIdentity, AnExitedProcessIsDead) {
    ChildSpec spec;
    spec.argv = {"sleep", "30"};
    auto child = ChildProcess::spawn(spec);
    ASSERT_TRUE(child) << child.error().message();
    auto id = identify_process(child->pid());
    ASSERT_TRUE(id) << id.error().message();
    EXPECT_TRUE(process_alive(*id));
    EXPECT_NE(process_cmdline(child->pid()).find("sleep 30"), std::string::npos);

    ASSERT_EQ(::kill(child->pid(), SIGKILL), 0);
    // Not yet reaped: a zombie still has /proc/<pid>/stat, and counts as dead.
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child->pid()), &info, WEXITED | WNOWAIT), 0);
    EXPECT_FALSE(process_alive(*id)) << "a zombie is dead";
    child->kill(); // reap
    EXPECT_FALSE(process_alive(*id));
    auto gone = process_start_time(id->pid);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().kind, ErrorKind::NotFound);
}

TEST(ProcessIdentity, NonPidsAreNeverAlive) {
    EXPECT_FALSE(process_alive({0, 0}));
    EXPECT_FALSE(process_alive({-1, 5}));
    EXPECT_FALSE(process_start_time(0));
    EXPECT_EQ(process_cmdline(-1), "");
}

} // namespace
} // namespace fleetbox
