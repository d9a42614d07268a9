// Write-ahead records: networks/<bridge>.json names the bridge before the bridge exists and
// each tap before the tap exists, follows taps and QEMU launches, and disappears only once
// teardown is verified. Failures injected between steps (a journal that fails, a bridge name
// someone else holds, a step after the bridge that fails) leave neither kernel objects nor a
// record behind. Real netlink and nftables, inside the test's private namespace.
#include "component/net/netns_fixture.hpp"
#include "net/names.hpp"
#include "net/network_record.hpp"
#include "net/record_journal.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"
#include "sys/process_identity.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace fleetbox {
namespace {

using test::NetnsTest;

// Wraps the real journal and checks, at each write-ahead step, that the record already
// names the object and that the kernel object does not exist yet. Can be told to fail.
class ProbingJournal final : public NetworkJournal {
public:
    explicit ProbingJournal(std::shared_ptr<RecordJournal> inner) : inner_(std::move(inner)) {}

    Status bridge_planned(const NetworkPlan& plan) override {
        if (fail_bridge)
            return fail(ErrorKind::Io, "write record", "injected failure");
        FBX_CHECK(inner_->bridge_planned(plan));
        auto on_disk = read_record(record_path(inner_->dir(), plan.bridge));
        bridge_record_seen = on_disk && on_disk->bridge == plan.bridge;
        bridge_recorded_first = bridge_record_seen && !link_exists(plan.bridge);
        return {};
    }
    Status enable_uplink_forwarding() override { return inner_->enable_uplink_forwarding(); }
    Status tap_planned(const std::string& tap) override {
        if (fail_tap)
            return fail(ErrorKind::Io, "write record", "injected failure");
        FBX_CHECK(inner_->tap_planned(tap));
        auto on_disk = read_record(record_path(inner_->dir(), inner_->record().bridge));
        tap_recorded_first = on_disk && !on_disk->taps.empty() &&
                             on_disk->taps.back().name == tap && !link_exists(tap);
        return {};
    }
    Status tap_removed(const std::string& tap) override { return inner_->tap_removed(tap); }
    Status network_removed() override {
        removed_after_teardown =
            !link_exists(inner_->record().bridge) &&
            list_firewall_tables().value_or(std::vector<std::string>{"?"}).empty();
        return inner_->network_removed();
    }

    bool fail_bridge = false;
    bool fail_tap = false;
    bool bridge_record_seen = false;    // the record named the bridge at the write-ahead step
    bool bridge_recorded_first = false; // ... and the bridge did not exist yet
    bool tap_recorded_first = false;
    bool removed_after_teardown = false;

private:
    std::shared_ptr<RecordJournal> inner_;
};

class RecordJournalTest : public NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        auto journal = RecordJournal::create(dir_.path(), "web");
        ASSERT_TRUE(journal) << journal.error().message();
        journal_ = *journal;
        probe_ = std::make_shared<ProbingJournal>(journal_);
    }
    [[nodiscard]] std::vector<std::string> records() const { return *list_records(dir_.path()); }
    static void expect_no_kernel_objects() {
        EXPECT_TRUE(list_links_with_prefix("fbx-")->empty());
        EXPECT_TRUE(list_links_with_prefix("fbt-")->empty());
        EXPECT_TRUE(list_firewall_tables()->empty());
    }

    test::ScratchDir dir_;
    std::shared_ptr<RecordJournal> journal_;
    std::shared_ptr<ProbingJournal> probe_;
};

TEST_F(RecordJournalTest, RecordNamesEachObjectBeforeItExistsAndGoesAfterTeardown) {
    auto net = Network::create(std::set<std::string>{}, probe_);
    ASSERT_TRUE(net) << net.error().message();
    EXPECT_TRUE(probe_->bridge_recorded_first);
    auto record = read_record(record_path(dir_.path(), net->bridge()));
    ASSERT_TRUE(record) << record.error().message();
    EXPECT_EQ(record->bridge, net->bridge());
    EXPECT_EQ(record->subnet, "192.168.0.0/24");
    EXPECT_EQ(record->cluster, "web");
    EXPECT_EQ(record->owner, *self_identity());
    EXPECT_TRUE(record->taps.empty());
    EXPECT_EQ(record->uplink, "") << "a namespace without a route out has no uplink";

    auto tap = net->add_tap();
    ASSERT_TRUE(tap) << tap.error().message();
    EXPECT_TRUE(probe_->tap_recorded_first);
    ASSERT_TRUE(journal_->qemu_launched(*tap, ::getpid())); // this process stands in for QEMU
    record = read_record(record_path(dir_.path(), net->bridge()));
    ASSERT_EQ(record->taps.size(), 1U);
    EXPECT_EQ(record->taps[0].name, *tap);
    EXPECT_EQ(record->taps[0].qemu, *self_identity());
    EXPECT_FALSE(journal_->qemu_launched("fbt-00000000", ::getpid())) << "not a tap of ours";

    ASSERT_TRUE(net->remove_tap(*tap));
    EXPECT_TRUE(read_record(record_path(dir_.path(), net->bridge()))->taps.empty());

    ASSERT_TRUE(net->add_tap());
    auto destroyed = net->destroy();
    ASSERT_TRUE(destroyed) << destroyed.error().message();
    EXPECT_TRUE(probe_->removed_after_teardown);
    EXPECT_TRUE(records().empty());
    expect_no_kernel_objects();
}

TEST_F(RecordJournalTest, AJournalThatCannotWriteStopsTheCreateBeforeTheKernel) {
    probe_->fail_bridge = true;
    auto net = Network::create(std::set<std::string>{}, probe_);
    ASSERT_FALSE(net);
    EXPECT_NE(net.error().message().find("injected failure"), std::string::npos);
    expect_no_kernel_objects();
    EXPECT_TRUE(records().empty());
}

TEST_F(RecordJournalTest, AJournalThatCannotWriteStopsTheTapBeforeTheKernel) {
    auto net = Network::create(std::set<std::string>{}, probe_);
    ASSERT_TRUE(net) << net.error().message();
    probe_->fail_tap = true;
    ASSERT_FALSE(net->add_tap());
    EXPECT_TRUE(list_links_with_prefix("fbt-")->empty());
    EXPECT_TRUE(net->taps().empty());
    ASSERT_TRUE(net->destroy());
    EXPECT_TRUE(records().empty());
}

// The record is written, then creating the bridge fails (someone else holds the name): the
// record goes, the other interface stays.
TEST_F(RecordJournalTest, BridgeCreationFailingAfterTheRecordLeavesNoRecord) {
    NetworkPlan plan{"fbx-0000aaaa", private_subnet_24(4)};
    ASSERT_TRUE(create_link(plan.bridge, "bridge")); // not ours
    auto net = Network::create(plan, probe_);
    ASSERT_FALSE(net);
    EXPECT_EQ(net.error().kind, ErrorKind::AlreadyExists);
    EXPECT_TRUE(probe_->bridge_record_seen) << "the record came before the attempt";
    EXPECT_TRUE(records().empty()) << "and went once the attempt had failed";
    EXPECT_TRUE(link_exists(plan.bridge)) << "another's interface is never removed";
    EXPECT_TRUE(list_firewall_tables()->empty());
}

// A step after the bridge fails (read-only /proc/sys: per-bridge forwarding): rollback
// removes the bridge, verifies it, and only then the record.
TEST_F(RecordJournalTest, AFailureAfterTheBridgeRollsBackObjectsAndRecord) {
    ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
    if (::mount("/proc/sys", "/proc/sys", nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(nullptr, "/proc/sys", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
        GTEST_SKIP() << "cannot make /proc/sys read-only here: " << std::strerror(errno);
    auto net = Network::create(std::set<std::string>{}, probe_);
    ::umount2("/proc/sys", MNT_DETACH);
    ASSERT_FALSE(net);
    EXPECT_TRUE(probe_->bridge_recorded_first);
    EXPECT_TRUE(probe_->removed_after_teardown);
    expect_no_kernel_objects();
    EXPECT_TRUE(records().empty());
}

TEST_F(RecordJournalTest, ASubnetClaimedByAnotherRecordIsBusy) {
    NetworkRecord other;
    other.bridge = "fbx-0000bbbb";
    other.subnet = "192.168.0.0/24";
    other.cluster = "db";
    other.owner = *self_identity();
    ASSERT_TRUE(write_record(dir_.path(), other)); // being set up by someone else
    auto net = Network::create(NetworkPlan{"fbx-0000aaaa", private_subnet_24(0)}, probe_);
    ASSERT_FALSE(net);
    EXPECT_EQ(net.error().kind, ErrorKind::Busy);
    EXPECT_NE(net.error().message().find("claimed by fleetbox network fbx-0000bbbb (cluster db)"),
              std::string::npos)
        << net.error().message();
    expect_no_kernel_objects();
    EXPECT_EQ(records(), std::vector<std::string>{record_path(dir_.path(), "fbx-0000bbbb")});
}

} // namespace
} // namespace fleetbox
