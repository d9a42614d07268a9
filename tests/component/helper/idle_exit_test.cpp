// A detached helper exits on its own when nobody needs it: no member starting or running and
// no client connected for the grace period (`--idle-exit-after`, shortened here). This is what
// cleans up after a CLI killed between spawning a detached helper and booting its member: the
// real helper, in the test's private network namespace, takes its bridge and record along.
// A client that stays connected, or a running member, keeps the helper alive. Bound helpers
// are not affected (their bind connection is their lifeline).
#include "component/helper/helper_fixture.hpp"
#include "component/net/netns_fixture.hpp"
#include "net/netlink.hpp"
#include "net/network_record.hpp"

#include <poll.h>
#include <sys/wait.h>

namespace fleetbox::test {
namespace {

using client::HelperLauncher;
using client::HelperMode;
using client::LaunchOptions;

LaunchOptions grace(int seconds) {
    LaunchOptions options;
    options.extra_args = {"--idle-exit-after", std::to_string(seconds)};
    return options;
}

class IdleExit : public HelperFixture {};

TEST_F(IdleExit, ADetachedHelperNobodyTalksToExitsAfterTheGrace) {
    auto helper = launcher(grace(1)).spawn(store_, "web", HelperMode::Detached);
    ASSERT_TRUE(helper) << helper.error().message();
    pid_t pid = helper->pid();
    ASSERT_TRUE(helper->client().create_network({}));
    ASSERT_TRUE(helper->client().reserve("web", "")); // reserved, never booted
    ASSERT_TRUE(helper->close());                     // the CLI is gone
    EXPECT_TRUE(wait_gone(pid, std::chrono::seconds(60))) << "the idle helper stayed";
    EXPECT_FALSE(path_exists(socket_of("web")));
    EXPECT_EQ(count_calls("shutdown"), 1);
}

TEST_F(IdleExit, AConnectedClientOrARunningMemberKeepsItAlive) {
    auto helper = launcher(grace(1)).spawn(store_, "web", HelperMode::Detached);
    ASSERT_TRUE(helper) << helper.error().message();
    pid_t pid = helper->pid();
    // Connected, nothing running: several graces pass while the client holds its connection.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_FALSE(process_gone(pid)) << "exited under a connected client";
    auto booted = boot(helper->client(), spec_for("web"));
    ASSERT_TRUE(helper->close());
    // Running, no client: stays.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_FALSE(process_gone(pid)) << "exited with a member running";
    EXPECT_FALSE(process_gone(booted.qemu_pid));
    auto again = launcher().attach(store_, "web");
    ASSERT_TRUE(again) << again.error().message();
    ASSERT_TRUE((*again)->stop("web")); // its last member: the helper exits at once
    EXPECT_TRUE(wait_gone(pid));
}

TEST_F(IdleExit, ANegativeGraceIsAUsageError) {
    ChildSpec spec;
    spec.argv = {fake_helper(), "--store",  store_.root(),       "--member", "web",
                 "--mode",      "detached", "--idle-exit-after", "-3"};
    spec.out = Stream::Null;
    auto bad = run_command(spec, std::chrono::seconds(10));
    ASSERT_TRUE(bad) << bad.error().message();
    EXPECT_NE(bad->status.code, 0);
    EXPECT_NE(bad->err.find("--idle-exit-after"), std::string::npos) << bad->err;
}

// The real helper: the bridge it made goes with it.
class IdleExitReal : public NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        auto store = Store::open(root_.path());
        ASSERT_TRUE(store) << store.error().message();
        store_.emplace(std::move(*store));
    }
    void TearDown() override {
        if (store_)
            for (pid_t pid : processes_mentioning(store_->root()))
                ::kill(pid, SIGKILL);
    }
    ScratchDir root_;
    std::optional<Store> store_;
};

TEST_F(IdleExitReal, ACliKilledRightAfterSpawningADetachedHelperLeavesNothing) {
    // The "CLI": spawns the detached helper, has it build the network, reports its pid, and is
    // killed before it ever boots a member.
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t cli = ::fork();
    if (cli == 0) {
        ::close(fds[0]);
        HelperLauncher launcher(built("tools/fleetbox/fleetbox-helper"), grace(2));
        int pid = 0;
        if (auto helper = launcher.spawn(*store_, "web", HelperMode::Detached)) {
            if (helper->client().create_network({"web", "", {}}))
                pid = helper->pid();
            new client::HelperHandle(std::move(*helper)); // connected until killed
        }
        (void)!::write(fds[1], &pid, sizeof pid);
        ::pause();
        ::_exit(0);
    }
    ::close(fds[1]);
    int helper_pid = 0;
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 60000) > 0)
        (void)!::read(fds[0], &helper_pid, sizeof helper_pid);
    ::close(fds[0]);
    ASSERT_GT(helper_pid, 0) << "the helper did not start (see its helper.log)";
    auto bridges = list_links_with_prefix("fbx-");
    ASSERT_TRUE(bridges) << bridges.error().message();
    ASSERT_EQ(bridges->size(), 1U);
    ASSERT_EQ(list_records(*store_->networks_dir())->size(), 1U);

    ASSERT_EQ(::kill(cli, SIGKILL), 0);
    ::waitpid(cli, nullptr, 0);
    EXPECT_TRUE(wait_gone(helper_pid, std::chrono::seconds(120))) << "the helper stayed";
    EXPECT_TRUE(list_links_with_prefix("fbx-")->empty()) << "its bridge stayed";
    EXPECT_TRUE(list_records(*store_->networks_dir())->empty()) << "its record stayed";
    EXPECT_FALSE(path_exists(*store_->socket_path("web")));
}

} // namespace
} // namespace fleetbox::test
