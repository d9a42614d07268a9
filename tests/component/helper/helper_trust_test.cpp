// The client's trust in helpers and "no data loss on errors" (issue 9), against the fake
// helper: only a missing or refused socket means "stopped"; a socket we may not open is a
// permission error and one served by another user is not trusted, and neither ever leads to
// a deletion; destroy locks the member before it stops it; a stale socket is unlinked and a
// live one never; a root client runs no FLEETBOX_HELPER that someone else could change;
// helpers are signalled through pidfds; the launcher tells the helper whose store it serves.
#include "client/member_state.hpp"
#include "client/orchestrator.hpp"
#include "component/helper/helper_fixture.hpp"
#include "support/as_user.hpp"

#include <atomic>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <sys/stat.h>
#include <thread>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class HelperTrust : public HelperFixture {
protected:
    void create_member(const std::string& name) {
        VmConfig config = new_vm_config(name, 1, 512, 1024, "debian-12");
        config.ip = "10.0.0.2";
        auto created = store_.create(config);
        ASSERT_TRUE(created) << created.error().message();
        write_text(*store_.member_file(name, "disk.qcow2"), "the guest's data\n");
    }
    client::Orchestrator orchestrator() {
        ScopedEnv env("FLEETBOX_HELPER", fake_helper());
        auto o = client::Orchestrator::open(store_.root());
        if (!o)
            throw std::runtime_error(o.error().message());
        return std::move(*o);
    }
    // "ok:<state>" or "error:<kind>:<message>|<hint>".
    static std::string describe(const Result<proto::StatusInfo>& st) {
        if (st)
            return "ok:" + std::string(proto::to_string(st->state));
        return "error:" + std::string(to_string(st.error().kind)) + ":" + st.error().message() +
               "|" + st.error().hint;
    }
    static void skip_unless_root() {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root to act as another uid";
    }
};

TEST_F(HelperTrust, NoSocketAndARefusedSocketAreStopped) {
    ASSERT_NO_FATAL_FAILURE(create_member("web"));
    auto o = orchestrator();
    EXPECT_EQ(describe(o.status("web")), "ok:stopped");
    { ASSERT_TRUE(listen_unix(socket_of("web"))); } // nobody listens on it any more
    EXPECT_EQ(describe(o.status("web")), "ok:stopped");
    EXPECT_TRUE(path_exists(socket_of("web"))) << "status never deletes anything";
}

// The reported bug's first half: a helper of root, asked without root. The user can reach
// run/ (modes opened up to search) but connect(2) on the 0600 root socket is EACCES.
TEST_F(HelperTrust, APermissionErrorOnTheSocketIsAnErrorNeverStopped) {
    skip_unless_root();
    if (IsSkipped())
        return;
    ASSERT_NO_FATAL_FAILURE(create_member("web"));
    auto helper = spawn("web");
    boot(helper.client(), spec_for("web"));
    auto o = orchestrator(); // before the modes are opened up (opening a store may tighten them)
    for (const std::string& dir :
         {scratch_.path(), store_.root(), store_.clusters_dir(), store_.run_dir(),
          *store_.cluster_dir("web"), *store_.member_dir("web")})
        ASSERT_EQ(::chmod(dir.c_str(), 0711), 0) << dir;

    std::string seen = run_as_user(kNobody, kNobody, [&] { return describe(o.status("web")); });
    EXPECT_THAT(seen, ::testing::StartsWith("error:permission:")) << seen;
    EXPECT_THAT(seen, HasSubstr("run/" + Store::socket_stem("web") + ".sock")) << seen;
    EXPECT_THAT(seen, HasSubstr("run with sudo")) << seen;

    EXPECT_TRUE(store_.exists("web"));
    EXPECT_TRUE(path_exists(socket_of("web")));
    auto st = helper.client().status("web");
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_EQ(st->state, proto::MemberState::Running);
}

// A process of another user listening on the member's socket: the client neither trusts it
// nor deletes anything because of it.
TEST_F(HelperTrust, ASocketServedByAnotherUidIsNotTrustedAndNothingIsDeleted) {
    skip_unless_root();
    if (IsSkipped())
        return;
    ASSERT_NO_FATAL_FAILURE(create_member("web"));
    ForeignListener foreign(socket_of("web"), kNobody, kNobody);
    ASSERT_TRUE(foreign.listening());

    auto remote = client::HelperClient::connect(store_, "web");
    ASSERT_FALSE(remote);
    EXPECT_EQ(remote.error().kind, ErrorKind::Permission);
    EXPECT_THAT(remote.error().message(), HasSubstr("served by uid 65534"));
    EXPECT_THAT(remote.error().message(), HasSubstr(socket_of("web")));

    auto o = orchestrator();
    EXPECT_THAT(describe(o.status("web")), ::testing::StartsWith("error:permission:"));
    auto destroyed = o.destroy("web");
    ASSERT_FALSE(destroyed);
    EXPECT_THAT(destroyed.error().message(), HasSubstr("served by uid 65534"));
    EXPECT_TRUE(store_.exists("web"));
    EXPECT_EQ(read_text(*store_.member_file("web", "disk.qcow2")), "the guest's data\n");
    EXPECT_TRUE(path_exists(socket_of("web")));
    EXPECT_TRUE(foreign.alive()) << "the foreign process was signalled";
}

// destroy takes the member's lock before it stops anything: while another fleetbox holds it
// (an `up` booting the member), the VM is neither stopped nor deleted; once it is released,
// destroy stops the VM, deletes it, and the lock file is still there for the next waiter.
TEST_F(HelperTrust, DestroyLocksTheMemberBeforeItStopsIt) {
    ASSERT_NO_FATAL_FAILURE(create_member("web"));
    auto helper = spawn("web", client::HelperMode::Detached);
    boot(helper.client(), spec_for("web"));
    auto o = orchestrator();
    std::optional<FileLock> held(store_.lock_member("web").value());

    std::atomic<bool> done{false};
    Status destroyed;
    std::thread destroyer([&] {
        destroyed = o.destroy("web");
        done = true;
    });
    for (int i = 0; i < 50 && count_calls("stop", "web") == 0 && !done; ++i)
        std::this_thread::sleep_for(20ms);
    EXPECT_EQ(count_calls("stop", "web"), 0) << "stopped while another process held the lock";
    EXPECT_FALSE(done);
    EXPECT_TRUE(store_.exists("web"));
    held.reset();
    destroyer.join();
    ASSERT_TRUE(destroyed) << destroyed.error().message();
    EXPECT_EQ(count_calls("stop", "web"), 1);
    EXPECT_FALSE(is_directory(*store_.member_dir("web")));
    EXPECT_TRUE(path_exists(*store_.lock_path("web"))) << "a lock file was deleted";
    EXPECT_TRUE(store_.lock_member("web")) << "the next fleetbox gets the lock";
}

// A socket nobody listens on is removed with its member; a live helper's socket never is,
// even when its member's files go (the helper still owns it).
TEST_F(HelperTrust, DestroyUnlinksAStaleSocketOnly) {
    ASSERT_NO_FATAL_FAILURE(create_member("web"));
    { ASSERT_TRUE(listen_unix(socket_of("web"))); }
    ASSERT_TRUE(orchestrator().destroy("web"));
    EXPECT_FALSE(path_exists(socket_of("web")));
    EXPECT_FALSE(store_.exists("web"));

    ASSERT_NO_FATAL_FAILURE(create_member("db"));
    auto live = listen_unix(socket_of("db"));
    ASSERT_TRUE(live);
    ASSERT_TRUE(store_.remove("db"));
    EXPECT_TRUE(path_exists(socket_of("db"))) << "a live socket was unlinked";
}

TEST_F(HelperTrust, TheLauncherTellsTheHelperWhoseStoreItServes) {
    auto helper = spawn("web");
    std::string cmdline = read_text("/proc/" + std::to_string(helper.pid()) + "/cmdline");
    auto user = invoking_user().value();
    EXPECT_THAT(cmdline, HasSubstr(std::string("--user") + '\0' + std::to_string(user.uid) + ":" +
                                   std::to_string(user.gid) + '\0'));
}

TEST_F(HelperTrust, HelpersAreSignalledThroughTheirPidfd) {
    auto helper = spawn("web", client::HelperMode::Detached);
    pid_t pid = helper.pid();
    auto remote = client::HelperClient::connect(store_, "web");
    ASSERT_TRUE(remote) << remote.error().message();
    EXPECT_EQ((*remote)->peer_pid(), pid);
    ASSERT_TRUE((*remote)->signal_helper(SIGTERM));
    EXPECT_TRUE(wait_gone(pid));
    // Gone: the handle still names that process only, so signalling again reaches nobody.
    EXPECT_TRUE((*remote)->signal_helper(SIGTERM));
}

// FLEETBOX_HELPER under root: only a binary root owns, that nobody else can change, in
// directories nobody else can change. A non-root client honors it as it is.
TEST_F(HelperTrust, ARootClientIgnoresAFleetboxHelperOthersCouldChange) {
    skip_unless_root();
    if (IsSkipped())
        return;
    const std::string dir = scratch_.file("bin");
    ASSERT_TRUE(ensure_dir(dir));
    ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
    const std::string helper = dir + "/fleetbox-helper";
    write_text(helper, "#!/bin/sh\nexit 0\n", 0755);
    ASSERT_EQ(::chmod(scratch_.path().c_str(), 0755), 0);
    ScopedEnv env("FLEETBOX_HELPER", helper);

    auto trusted = client::HelperLauncher::locate();
    ASSERT_TRUE(trusted) << trusted.error().message();
    EXPECT_EQ(*trusted, helper);

    auto ignored = [&](const char* why) {
        ::testing::internal::CaptureStderr();
        auto found = client::HelperLauncher::locate();
        std::string err = ::testing::internal::GetCapturedStderr();
        EXPECT_TRUE(!found || *found != helper) << why;
        EXPECT_THAT(err, HasSubstr("warning: ignoring FLEETBOX_HELPER=" + helper)) << why;
        EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    };
    ASSERT_EQ(::chmod(helper.c_str(), 0777), 0);
    ignored("world-writable binary");
    ASSERT_EQ(::chmod(helper.c_str(), 0775), 0);
    ignored("group-writable binary");
    ASSERT_EQ(::chmod(helper.c_str(), 0755), 0);
    ASSERT_EQ(::chown(helper.c_str(), kNobody, kNobody), 0);
    ignored("binary owned by another uid");
    ASSERT_EQ(::chown(helper.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
    ignored("directory writable by others");
    ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
    const std::string link = scratch_.file("link-to-helper");
    ASSERT_EQ(::symlink(helper.c_str(), link.c_str()), 0);
    {
        ScopedEnv via_link("FLEETBOX_HELPER", link);
        auto resolved = client::HelperLauncher::locate();
        ASSERT_TRUE(resolved);
        EXPECT_EQ(*resolved, helper) << "the checked file, not the link, is what runs";
    }

    // Not root: honored as it is (the user may run what they like as themselves).
    ASSERT_EQ(::chown(helper.c_str(), kNobody, kNobody), 0);
    ASSERT_EQ(::chmod(helper.c_str(), 0777), 0);
    std::string seen = run_as_user(kNobody, kNobody, [] {
        auto found = client::HelperLauncher::locate();
        return found ? *found : found.error().message();
    });
    EXPECT_EQ(seen, helper);
}

} // namespace
} // namespace fleetbox::test
