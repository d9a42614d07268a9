// The crash story (issue 8, "Checked by"), in the test's private namespace: an owner process
// builds two recorded networks, each with a tap and a QEMU on it (a real qemu-system-x86_64
// -machine none holding the tap, started without a death signal so it outlives its owner),
// and turns the uplink's forwarding on. It is SIGKILLed; reconcile kills the QEMUs, deletes
// taps, tables and bridges, removes the records and restores the uplink. Also: a live owner's
// network is never touched, a dry run changes nothing, a recorded pid that is not the tap's
// QEMU (or has another start time) is never signalled, and an unreadable record is kept.
#include "component/net/peer_netns.hpp"
#include "net/forwarding.hpp"
#include "net/names.hpp"
#include "net/network_record.hpp"
#include "net/reconcile.hpp"
#include "net/record_journal.hpp"
#include "net/tap.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"

#include <csignal>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>

namespace fleetbox {
namespace {

using test::NetnsTest;
using test::PeerNetns;
using test::run_out;

// qemu-system-x86_64 attached to `tap` exactly as fleetbox's command line does, no machine.
Result<ChildProcess> stand_in_qemu(const std::string& tap) {
    ChildSpec spec;
    spec.argv = {"qemu-system-x86_64",
                 "-machine",
                 "none",
                 "-nodefaults",
                 "-display",
                 "none",
                 "-netdev",
                 "tap,id=n0,ifname=" + tap + ",script=no,downscript=no"};
    spec.out = Stream::Null;
    spec.err = Stream::Null;
    return ChildProcess::spawn(spec);
}

// In the forked owner: two recorded networks with a tap and a QEMU each. Never returns.
[[noreturn]] void be_owner(const std::string& dir, int ready_fd, bool with_qemu) {
    std::vector<Network> networks;
    auto build = [&]() -> Status {
        for (const char* cluster : {"web", "db"}) {
            auto journal = FBX_TRY(RecordJournal::create(dir, cluster));
            Network net = FBX_TRY(Network::create(std::set<std::string>{}, journal));
            const std::string tap = FBX_TRY(net.add_tap());
            if (with_qemu) {
                ChildProcess qemu = FBX_TRY(stand_in_qemu(tap));
                // Wait until QEMU holds the tap, as a booted VM would.
                for (int i = 0; i < 200 && !process_uses_tap(qemu.pid(), tap); ++i)
                    std::this_thread::sleep_for(std::chrono::milliseconds(25));
                FBX_CHECK(journal->qemu_launched(tap, qemu.detach()));
            }
            networks.push_back(std::move(net));
        }
        return {};
    };
    auto built = build();
    const std::string line = built ? "ready\n" : built.error().message() + "\n";
    (void)!::write(ready_fd, line.data(), line.size());
    ::pause();
    ::_exit(0);
}

class Reconcile : public NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0); // orphaned QEMUs come to us
    }
    void TearDown() override {
        if (owner_ > 0) {
            ::kill(owner_, SIGKILL);
            ::waitpid(owner_, nullptr, 0);
        }
        for (const auto& id : qemus_) {
            ::kill(id.pid, SIGKILL);
            ::waitpid(id.pid, nullptr, 0);
        }
    }

    // Fork the owner and wait until it has built everything.
    void start_owner(bool with_qemu) {
        int fds[2];
        ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        owner_ = ::fork();
        ASSERT_GE(owner_, 0);
        if (owner_ == 0)
            be_owner(dir_.path(), fds[1], with_qemu);
        ::close(fds[1]);
        char buf[512] = {};
        const ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
        ::close(fds[0]);
        ASSERT_GT(n, 0);
        ASSERT_EQ(std::string(buf), "ready\n");
        for (const auto& path : records()) {
            const NetworkRecord record = *read_record(path);
            for (const auto& tap : record.taps) {
                if (tap.qemu.pid > 0)
                    qemus_.push_back(tap.qemu);
            }
        }
    }
    void kill_owner() {
        ASSERT_EQ(::kill(owner_, SIGKILL), 0);
        ASSERT_EQ(::waitpid(owner_, nullptr, 0), owner_);
        owner_ = 0;
    }
    Result<ReconcileReport> reconcile(bool dry_run = false) {
        ReconcileOptions options;
        options.records_dir = dir_.path();
        options.dry_run = dry_run;
        return reconcile_networks(options);
    }
    [[nodiscard]] std::vector<std::string> records() const { return *list_records(dir_.path()); }
    static void expect_nothing_left() {
        EXPECT_TRUE(list_links_with_prefix("fbx-")->empty());
        EXPECT_TRUE(list_links_with_prefix("fbt-")->empty());
        EXPECT_TRUE(list_firewall_tables()->empty());
    }

    test::ScratchDir dir_;
    pid_t owner_ = 0;
    std::vector<ProcessIdentity> qemus_;
};

TEST_F(Reconcile, AKilledOwnersNetworksAreReclaimedAndTheUplinkRestored) {
    PeerNetns internet("inet");
    internet.attach("up0", "up1", "10.200.0.2/24");
    ASSERT_TRUE(add_address("up0", "10.200.0.1/24"));
    run_out({"ip", "route", "add", "default", "via", "10.200.0.2", "dev", "up0"});
    ASSERT_FALSE(*forwarding_enabled("up0"));

    start_owner(/*with_qemu=*/true);
    if (HasFatalFailure())
        return;
    // Everything the owner built, read back from the kernel.
    const auto bridges = *list_links_with_prefix("fbx-");
    const auto taps = *list_links_with_prefix("fbt-");
    ASSERT_EQ(bridges.size(), 2U);
    ASSERT_EQ(taps.size(), 2U);
    ASSERT_EQ(records().size(), 2U);
    ASSERT_EQ(qemus_.size(), 2U);
    EXPECT_EQ(list_firewall_tables()->size(), 2U);
    for (const auto& path : records()) {
        const NetworkRecord r = *read_record(path);
        EXPECT_EQ(r.owner.pid, owner_);
        EXPECT_TRUE(process_alive(r.owner));
        ASSERT_EQ(r.taps.size(), 1U);
        EXPECT_EQ(link_info(r.taps[0].name)->master, r.bridge);
        EXPECT_TRUE(process_uses_tap(r.taps[0].qemu.pid, r.taps[0].name));
        auto fw = inspect_firewall(r.bridge, *parse_subnet(r.subnet));
        ASSERT_TRUE(fw);
        EXPECT_TRUE(fw->table && fw->masquerade && fw->forward_drop && fw->isolation);
        EXPECT_TRUE(*forwarding_enabled(r.bridge));
    }
    const std::string addresses = run_out({"ip", "-o", "-4", "addr"});
    EXPECT_NE(addresses.find("192.168.0.1/24"), std::string::npos) << addresses;
    EXPECT_NE(addresses.find("192.168.1.1/24"), std::string::npos) << addresses;
    EXPECT_TRUE(*forwarding_enabled("up0"));
    EXPECT_EQ(test::read_text(forwarding_marker_path(dir_.path(), "up0")), "0\n");

    kill_owner();
    for (const auto& q : qemus_)
        EXPECT_TRUE(process_alive(q)) << "no death signal: the QEMUs outlive their owner";

    auto report = reconcile();
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_TRUE(report->errors.empty()) << report->errors.front();
    EXPECT_TRUE(report->live.empty());
    ASSERT_EQ(report->reclaimed.size(), 2U);
    std::vector<pid_t> killed;
    for (const auto& n : report->reclaimed) {
        EXPECT_TRUE(n.removed) << n.bridge << ": " << (n.errors.empty() ? "" : n.errors[0]);
        EXPECT_EQ(n.taps.size(), 1U);
        killed.insert(killed.end(), n.killed_qemus.begin(), n.killed_qemus.end());
    }
    EXPECT_EQ(killed.size(), 2U);
    for (const auto& q : qemus_) {
        EXPECT_FALSE(process_alive(q)) << "QEMU " << q.pid << " was killed";
        EXPECT_NE(std::find(killed.begin(), killed.end(), q.pid), killed.end());
    }
    ASSERT_EQ(report->forwarding_restored.size(), 1U);
    EXPECT_EQ(report->forwarding_restored[0].interface, "up0");
    EXPECT_EQ(report->forwarding_restored[0].value, 0);

    expect_nothing_left();
    EXPECT_TRUE(records().empty());
    EXPECT_FALSE(*forwarding_enabled("up0")) << "restored to its recorded value";
    EXPECT_FALSE(path_exists(forwarding_marker_path(dir_.path(), "up0")));
    const std::string links = run_out({"ip", "-o", "link"});
    EXPECT_EQ(links.find("fbx-"), std::string::npos) << links;
    EXPECT_EQ(links.find("fbt-"), std::string::npos) << links;
    EXPECT_EQ(run_out({"nft", "list", "tables"}).find("fbx_"), std::string::npos);

    auto again = reconcile();
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->reclaimed.empty()) << "nothing left to do";
}

TEST_F(Reconcile, ALiveOwnersNetworkIsNeverTouched) {
    auto journal = RecordJournal::create(dir_.path(), "web");
    ASSERT_TRUE(journal);
    auto net = Network::create(std::set<std::string>{}, *journal);
    ASSERT_TRUE(net) << net.error().message();
    const std::string tap = *net->add_tap();
    for (bool dry_run : {true, false}) {
        auto report = reconcile(dry_run);
        ASSERT_TRUE(report) << report.error().message();
        EXPECT_TRUE(report->reclaimed.empty());
        ASSERT_EQ(report->live.size(), 1U);
        EXPECT_EQ(report->live[0].bridge, net->bridge());
        EXPECT_EQ(report->live[0].cluster, "web");
        EXPECT_EQ(report->live[0].owner, *self_identity());
        EXPECT_TRUE(report->forwarding_restored.empty());
    }
    EXPECT_TRUE(link_exists(net->bridge()));
    EXPECT_TRUE(link_exists(tap));
    EXPECT_TRUE(firewall_exists(net->bridge()));
    EXPECT_EQ(records().size(), 1U);
}

TEST_F(Reconcile, ADryRunReportsWhatWouldGoAndChangesNothing) {
    start_owner(/*with_qemu=*/true);
    if (HasFatalFailure())
        return;
    kill_owner();
    auto dry = reconcile(/*dry_run=*/true);
    ASSERT_TRUE(dry) << dry.error().message();
    EXPECT_TRUE(dry->dry_run);
    ASSERT_EQ(dry->reclaimed.size(), 2U);
    for (const auto& n : dry->reclaimed) {
        EXPECT_FALSE(n.removed);
        EXPECT_EQ(n.killed_qemus.size(), 1U) << "would be killed";
    }
    EXPECT_EQ(list_links_with_prefix("fbx-")->size(), 2U);
    EXPECT_EQ(list_links_with_prefix("fbt-")->size(), 2U);
    EXPECT_EQ(list_firewall_tables()->size(), 2U);
    EXPECT_EQ(records().size(), 2U);
    for (const auto& q : qemus_)
        EXPECT_TRUE(process_alive(q));

    auto real = reconcile();
    ASSERT_TRUE(real) << real.error().message();
    expect_nothing_left();
    EXPECT_TRUE(records().empty());
}

TEST_F(Reconcile, ARecordedPidThatIsNotTheTapsQemuIsNeverKilled) {
    ChildSpec spec;
    spec.argv = {"sleep", "60"};
    auto bystander = ChildProcess::spawn(spec);
    ASSERT_TRUE(bystander) << bystander.error().message();
    const ProcessIdentity other = *identify_process(bystander->pid());

    NetworkRecord r;
    r.bridge = "fbx-0000aaaa";
    r.subnet = "192.168.4.0/24";
    r.owner = {::getpid(), self_identity()->start_time + 1}; // this pid, another process: dead
    r.taps = {{"fbt-0000aaaa", other}, {"fbt-0000bbbb", {other.pid, other.start_time + 1}}};
    ASSERT_TRUE(write_record(dir_.path(), r));
    ASSERT_TRUE(create_bridge(r.bridge));
    ASSERT_TRUE(create_tap("fbt-0000aaaa"));
    ASSERT_TRUE(create_tap("fbt-0000bbbb"));

    auto report = reconcile();
    ASSERT_TRUE(report) << report.error().message();
    ASSERT_EQ(report->reclaimed.size(), 1U);
    const auto& n = report->reclaimed[0];
    EXPECT_TRUE(n.killed_qemus.empty());
    ASSERT_EQ(n.errors.size(), 1U);
    EXPECT_NE(n.errors[0].find("does not use tap fbt-0000aaaa"), std::string::npos) << n.errors[0];
    EXPECT_TRUE(process_alive(other)) << "a bystander is never signalled";
    EXPECT_TRUE(n.removed);
    expect_nothing_left();
    EXPECT_TRUE(records().empty());
}

TEST_F(Reconcile, AnUnreadableRecordIsReportedAndKept) {
    test::write_text(dir_.file("fbx-0000aaaa.json"), "{\"bridge\": \"eth0\"");
    ASSERT_TRUE(create_bridge("fbx-0000aaaa"));
    auto report = reconcile();
    ASSERT_TRUE(report) << report.error().message();
    ASSERT_EQ(report->errors.size(), 1U);
    EXPECT_NE(report->errors[0].find("fbx-0000aaaa.json"), std::string::npos);
    EXPECT_TRUE(report->reclaimed.empty());
    EXPECT_TRUE(report->forwarding_restored.empty());
    EXPECT_TRUE(path_exists(dir_.file("fbx-0000aaaa.json")));
    EXPECT_TRUE(link_exists("fbx-0000aaaa")) << "only what a readable record names is removed";
}

} // namespace
} // namespace fleetbox
