// Component test for sync_cluster_hosts without VMs: the "guests" are in-process SSH servers
// (component/guest/fake_sshd.hpp) on port 22 of loopback addresses 127.0.0.2 and 127.0.0.3
// inside a network namespace the test makes for itself (root only; skipped otherwise), each
// with its own host key pinned in the member's known_hosts in a scratch store, as the real
// client pins a VM's. A third running member has no server (connection refused). The check:
// the reachable members' hosts files got their block (the other members, stopped ones
// included), the other lines stayed, the unreachable member is reported, not fatal, and the
// pushes ran in parallel within the timeouts. Commands run on this host, so the file is a
// scratch one (HostsSyncOptions::hosts_path, relative to each server's directory) and no
// sudo is used.
#include "client/cluster_hosts.hpp"
#include "client/member_files.hpp"
#include "component/guest/fake_sshd.hpp"
#include "seed/cluster_block.hpp"
#include "store/config.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"

#include <cerrno>
#include <cstring>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>

namespace fleetbox::client {
namespace {

using namespace std::chrono_literals;
using test::FakeSshd;
using test::TestKey;
using ::testing::ElementsAre;

class ClusterHostsSync : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root: a private network namespace and port 22";
        ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET): " << std::strerror(errno);
        ChildSpec up;
        up.argv = {"ip", "link", "set", "lo", "up"};
        auto ok = run_checked(up, 30s);
        ASSERT_TRUE(ok) << ok.error().message();
        auto opened = Store::open(scratch_.path() + "/fb");
        ASSERT_TRUE(opened) << opened.error().message();
        store_.emplace(std::move(*opened));
        client_key_.emplace(store_->key_path());
    }

    // A member in the store with `ip`; with `host_key`, that key pinned for it.
    void add(const std::string& name, const std::string& ip, const TestKey* host_key) {
        auto config = new_vm_config(name, 1, 512, 4096, "debian-12");
        config.ip = ip;
        auto ok = store_->create(config);
        ASSERT_TRUE(ok) << ok.error().message();
        if (host_key == nullptr)
            return;
        auto files = MemberFiles::of(*store_, name);
        ASSERT_TRUE(files);
        test::write_text(files->known_hosts, ip + " " + host_key->public_line() + "\n");
    }

    test::ScratchDir scratch_;
    std::optional<Store> store_;
    std::optional<TestKey> client_key_;
};

TEST_F(ClusterHostsSync, PushesEachRunningMemberItsListInParallel) {
    test::ScratchDir guest1, guest2;
    TestKey key1(guest1.file("host_key")), key2(guest2.file("host_key"));
    FakeSshd sshd1(key1, *client_key_, guest1.path(), "127.0.0.2", 22);
    FakeSshd sshd2(key2, *client_key_, guest2.path(), "127.0.0.3", 22);
    sshd1.set_workdir(guest1.path());
    sshd2.set_workdir(guest2.path());
    const std::string seed1 = "127.0.0.1\tlocalhost\n127.0.1.1\tn-1\n10.7.7.7\tadded-by-a-test\n";
    test::write_text(guest1.file("hosts"), seed1);
    // guest2 has no hosts file yet: the block alone is written.

    TestKey key3(scratch_.file("host_key3"));
    add("n-1", "127.0.0.2", &key1);
    add("n-2", "127.0.0.3", &key2);
    add("n-3", "127.0.0.4", &key3);  // running, but nothing listens there
    add("n-4", "10.0.0.4", nullptr); // stopped: listed, never dialled
    add("other-1", "127.0.0.5", nullptr);

    HostsSyncOptions options;
    options.connect_timeout = 10s;
    options.command_timeout = 10s;
    options.hosts_path = "hosts";
    options.sudo = false;
    auto t0 = std::chrono::steady_clock::now();
    auto report = sync_cluster_hosts(*store_, "n", {"n-1", "n-2", "n-3", "other-1"}, options);
    auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_THAT(report->updated, ElementsAre("n-1", "n-2"));
    ASSERT_EQ(report->failed.size(), 1u);
    EXPECT_EQ(report->failed[0].member, "n-3");
    EXPECT_THAT(report->failed[0].error.message(), ::testing::HasSubstr("n-3"));
    EXPECT_LT(took, 20s);

    auto block1 = seed::render_cluster_block(
        {{"127.0.0.3", "n-2"}, {"127.0.0.4", "n-3"}, {"10.0.0.4", "n-4"}});
    auto block2 = seed::render_cluster_block(
        {{"127.0.0.2", "n-1"}, {"127.0.0.4", "n-3"}, {"10.0.0.4", "n-4"}});
    ASSERT_TRUE(block1 && block2);
    EXPECT_EQ(test::read_text(guest1.file("hosts")), seed1 + *block1);
    EXPECT_EQ(test::read_text(guest2.file("hosts")), *block2);
    EXPECT_EQ(sshd1.logins(), 1);
    EXPECT_EQ(sshd2.logins(), 1);
    EXPECT_EQ(sshd1.commands(), 1);

    // n-4 goes away: the next push drops it and keeps the rest.
    ASSERT_TRUE(store_->remove("n-4"));
    report = sync_cluster_hosts(*store_, "n", {"n-1"}, options);
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_THAT(report->updated, ElementsAre("n-1"));
    auto shorter = seed::render_cluster_block({{"127.0.0.3", "n-2"}, {"127.0.0.4", "n-3"}});
    EXPECT_EQ(test::read_text(guest1.file("hosts")), seed1 + *shorter);
}

TEST_F(ClusterHostsSync, AChangedHostKeyIsAFailureNotAPush) {
    test::ScratchDir guest;
    TestKey real(guest.file("host_key")), pinned(scratch_.file("pinned"));
    FakeSshd sshd(real, *client_key_, guest.path(), "127.0.0.2", 22);
    sshd.set_workdir(guest.path());
    add("k-1", "127.0.0.2", &pinned);
    add("k-2", "10.0.0.3", nullptr);
    HostsSyncOptions options;
    options.hosts_path = "hosts";
    options.sudo = false;
    auto report = sync_cluster_hosts(*store_, "k", {"k-1"}, options);
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_TRUE(report->updated.empty());
    ASSERT_EQ(report->failed.size(), 1u);
    EXPECT_EQ(report->failed[0].member, "k-1");
    EXPECT_EQ(sshd.commands(), 0);
    EXPECT_FALSE(path_exists(guest.file("hosts")));
}

} // namespace
} // namespace fleetbox::client
