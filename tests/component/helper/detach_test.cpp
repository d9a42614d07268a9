// The `detach` request (Vm::keep): a bound helper told to detach outlives its client, even a
// client killed with SIGKILL, leads its own session, says "detached" in its hello, and then
// exits like a detached helper, when its last member stops.
#include "component/helper/helper_fixture.hpp"

#include <gmock/gmock.h>
#include <poll.h>
#include <sys/wait.h>

namespace fleetbox::test {
namespace {

using client::HelperClient;
using client::HelperMode;

class DetachTest : public HelperFixture {};

TEST_F(DetachTest, AKeptHelperOutlivesItsKilledClientAndExitsWithItsLastMember) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t client = ::fork();
    if (client == 0) {
        ::close(fds[0]);
        std::pair<int, int> pids{0, 0};
        auto helper = launcher().spawn(store_, "web", HelperMode::Bound);
        if (helper) {
            int qemu = boot(helper->client(), spec_for("web")).qemu_pid;
            if (helper->keep() && helper->mode() == HelperMode::Detached)
                pids = {helper->pid(), qemu};
            new client::HelperHandle(std::move(*helper)); // connections open until killed
        }
        (void)!::write(fds[1], &pids, sizeof pids);
        ::pause();
        ::_exit(0);
    }
    ::close(fds[1]);
    std::pair<int, int> pids{0, 0};
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 30000) > 0)
        (void)!::read(fds[0], &pids, sizeof pids);
    ::close(fds[0]);
    auto [helper_pid, qemu_pid] = pids;
    ASSERT_EQ(::kill(client, SIGKILL), 0);
    ::waitpid(client, nullptr, 0);
    ASSERT_GT(helper_pid, 0) << "spawn, boot or keep failed in the client";

    // Past the helper's 1 s parent check and its bind connection's EOF: still there.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_FALSE(process_gone(helper_pid)) << "a kept helper died with its client";
    EXPECT_FALSE(process_gone(qemu_pid)) << "a kept VM died with its client";
    EXPECT_EQ(::getsid(helper_pid), helper_pid) << "a kept helper leads its own session";

    auto remote = HelperClient::connect(store_, "web");
    ASSERT_TRUE(remote) << remote.error().message();
    EXPECT_EQ((*remote)->helper_mode(), "detached");
    EXPECT_EQ((*remote)->status("web")->state, proto::MemberState::Running);
    EXPECT_TRUE((*remote)->detach()) << "detach is idempotent";
    ASSERT_TRUE((*remote)->stop("web"));
    EXPECT_TRUE(wait_gone(qemu_pid));
    EXPECT_TRUE(wait_gone(helper_pid)) << "a kept helper did not exit with its last member";
    EXPECT_FALSE(path_exists(socket_of("web")));
}

TEST_F(DetachTest, KeepOfADetachedHandleIsANoOp) {
    auto helper = launcher().spawn(store_, "web", HelperMode::Detached);
    ASSERT_TRUE(helper) << helper.error().message();
    EXPECT_TRUE(helper->keep());
    EXPECT_EQ(helper->mode(), HelperMode::Detached);
    (void)::kill(helper->pid(), SIGTERM);
    EXPECT_TRUE(wait_gone(helper->pid()));
}

} // namespace
} // namespace fleetbox::test
