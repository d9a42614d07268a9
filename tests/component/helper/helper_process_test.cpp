// The helper process (fleetbox-helper-fake) driven through HelperLauncher + HelperClient:
// the protocol happy path, refusals, stop during boot, clusters, and clean exits.
#include "component/helper/helper_fixture.hpp"
#include "util/strings.hpp"

#include <sys/stat.h>
#include <thread>

namespace fleetbox::test {
namespace {

using client::HelperClient;
using client::HelperMode;

class HelperProcessTest : public HelperFixture {};

TEST_F(HelperProcessTest, HappyPathThroughTheHelperClient) {
    auto helper = spawn("web");
    auto& remote = helper.client();
    EXPECT_EQ(remote.helper_pid(), helper.pid());

    auto net = remote.create_network();
    ASSERT_TRUE(net) << net.error().message();
    EXPECT_EQ(net->subnet, "203.0.113.0/24");
    auto reservation = remote.reserve("web", "203.0.113.77");
    ASSERT_TRUE(reservation) << reservation.error().message();
    EXPECT_EQ(reservation->ip, "203.0.113.77");
    EXPECT_EQ(remote.reserve("web", "")->ip, "203.0.113.77"); // idempotent

    auto booted = remote.boot(spec_for("web"));
    ASSERT_TRUE(booted) << booted.error().message();
    EXPECT_EQ(booted->ip, "203.0.113.77");
    EXPECT_FALSE(process_gone(booted->qemu_pid));

    auto status = remote.status("web");
    ASSERT_TRUE(status);
    EXPECT_EQ(status->state, proto::MemberState::Running);
    EXPECT_EQ(status->qemu_pid, booted->qemu_pid);
    EXPECT_EQ(status->helper_pid, helper.pid());

    ASSERT_TRUE(remote.stop("web"));
    EXPECT_TRUE(wait_gone(booted->qemu_pid));
    EXPECT_EQ(remote.status("web")->state, proto::MemberState::Stopped);
    EXPECT_FALSE(process_gone(helper.pid())); // a bound helper stays until its client leaves

    std::vector<std::string> calls;
    for (const auto& c : recorded())
        calls.push_back(c.value("call", "") + ":" + c.value("name", ""));
    EXPECT_EQ(join(calls, " "),
              "create_network: reserve:web reserve:web boot:web status:web stop:web status:web");
    std::string log = read_text(helper.log_path());
    EXPECT_NE(log.find("boot-member web: ok"), std::string::npos) << log;
}

TEST_F(HelperProcessTest, SocketsAreOwnerOnlyInAnOwnerOnlyRunDirectory) {
    auto helper = spawn("web");
    struct stat st {};
    ASSERT_EQ(::stat(store_.run_dir().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_EQ(::stat(socket_of("web").c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(HelperProcessTest, SecondBootOfARunningMemberIsRefusedAsBusy) {
    auto helper = spawn("web");
    auto first = boot(helper.client(), spec_for("web"));
    auto second = helper.client().boot(spec_for("web"));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, ErrorKind::Busy);
    EXPECT_EQ(second.error().message(), "member web is already running");
    EXPECT_EQ(helper.client().status("web")->qemu_pid, first.qemu_pid);
}

TEST_F(HelperProcessTest, BootWithAPathOutsideTheStoreIsRefusedAndNothingIsSpawned) {
    auto helper = spawn("web");
    auto& remote = helper.client();
    ASSERT_TRUE(remote.create_network());
    ASSERT_TRUE(remote.reserve("web", ""));
    auto spec = spec_for("web");
    spec.disk_path = "/etc/shadow";
    auto booted = remote.boot(spec);
    ASSERT_FALSE(booted);
    EXPECT_EQ(booted.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(booted.error().message(),
              "boot-member: path /etc/shadow is outside the store " + store_.root());
    EXPECT_EQ(count_calls("boot"), 0); // the backend was never asked
    EXPECT_EQ(remote.status("web")->qemu_pid, 0);
}

TEST_F(HelperProcessTest, StopDuringBootCancelsTheBootAndLeavesNoOrphan) {
    ScopedEnv delay("FLEETBOX_FAKE_BOOT_DELAY_MS", "60000");
    auto helper = spawn("web");
    auto& remote = helper.client();
    ASSERT_TRUE(remote.create_network());
    ASSERT_TRUE(remote.reserve("web", ""));
    Result<proto::Booted> booted = fail(ErrorKind::Internal, "not run");
    std::thread booting([&] { booted = remote.boot(spec_for("web")); });
    pid_t standin = 0;
    for (int i = 0; i < 1000 && standin == 0; ++i) {
        auto status = remote.status("web");
        if (status && status->state == proto::MemberState::Starting)
            standin = status->qemu_pid;
        if (standin == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GT(standin, 0);
    auto stopped = remote.stop("web"); // on its own connection, while boot waits on another
    booting.join();
    ASSERT_TRUE(stopped) << stopped.error().message();
    ASSERT_FALSE(booted);
    EXPECT_EQ(booted.error().message(), "member web was stopped during boot");
    EXPECT_TRUE(wait_gone(standin));
    EXPECT_EQ(remote.status("web")->state, proto::MemberState::Stopped);
}

TEST_F(HelperProcessTest, AMemberReservedThroughTheHelperGetsItsOwnSocket) {
    auto helper = spawn("web-1");
    boot(helper.client(), spec_for("web-1"));
    ASSERT_TRUE(helper.client().reserve("web-2", ""));
    auto second = HelperClient::connect(store_, "web-2");
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ((*second)->helper_pid(), helper.pid());
    auto booted = (*second)->boot(spec_for("web-2"));
    ASSERT_TRUE(booted) << booted.error().message();
    EXPECT_EQ((*second)->status("web-1")->state, proto::MemberState::Running);
    second->reset();
    ASSERT_TRUE(helper.close());
    EXPECT_FALSE(path_exists(socket_of("web-1")));
    EXPECT_FALSE(path_exists(socket_of("web-2")));
    EXPECT_TRUE(wait_gone(booted->qemu_pid));
}

// list: every member with its state and the network; release frees a stopped member (its
// address can be taken again, its socket is gone), refuses a running one, and is idempotent.
TEST_F(HelperProcessTest, ListAndRelease) {
    auto helper = spawn("web-1");
    auto& remote = helper.client();
    auto empty = remote.list();
    ASSERT_TRUE(empty) << empty.error().message();
    EXPECT_EQ(empty->network.subnet, "") << "no network before createnetwork";
    EXPECT_TRUE(empty->members.empty());

    boot(remote, spec_for("web-1"));
    auto second = remote.reserve("web-2", "");
    ASSERT_TRUE(second) << second.error().message();
    ASSERT_TRUE(path_exists(socket_of("web-2")));
    auto listed = remote.list();
    ASSERT_TRUE(listed) << listed.error().message();
    EXPECT_EQ(listed->network.subnet, "203.0.113.0/24");
    ASSERT_EQ(listed->members.size(), 2u);
    EXPECT_EQ(listed->members[0].name, "web-1");
    EXPECT_EQ(listed->members[0].state, proto::MemberState::Running);
    EXPECT_EQ(listed->members[0].helper_pid, helper.pid());
    EXPECT_EQ(listed->members[1].name, "web-2");
    EXPECT_EQ(listed->members[1].state, proto::MemberState::Stopped);
    EXPECT_EQ(listed->members[1].ip, second->ip);

    auto busy = remote.release("web-1");
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().kind, ErrorKind::Busy);
    EXPECT_NE(busy.error().hint.find("fleetbox down web-1"), std::string::npos)
        << busy.error().hint;

    ASSERT_TRUE(remote.release("web-2"));
    EXPECT_FALSE(path_exists(socket_of("web-2"))) << "a released member's socket is unregistered";
    ASSERT_TRUE(remote.release("web-2")) << "release is idempotent";
    ASSERT_TRUE(remote.release("nobody"));
    auto after = remote.list();
    ASSERT_TRUE(after);
    ASSERT_EQ(after->members.size(), 1u);
    EXPECT_EQ(after->members[0].name, "web-1");
    // The freed address can be reserved again.
    auto again = remote.reserve("web-3", second->ip);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->ip, second->ip);
    EXPECT_TRUE(path_exists(socket_of("web-1"))) << "the helper's own socket stays";
}

TEST_F(HelperProcessTest, ClosingTheBindConnectionStopsTheHelper) {
    auto helper = spawn("web");
    auto booted = boot(helper.client(), spec_for("web"));
    pid_t pid = helper.pid();
    auto exited = helper.close();
    ASSERT_TRUE(exited) << exited.error().message();
    EXPECT_TRUE(exited->ok()) << exited->describe();
    EXPECT_TRUE(process_gone(pid));
    EXPECT_TRUE(wait_gone(booted.qemu_pid));
    EXPECT_FALSE(path_exists(socket_of("web")));
    EXPECT_EQ(count_calls("shutdown"), 1);
}

TEST_F(HelperProcessTest, SigtermShutsTheHelperDownGracefully) {
    auto helper = spawn("web");
    auto booted = boot(helper.client(), spec_for("web"));
    ASSERT_EQ(::kill(helper.pid(), SIGTERM), 0);
    auto exited = helper.wait(std::chrono::milliseconds(10000));
    ASSERT_TRUE(exited) << exited.error().message();
    EXPECT_TRUE(exited->ok()) << exited->describe();
    EXPECT_TRUE(wait_gone(booted.qemu_pid));
    EXPECT_FALSE(path_exists(socket_of("web")));
    EXPECT_EQ(count_calls("shutdown"), 1);
    // The proxy now reports the missing helper clearly.
    auto status = helper.client().status("web");
    ASSERT_FALSE(status);
}

TEST_F(HelperProcessTest, RemoteErrorsKeepTheirKind) {
    auto helper = spawn("web");
    auto reserved = helper.client().reserve("web", "");
    ASSERT_FALSE(reserved);
    EXPECT_EQ(reserved.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(reserved.error().message(), "reserve web: network not created");
    auto bad = helper.client().status("Not_A_Name");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::InvalidArgument);
    EXPECT_TRUE(helper.client().status("web")); // the connection survives an error reply
}

} // namespace
} // namespace fleetbox::test
