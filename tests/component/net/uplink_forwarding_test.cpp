// Forwarding on the uplink, inside the test's namespace: a veth "uplink" whose default route
// leads into a second namespace (the stand-in internet), forwarding 0 everywhere. Creating a
// recorded network turns the uplink on with a marker holding the original 0; destroying the
// last network writes it back and removes the marker. conf/all is never written, a host
// that forwards globally is left alone, and a host without a route out has no uplink.
#include "component/net/peer_netns.hpp"
#include "net/forwarding.hpp"
#include "net/network_record.hpp"
#include "net/record_journal.hpp"
#include "net/uplink.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using test::NetnsTest;
using test::PeerNetns;
using test::run_out;

class UplinkForwarding : public NetnsTest {
protected:
    // up0 (10.200.0.1/24, here) <-> up1 (10.200.0.2/24, in the "internet" namespace).
    void make_uplink() {
        internet_ = std::make_unique<PeerNetns>("inet");
        internet_->attach("up0", "up1", "10.200.0.2/24");
        ASSERT_TRUE(add_address("up0", "10.200.0.1/24"));
        run_out({"ip", "route", "add", "default", "via", "10.200.0.2", "dev", "up0"});
    }
    Result<Network> create() {
        auto journal = RecordJournal::create(dir_.path(), "web");
        if (!journal)
            return fail(std::move(journal).error());
        return Network::create(std::set<std::string>{}, *journal);
    }
    [[nodiscard]] std::string marker() const { return forwarding_marker_path(dir_.path(), "up0"); }
    static std::string all_forwarding() {
        return run_out({"cat", "/proc/sys/net/ipv4/conf/all/forwarding"});
    }

    test::ScratchDir dir_;
    std::unique_ptr<PeerNetns> internet_;
};

TEST_F(UplinkForwarding, TheRouteLookupFindsTheUplinkWithoutSendingAnything) {
    auto none = inspect_uplink();
    ASSERT_TRUE(none) << none.error().message();
    EXPECT_EQ(none->uplink, "") << "no route out: no uplink";
    make_uplink();
    auto state = inspect_uplink();
    ASSERT_TRUE(state) << state.error().message();
    EXPECT_EQ(state->uplink, "up0");
    EXPECT_FALSE(state->was_forwarding);
}

TEST_F(UplinkForwarding, CreateTurnsItOnWithAMarkerAndTheLastDestroyRestoresIt) {
    make_uplink();
    ASSERT_FALSE(*forwarding_enabled("up0"));
    auto first = create();
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_TRUE(*forwarding_enabled("up0"));
    EXPECT_EQ(test::read_text(marker()), "0\n");
    EXPECT_EQ(all_forwarding(), "0\n") << "never the global switch";
    auto record = read_record(record_path(dir_.path(), first->bridge()));
    ASSERT_TRUE(record);
    EXPECT_EQ(record->uplink, "up0");
    EXPECT_EQ(record->uplink_forwarding_orig, 0);

    auto second = create(); // finds the uplink on: first writer's marker stays
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ(test::read_text(marker()), "0\n");
    EXPECT_EQ(read_record(record_path(dir_.path(), second->bridge()))->uplink_forwarding_orig,
              std::nullopt);

    ASSERT_TRUE(first->destroy());
    EXPECT_TRUE(*forwarding_enabled("up0")) << "another network still needs it";
    EXPECT_TRUE(path_exists(marker()));
    ASSERT_TRUE(second->destroy());
    EXPECT_FALSE(*forwarding_enabled("up0")) << "the last network gone: original value back";
    EXPECT_FALSE(path_exists(marker()));
    EXPECT_TRUE(list_records(dir_.path())->empty());
}

TEST_F(UplinkForwarding, AnUplinkAlreadyOnIsLeftAsItIs) {
    make_uplink();
    ASSERT_TRUE(enable_forwarding("up0"));
    auto net = create();
    ASSERT_TRUE(net) << net.error().message();
    EXPECT_FALSE(path_exists(marker()));
    ASSERT_TRUE(net->destroy());
    EXPECT_TRUE(*forwarding_enabled("up0"));
}

TEST_F(UplinkForwarding, AHostThatForwardsGloballyIsNotTouched) {
    make_uplink();
    run_out({"sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/all/forwarding"});
    ASSERT_TRUE(set_forwarding("up0", false));
    auto net = create();
    ASSERT_TRUE(net) << net.error().message();
    EXPECT_FALSE(*forwarding_enabled("up0"));
    EXPECT_FALSE(path_exists(marker()));
    EXPECT_EQ(read_record(record_path(dir_.path(), net->bridge()))->uplink, "");
}

TEST_F(UplinkForwarding, NoRouteOutMeansNothingToDo) {
    auto net = create();
    ASSERT_TRUE(net) << net.error().message();
    const auto files = list_dir(dir_.path());
    ASSERT_TRUE(files);
    for (const auto& name : *files)
        EXPECT_NE(name.rfind("fwd-", 0), 0U) << "no marker without an uplink: " << name;
}

} // namespace
} // namespace fleetbox
