// Helper lifetimes and startup failures: a bound helper dies with a kill -9'd client, a
// detached one outlives its launcher, a stale helper (other protocol version) is killed, a
// stale socket gives one clear error, another user is refused, and the launcher explains a
// helper that could not start.
#include "component/helper/helper_fixture.hpp"
#include "proto/codec.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <gmock/gmock.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

namespace fleetbox::test {
namespace {

using client::HelperClient;
using client::HelperLauncher;
using client::HelperMode;
using client::LaunchOptions;

// Runs `body` in a forked child that reports two pids through a pipe; returns the child pid
// and the pids (0, 0 when the child failed). The child never returns into the test.
template <class Body>
std::pair<pid_t, std::pair<int, int>> fork_client(Body body) {
    int fds[2];
    if (::pipe(fds) != 0)
        return {-1, {0, 0}};
    pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[0]);
        std::pair<int, int> pids = body();
        (void)!::write(fds[1], &pids, sizeof pids);
        ::pause(); // wait for the test to kill us, or for SIGTERM
        ::_exit(0);
    }
    ::close(fds[1]);
    std::pair<int, int> pids{0, 0};
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 30000) > 0)
        (void)!::read(fds[0], &pids, sizeof pids);
    ::close(fds[0]);
    return {child, pids};
}

class LifetimeTest : public HelperFixture {};

TEST_F(LifetimeTest, BoundHelperAndItsVmsDieWhenTheClientIsKilled) {
    auto [client, pids] = fork_client([&]() -> std::pair<int, int> {
        auto helper = launcher().spawn(store_, "web", HelperMode::Bound);
        if (!helper)
            return {0, 0};
        auto booted = boot(helper->client(), spec_for("web"));
        int pid = helper->pid();
        new client::HelperHandle(std::move(*helper)); // keep it open until we are killed
        return {pid, booted.qemu_pid};
    });
    auto [helper_pid, qemu_pid] = pids;
    ASSERT_GT(helper_pid, 0);
    ASSERT_GT(qemu_pid, 0);
    EXPECT_FALSE(process_gone(helper_pid));
    ASSERT_EQ(::kill(client, SIGKILL), 0);
    ::waitpid(client, nullptr, 0);
    EXPECT_TRUE(wait_gone(helper_pid)) << "bound helper survived its client";
    EXPECT_TRUE(wait_gone(qemu_pid)) << "the helper's VM survived";
    EXPECT_FALSE(path_exists(socket_of("web")));
}

TEST_F(LifetimeTest, BoundHelperNoticesItsParentIsGoneEvenWithoutABindConnection) {
    // The backstop: no bind connection at all, only --parent-pid and the 1 s poll.
    auto [client, pids] = fork_client([&]() -> std::pair<int, int> {
        ChildSpec spec;
        spec.argv = {fake_helper(), "--store",      store_.root(),
                     "--member",    "web",          "--mode",
                     "bound",       "--parent-pid", std::to_string(::getpid())};
        spec.out = spec.err = Stream::Null;
        auto helper = ChildProcess::spawn(spec);
        if (!helper || !connect_unix(socket_of("web"), std::chrono::milliseconds(10000)))
            return {0, 0};
        return {helper->detach(), 0};
    });
    pid_t helper_pid = pids.first;
    ASSERT_GT(helper_pid, 0);
    EXPECT_FALSE(process_gone(helper_pid));
    ASSERT_EQ(::kill(client, SIGKILL), 0);
    ::waitpid(client, nullptr, 0);
    EXPECT_TRUE(wait_gone(helper_pid)) << "bound helper did not notice its parent died";
    EXPECT_FALSE(path_exists(socket_of("web")));
}

TEST_F(LifetimeTest, VmsOutliveTheConnectionThatBootedThemButNotAKilledHelper) {
    auto helper = spawn("web");
    pid_t standin = 0;
    {
        // Boot over a connection of its own, then close it: the helper's thread that served it
        // ends, and a VM forked from that thread would get its PR_SET_PDEATHSIG now.
        auto other = HelperClient::connect(store_, "web");
        ASSERT_TRUE(other) << other.error().message();
        standin = boot(**other, spec_for("web")).qemu_pid;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(process_gone(standin)) << "the VM died with the connection thread that booted it";
    EXPECT_EQ(helper.client().status("web")->state, proto::MemberState::Running);
    // A helper killed outright (no graceful shutdown) still takes its VMs: PR_SET_PDEATHSIG.
    ASSERT_EQ(::kill(helper.pid(), SIGKILL), 0);
    EXPECT_TRUE(wait_gone(standin)) << "the VM survived its helper";
}

TEST_F(LifetimeTest, DetachedHelperOutlivesItsLauncherAndExitsAfterItsLastMemberStops) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t launcher_pid = ::fork();
    if (launcher_pid == 0) {
        auto helper = launcher().spawn(store_, "web", HelperMode::Detached);
        std::pair<int, int> pids{0, 0};
        if (helper)
            pids = {helper->pid(), boot(helper->client(), spec_for("web")).qemu_pid};
        (void)!::write(fds[1], &pids, sizeof pids);
        ::_exit(0); // the CLI command ends; the helper must stay
    }
    ::close(fds[1]);
    std::pair<int, int> pids{0, 0};
    (void)!::read(fds[0], &pids, sizeof pids);
    ::close(fds[0]);
    ::waitpid(launcher_pid, nullptr, 0);
    auto [helper_pid, qemu_pid] = pids;
    ASSERT_GT(helper_pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // give a wrong exit a chance
    EXPECT_FALSE(process_gone(helper_pid));
    EXPECT_FALSE(process_gone(qemu_pid));
    EXPECT_EQ(::getsid(helper_pid), helper_pid); // its own session

    auto remote = HelperClient::connect(store_, "web");
    ASSERT_TRUE(remote) << remote.error().message();
    EXPECT_EQ((*remote)->status("web")->state, proto::MemberState::Running);
    ASSERT_TRUE((*remote)->stop("web"));
    EXPECT_TRUE(wait_gone(qemu_pid));
    EXPECT_TRUE(wait_gone(helper_pid))
        << "detached helper did not exit after its last member stopped";
    EXPECT_FALSE(path_exists(socket_of("web")));
}

TEST_F(LifetimeTest, VersionMismatchIsOneClearErrorAndTheStaleHelperIsKilled) {
    LaunchOptions options;
    options.extra_args = {"--protocol-version", "99"};
    auto helper = launcher(options).spawn(store_, "web", HelperMode::Bound);
    ASSERT_FALSE(helper);
    EXPECT_EQ(helper.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(
        helper.error().message(),
        "fleetbox-helper speaks protocol 99, this fleetbox speaks 2 (stale FLEETBOX_HELPER?)");
    EXPECT_NE(helper.error().hint.find("FLEETBOX_HELPER"), std::string::npos);
    EXPECT_TRUE(processes_mentioning(store_.root()).empty()) << "the stale helper is still running";
}

// A running helper of another version may hold VMs: attaching (even only to list them)
// refuses with one clear line naming its pid, and leaves it running.
TEST_F(LifetimeTest, AttachNeverKillsAHelperOfAnotherVersion) {
    ChildSpec spec;
    spec.argv = {fake_helper(), "--store",  store_.root(),        "--member", "web",
                 "--mode",      "detached", "--protocol-version", "99"};
    spec.err = Stream::Null;
    spec.out = Stream::Null;
    auto stale = ChildProcess::spawn(spec);
    ASSERT_TRUE(stale) << stale.error().message();
    ASSERT_TRUE(connect_unix(socket_of("web"), std::chrono::milliseconds(10000)));

    auto attached = launcher().attach(store_, "web");
    ASSERT_FALSE(attached);
    EXPECT_EQ(
        attached.error().message(),
        "fleetbox-helper speaks protocol 99, this fleetbox speaks 2 (stale FLEETBOX_HELPER?)");
    EXPECT_NE(attached.error().hint.find("helper pid " + std::to_string(stale->pid())),
              std::string::npos)
        << attached.error().hint;
    EXPECT_FALSE(stale->wait(std::chrono::milliseconds(1000)))
        << "the helper of another version was killed";
    stale->kill();
}

// A helper that does not announce the fast path's capability is never sent a boot-member
// with kernel command line words (it would drop them); without words it boots as before.
// Likewise without cluster-network: no createnetwork with a stored subnet, and without
// boot-fixtures: no boot-member with fixture images.
TEST_F(LifetimeTest, BootWithKernelWordsNeedsTheCapability) {
    ChildSpec spec;
    spec.argv = {fake_helper(), "--store", store_.root(), "--member",
                 "web",         "--mode",  "detached",    "--no-capabilities"};
    spec.err = Stream::Null;
    spec.out = Stream::Null;
    auto old = ChildProcess::spawn(spec);
    ASSERT_TRUE(old) << old.error().message();
    ASSERT_TRUE(connect_unix(socket_of("web"), std::chrono::milliseconds(10000)));
    auto remote = HelperClient::connect(store_, "web");
    ASSERT_TRUE(remote) << remote.error().message();
    EXPECT_FALSE((*remote)->has(proto::kCapBootKernelCmdline));
    // Nor is it asked for a cluster's stored subnet (it would build another network).
    auto stored = (*remote)->create_network({"web", "203.0.113.0/24", {}});
    ASSERT_FALSE(stored);
    EXPECT_THAT(stored.error().message(), ::testing::HasSubstr("predates stored cluster networks"));
    ASSERT_TRUE((*remote)->create_network());
    ASSERT_TRUE((*remote)->reserve("web", ""));
    auto spec_with_words = spec_for("web");
    spec_with_words.kernel_cmdline_extra = "fleetbox.seed=/dev/vdb";
    auto refused = (*remote)->boot(spec_with_words);
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().message(), ::testing::HasSubstr("predates the boot fast path"));
    // Nor a boot-member with fixture images (it would boot the guest without them).
    EXPECT_FALSE((*remote)->has(proto::kCapBootFixtures));
    auto spec_with_fixtures = spec_for("web");
    spec_with_fixtures.fixture_paths = {spec_with_fixtures.member_dir + "/fixture-0.img"};
    auto no_fixtures = (*remote)->boot(spec_with_fixtures);
    ASSERT_FALSE(no_fixtures);
    EXPECT_THAT(no_fixtures.error().message(),
                ::testing::HasSubstr("cannot attach fixtures (no boot-fixtures capability)"));
    // Nor a stock image's boot (it would boot it on microvm with root=/dev/vda); the defaults
    // spelled out are no stock boot.
    EXPECT_FALSE((*remote)->has(proto::kCapBootStockImages));
    auto stock = spec_for("web");
    stock.machine = proto::kMachineQ35;
    stock.kernel_root = "UUID=0b4c2a8e-3f1d-4c55-9d0e-6a7b8c9d0e1f";
    auto no_stock = (*remote)->boot(stock);
    ASSERT_FALSE(no_stock);
    EXPECT_THAT(
        no_stock.error().message(),
        ::testing::HasSubstr("cannot boot stock cloud images (no boot-stock-images capability)"));
    auto defaults = spec_for("web");
    defaults.machine = proto::kMachineMicrovm;
    defaults.kernel_root = proto::kDefaultKernelRoot;
    EXPECT_FALSE(proto::uses_stock_boot(defaults));
    auto plain = (*remote)->boot(spec_for("web"));
    EXPECT_TRUE(plain) << plain.error().message();
    (void)(*remote)->stop("web");
    old->kill();
}

TEST_F(LifetimeTest, StaleSocketGivesOneClearErrorAndIsReplacedByTheNextHelper) {
    {
        auto listening = listen_unix(socket_of("web"));
        ASSERT_TRUE(listening); // closing it leaves the socket file with nobody behind it
    }
    ASSERT_TRUE(path_exists(socket_of("web")));
    auto remote = HelperClient::connect(store_, "web");
    ASSERT_FALSE(remote);
    EXPECT_EQ(remote.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(remote.error().message(), "no fleetbox helper is running for web (stale socket run/" +
                                            Store::socket_stem("web") + ".sock)");

    auto helper = spawn("web");
    EXPECT_TRUE(helper.client().status("web"));
}

TEST_F(LifetimeTest, ForeignFileOrMissingSocketGivesTheSameClearError) {
    auto missing = HelperClient::connect(store_, "web");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message(), "no fleetbox helper is running for web");
    write_text(socket_of("web"), "not a socket");
    auto foreign = HelperClient::connect(store_, "web");
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().message(),
              "no fleetbox helper is running for web (stale socket run/" +
                  Store::socket_stem("web") + ".sock)");
}

TEST_F(LifetimeTest, ASecondHelperForAServedMemberRefusesToStart) {
    auto first = spawn("web");
    auto second = launcher().spawn(store_, "web", HelperMode::Bound);
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message().find("another fleetbox helper is already running for web"),
              std::string::npos)
        << second.error().message();
    EXPECT_TRUE(first.client().status("web")); // the first one is untouched
    EXPECT_TRUE(path_exists(socket_of("web")));
}

// Connects as another uid, sends hello, returns the reply line ("" when it could not connect).
std::string hello_as_nobody(const std::string& socket) {
    int fds[2];
    if (::pipe(fds) != 0)
        return "pipe failed";
    pid_t child = ::fork();
    if (child == 0) { // only async-signal-safe calls from here on
        ::close(fds[0]);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(2);
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        for (size_t i = 0; i < socket.size() && i < sizeof addr.sun_path - 1; ++i)
            addr.sun_path[i] = socket[i];
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            char code = errno == EACCES ? 'A' : 'C';
            (void)!::write(fds[1], &code, 1);
            ::_exit(0);
        }
        const char hello[] = "{\"cmd\":\"hello\",\"version\":1,\"client_pid\":1}\n";
        (void)!::write(fd, hello, sizeof hello - 1);
        char buf[1024];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0)
            (void)!::write(fds[1], buf, static_cast<size_t>(n));
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    ::waitpid(child, nullptr, 0);
    return out;
}

TEST_F(LifetimeTest, AnotherUserIsRefused) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to act as another uid";
    auto helper = spawn("web");
    // The modes alone keep another user out...
    EXPECT_EQ(hello_as_nobody(socket_of("web")), "A");
    // ...and with them opened up, SO_PEERCRED still does.
    ASSERT_EQ(::chmod(scratch_.path().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(store_.root().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(store_.run_dir().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(socket_of("web").c_str(), 0666), 0);
    std::string reply = hello_as_nobody(socket_of("web"));
    auto decoded = proto::decode_reply(trim(reply));
    ASSERT_TRUE(decoded) << reply;
    auto* error = std::get_if<proto::ErrorReply>(&*decoded);
    ASSERT_NE(error, nullptr) << reply;
    EXPECT_EQ(error->kind, "permission");
    EXPECT_TRUE(helper.client().status("web")); // the owner still gets through
}

TEST_F(LifetimeTest, AHelperThatDiesDuringStartupIsExplainedFromItsLog) {
    std::string script = scratch_.file("broken-helper");
    write_text(script, "#!/bin/sh\necho 'starting'\necho 'fleetbox-helper: boom' >&2\nexit 1\n",
               0755);
    HelperLauncher broken(script);
    auto helper = broken.spawn(store_, "web", HelperMode::Bound);
    ASSERT_FALSE(helper);
    EXPECT_EQ(helper.error().kind, ErrorKind::ExternalCommand);
    EXPECT_EQ(helper.error().message(),
              "start fleetbox-helper for web: it exited with status 1: fleetbox-helper: boom");
    EXPECT_NE(helper.error().hint.find("helper.log"), std::string::npos);
}

TEST_F(LifetimeTest, AHelperThatNeverAnswersIsKilledAfterTheStartupTimeout) {
    std::string script = scratch_.file("silent-helper");
    write_text(script, "#!/bin/sh\nwhile :; do sleep 1; done\n", 0755);
    LaunchOptions options;
    options.startup_timeout = std::chrono::milliseconds(300);
    auto helper = HelperLauncher(script, options).spawn(store_, "web", HelperMode::Bound);
    ASSERT_FALSE(helper);
    EXPECT_EQ(helper.error().kind, ErrorKind::Timeout);
    EXPECT_TRUE(processes_mentioning(store_.root()).empty());
}

TEST_F(LifetimeTest, LocateHonorsFleetboxHelperAndNamesWhereItLooked) {
    {
        ScopedEnv env("FLEETBOX_HELPER", fake_helper());
        auto found = HelperLauncher::locate();
        ASSERT_TRUE(found);
        EXPECT_EQ(*found, fake_helper());
    }
    {
        ScopedEnv env("FLEETBOX_HELPER", "/nonexistent/fleetbox-helper");
        auto found = HelperLauncher::locate();
        ASSERT_FALSE(found);
        EXPECT_EQ(found.error().kind, ErrorKind::MissingDependency);
        EXPECT_NE(found.error().message().find("FLEETBOX_HELPER=/nonexistent/fleetbox-helper"),
                  std::string::npos);
    }
    auto found = HelperLauncher::locate(); // nothing next to the test binary
    if (found)
        GTEST_SKIP() << "a fleetbox-helper is installed at " << *found;
    EXPECT_EQ(found.error().kind, ErrorKind::MissingDependency);
    EXPECT_NE(found.error().message().find(parent_dir(self_exe()) + "/fleetbox-helper"),
              std::string::npos);
}

} // namespace
} // namespace fleetbox::test
