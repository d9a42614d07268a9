// `fleetbox-helper --reconcile` through client::prune(): the real helper binary runs inside
// the test's private network namespace (a child inherits it) against a store whose networks/
// holds the record of a dead owner, with the bridge, tap and firewall table it names. The
// dry run reports and changes nothing; the real run reclaims exactly that and says so in
// its one-line JSON report. A live owner's network is listed and left alone. Bad usage is a
// usage error and exit 1; the fake helper reports an empty reclaim. A normal helper start
// reclaims too, before its socket answers.
#include "client/helper_launcher.hpp"
#include "client/prune.hpp"
#include "component/net/netns_fixture.hpp"
#include "net/network.hpp"
#include "net/network_record.hpp"
#include "net/record_journal.hpp"
#include "net/tap.hpp"
#include "store/store.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"
#include "sys/process_identity.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using test::NetnsTest;

class ReconcileMode : public NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        auto store = Store::open(root_.path());
        ASSERT_TRUE(store) << store.error().message();
        store_.emplace(std::move(*store));
        dir_ = *store_->networks_dir();
    }
    // A record whose owner is this pid with another start time: a dead process.
    void leave_dead_network(const std::string& bridge, const std::string& tap) {
        NetworkRecord r;
        r.bridge = bridge;
        r.subnet = "192.168.6.0/24";
        r.cluster = "web";
        r.owner = {::getpid(), self_identity()->start_time + 1};
        r.taps = {{tap, {}}};
        ASSERT_TRUE(write_record(dir_, r));
        ASSERT_TRUE(create_bridge(bridge));
        ASSERT_TRUE(create_tap(tap));
        ASSERT_TRUE(enslave(tap, bridge));
        ASSERT_TRUE(install_firewall(bridge, private_subnet_24(6)));
    }
    Result<client::PruneReport>
    prune(bool dry_run, const std::string& helper = "tools/fleetbox/fleetbox-helper") {
        client::PruneOptions options;
        options.dry_run = dry_run;
        options.helper_path = test::built(helper);
        return client::prune(*store_, options);
    }

    test::ScratchDir root_;
    std::optional<Store> store_;
    std::string dir_;
};

TEST_F(ReconcileMode, TheRealHelperReclaimsADeadOwnersNetwork) {
    leave_dead_network("fbx-0000aaaa", "fbt-0000aaaa");
    auto journal = RecordJournal::create(dir_, "db"); // and a live one: ours
    ASSERT_TRUE(journal);
    auto live = Network::create(std::set<std::string>{}, *journal);
    ASSERT_TRUE(live) << live.error().message();

    auto dry = prune(/*dry_run=*/true);
    ASSERT_TRUE(dry) << dry.error().message();
    EXPECT_TRUE(dry->dry_run);
    ASSERT_EQ(dry->reclaimed.size(), 1U);
    EXPECT_FALSE(dry->reclaimed[0].removed);
    EXPECT_TRUE(link_exists("fbx-0000aaaa")) << "a dry run changes nothing";
    EXPECT_TRUE(path_exists(record_path(dir_, "fbx-0000aaaa")));

    auto report = prune(/*dry_run=*/false);
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_FALSE(report->dry_run);
    EXPECT_TRUE(report->errors.empty());
    ASSERT_EQ(report->reclaimed.size(), 1U);
    const auto& n = report->reclaimed[0];
    EXPECT_EQ(n.bridge, "fbx-0000aaaa");
    EXPECT_EQ(n.subnet, "192.168.6.0/24");
    EXPECT_EQ(n.cluster, "web");
    EXPECT_EQ(n.owner_pid, ::getpid());
    EXPECT_EQ(n.taps, std::vector<std::string>{"fbt-0000aaaa"});
    EXPECT_TRUE(n.killed_qemu_pids.empty());
    EXPECT_TRUE(n.removed);
    ASSERT_EQ(report->live.size(), 1U);
    EXPECT_EQ(report->live[0].bridge, live->bridge());
    EXPECT_EQ(report->live[0].cluster, "db");
    EXPECT_TRUE(report->forwarding_restored.empty()) << "a live network remains";

    EXPECT_FALSE(link_exists("fbx-0000aaaa"));
    EXPECT_FALSE(link_exists("fbt-0000aaaa"));
    EXPECT_FALSE(firewall_exists("fbx-0000aaaa"));
    EXPECT_FALSE(path_exists(record_path(dir_, "fbx-0000aaaa")));
    EXPECT_TRUE(link_exists(live->bridge()));
    EXPECT_TRUE(firewall_exists(live->bridge()));
    EXPECT_TRUE(path_exists(record_path(dir_, live->bridge())));
}

TEST_F(ReconcileMode, PrintsExactlyOneJsonObject) {
    ChildSpec spec;
    spec.argv = {test::built("tools/fleetbox/fleetbox-helper"), "--reconcile", "--store",
                 root_.path()};
    spec.out = Stream::Capture;
    auto run = run_checked(spec);
    ASSERT_TRUE(run) << run.error().message();
    EXPECT_EQ(run->out, "{\"dry_run\":false,\"errors\":[],\"forwarding_restored\":[],\"live\":[],"
                        "\"reclaimed\":[]}\n");
}

TEST_F(ReconcileMode, BadUsageFailsWithoutAReport) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--reconcile", "--store", root_.path(), "--member", "web-1"},
             {"--dry-run", "--store", root_.path(), "--member", "web-1", "--mode", "bound"},
             {"--store", root_.path()}}) {
        ChildSpec spec;
        spec.argv = {test::built("tools/fleetbox/fleetbox-helper")};
        spec.argv.insert(spec.argv.end(), args.begin(), args.end());
        spec.out = Stream::Capture;
        auto run = run_command(spec);
        ASSERT_TRUE(run);
        EXPECT_NE(run->status.code, 0) << args[0];
        EXPECT_TRUE(run->out.empty() || run->out.find('{') == std::string::npos) << run->out;
    }
}

TEST_F(ReconcileMode, AFailingHelperIsOneClearError) {
    test::write_text(root_.file("fake-helper.sh"),
                     "#!/bin/sh\necho 'fleetbox-helper: reconcile "
                     "fleetbox networks: lock x: Permission denied' >&2\nexit 1\n",
                     0755);
    client::PruneOptions options;
    options.helper_path = root_.file("fake-helper.sh");
    auto failed = client::prune(*store_, options);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().message(),
              "reclaim leftover fleetbox networks: reconcile fleetbox networks: lock x: "
              "Permission denied");
    EXPECT_EQ(failed.error().kind, ErrorKind::Permission);
    EXPECT_NE(failed.error().hint.find("sudo"), std::string::npos);

    test::write_text(root_.file("liar.sh"), "#!/bin/sh\necho '{\"dry_run\":false}'\n", 0755);
    options.helper_path = root_.file("liar.sh");
    auto corrupt = client::prune(*store_, options);
    ASSERT_FALSE(corrupt);
    EXPECT_EQ(corrupt.error().kind, ErrorKind::Corrupt);
}

TEST_F(ReconcileMode, EveryHelperStartReclaimsBeforeServing) {
    leave_dead_network("fbx-0000aaaa", "fbt-0000aaaa");
    client::HelperLauncher launcher(test::built("tools/fleetbox/fleetbox-helper"));
    auto helper = launcher.spawn(*store_, "web-1", client::HelperMode::Bound);
    ASSERT_TRUE(helper) << helper.error().message();
    // The socket answered, so the start-up reconcile is done.
    EXPECT_FALSE(link_exists("fbx-0000aaaa"));
    EXPECT_FALSE(link_exists("fbt-0000aaaa"));
    EXPECT_FALSE(firewall_exists("fbx-0000aaaa"));
    EXPECT_FALSE(path_exists(record_path(dir_, "fbx-0000aaaa")));
    const std::string log = test::read_text(helper->log_path());
    EXPECT_NE(log.find("reconcile: fbx-0000aaaa 192.168.6.0/24 of dead pid"), std::string::npos)
        << log;
    auto closed = helper->close();
    ASSERT_TRUE(closed) << closed.error().message();
}

TEST_F(ReconcileMode, TheFakeHelperReportsNothing) {
    leave_dead_network("fbx-0000aaaa", "fbt-0000aaaa");
    auto report = prune(true, "tests/fleetbox-helper-fake");
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_TRUE(report->reclaimed.empty());
    EXPECT_TRUE(link_exists("fbx-0000aaaa"));
}

} // namespace
} // namespace fleetbox
