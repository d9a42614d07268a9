// QemuBackend's network, without booting a VM, inside the test's private namespace: the
// record it keeps in the store (cluster name, subnet, owner), the requested subnet used
// exactly or refused with what holds it, `avoid` and other records' subnets skipped, a dead
// helper's leftovers reclaimed before a network is made, the record gone after shutdown (and,
// for a detached helper, at the stop that leaves no member running).
#include "backend_qemu/qemu_backend.hpp"
#include "component/net/netns_fixture.hpp"
#include "net/network_record.hpp"
#include "store/store.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"
#include "sys/process_identity.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using test::NetnsTest;
using test::run_out;

class QemuNetwork : public NetnsTest {
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
    [[nodiscard]] std::unique_ptr<backend::QemuBackend> backend() const {
        return std::make_unique<backend::QemuBackend>(*store_, AccelChoice{}, nullptr);
    }
    [[nodiscard]] std::vector<std::string> records() const { return *list_records(dir_); }

    test::ScratchDir root_;
    std::optional<Store> store_;
    std::string dir_;
};

TEST_F(QemuNetwork, TheNetworkIsRecordedUnderTheClusterAndForgottenAtShutdown) {
    auto b = backend();
    auto info = b->create_network({"web", "", {}});
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->subnet, "192.168.0.0/24");
    auto record = read_record(record_path(dir_, info->bridge));
    ASSERT_TRUE(record) << record.error().message();
    EXPECT_EQ(record->cluster, "web");
    EXPECT_EQ(record->subnet, "192.168.0.0/24");
    EXPECT_EQ(record->owner, *self_identity());
    EXPECT_TRUE(b->create_network({"web", "192.168.0.0/24", {}})) << "idempotent";
    EXPECT_FALSE(b->create_network({"web", "192.168.3.0/24", {}}));
    ASSERT_TRUE(b->shutdown());
    EXPECT_TRUE(records().empty());
    EXPECT_TRUE(list_links_with_prefix("fbx-")->empty());
    EXPECT_TRUE(list_firewall_tables()->empty());
}

TEST_F(QemuNetwork, ADetachedHelpersLastStopRemovesTheNetworkBeforeItReturns) {
    backend::QemuBackend detached(*store_, AccelChoice{}, nullptr, /*drop_network_when_idle=*/true);
    auto info = detached.create_network({"web", "", {}});
    ASSERT_TRUE(info) << info.error().message();
    ASSERT_TRUE(detached.reserve("web-1", ""));
    ASSERT_TRUE(detached.stop("web-1"));
    EXPECT_FALSE(link_exists(info->bridge)) << "gone before the stop's reply";
    EXPECT_TRUE(records().empty());
    auto again = detached.create_network({"web", "", {}});
    ASSERT_FALSE(again) << "the helper is on its way out";
    EXPECT_EQ(again.error().kind, ErrorKind::Busy);

    auto bound = backend(); // a bound helper keeps its network between members
    ASSERT_TRUE(bound->create_network({"web", "", {}}));
    ASSERT_TRUE(bound->stop("web-1"));
    EXPECT_EQ(records().size(), 1U);
}

TEST_F(QemuNetwork, ARequestedSubnetIsUsedExactlyOrRefusedWithItsHolder) {
    auto b = backend();
    auto info = b->create_network({"web", "192.168.42.0/24", {}});
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->subnet, "192.168.42.0/24");
    EXPECT_EQ(info->gateway, "192.168.42.1");

    ASSERT_TRUE(create_link("tun0", "bridge"));
    ASSERT_TRUE(set_link_up("tun0"));
    run_out({"ip", "route", "add", "192.168.5.0/24", "dev", "tun0"});
    auto vpn = backend()->create_network({"db", "192.168.5.0/24", {}});
    ASSERT_FALSE(vpn);
    EXPECT_EQ(vpn.error().kind, ErrorKind::Busy);
    EXPECT_EQ(vpn.error().message(),
              "use subnet 192.168.5.0/24: it is taken by route 192.168.5.0/24 dev tun0");
    EXPECT_FALSE(vpn.error().hint.empty());
    auto ours = backend()->create_network({"db", "192.168.42.0/24", {}});
    ASSERT_FALSE(ours);
    EXPECT_NE(ours.error().message().find("on " + info->bridge), std::string::npos)
        << ours.error().message();
    EXPECT_EQ(records().size(), 1U) << "a refused network leaves no record";
}

TEST_F(QemuNetwork, PickingSkipsAvoidAndOtherRecords) {
    NetworkRecord other; // another helper, alive (us), setting up 192.168.1.0/24 right now
    other.bridge = "fbx-0000bbbb";
    other.subnet = "192.168.1.0/24";
    other.owner = *self_identity();
    ASSERT_TRUE(write_record(dir_, other));
    auto b = backend();
    auto info = b->create_network({"web", "", {"192.168.0.0/24"}});
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->subnet, "192.168.2.0/24");
}

TEST_F(QemuNetwork, ADeadHelpersLeftoversAreReclaimedFirst) {
    NetworkRecord dead;
    dead.bridge = "fbx-0000aaaa";
    dead.subnet = "192.168.0.0/24";
    dead.owner = {::getpid(), self_identity()->start_time + 1};
    ASSERT_TRUE(write_record(dir_, dead));
    ASSERT_TRUE(create_bridge(dead.bridge));
    ASSERT_TRUE(add_address(dead.bridge, "192.168.0.1/24"));
    auto b = backend();
    auto info = b->create_network({"web", "192.168.0.0/24", {}});
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_FALSE(link_exists("fbx-0000aaaa"));
    EXPECT_EQ(records(), std::vector<std::string>{record_path(dir_, info->bridge)});
}

} // namespace
} // namespace fleetbox
