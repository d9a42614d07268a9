// Network: the facade the helper uses. Create -> bridge up with its gateway, forwarding on
// the bridge, firewall; taps; destroy and the destructor leave nothing behind; a failed
// create undoes its own work and never touches what existed before; EPERM is explained.
#include "component/net/netns_fixture.hpp"
#include "net/firewall.hpp"
#include "net/forwarding.hpp"
#include "net/names.hpp"
#include "net/netlink.hpp"
#include "net/network.hpp"
#include "net/tap.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>

namespace fleetbox {
namespace {

using test::NetnsTest;
using test::run_out;

class NetworkTest : public NetnsTest {
protected:
    static void expect_nothing_left() {
        EXPECT_TRUE(list_links_with_prefix("fbx-")->empty());
        EXPECT_TRUE(list_links_with_prefix("fbt-")->empty());
        EXPECT_TRUE(list_firewall_tables()->empty());
    }
};

bool has_address(const std::string& ifname, const std::string& ip, int prefix) {
    const auto addresses = list_ipv4_addresses();
    if (!addresses)
        return false;
    for (const auto& a : *addresses) {
        if (a.ifname == ifname && format_ipv4(a.address) == ip && a.prefix == prefix)
            return true;
    }
    return false;
}

TEST_F(NetworkTest, CreateBuildsBridgeGatewayForwardingAndFirewall) {
    auto net = Network::create(std::set<std::string>{});
    ASSERT_TRUE(net) << net.error().message();
    EXPECT_TRUE(is_bridge_name(net->bridge())) << net->bridge();
    EXPECT_EQ(net->subnet().cidr, "192.168.0.0/24");
    auto info = link_info(net->bridge());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->kind, "bridge");
    EXPECT_TRUE(info->up);
    EXPECT_TRUE(has_address(net->bridge(), "192.168.0.1", 24));
    EXPECT_TRUE(*forwarding_enabled(net->bridge()));
    EXPECT_EQ(run_out({"cat", "/proc/sys/net/ipv4/conf/all/forwarding"}), "0\n");
    auto fw = inspect_firewall(net->bridge(), net->subnet());
    ASSERT_TRUE(fw);
    EXPECT_TRUE(fw->table && fw->masquerade && fw->forward_drop);
    EXPECT_EQ(*net->addresses().reserve("web-1"), "192.168.0.2");
}

TEST_F(NetworkTest, SecondNetworkGetsTheNextSubnet) {
    auto first = Network::create(std::set<std::string>{});
    ASSERT_TRUE(first);
    auto second = Network::create(std::set<std::string>{}); // first's gateway overlaps .0
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ(second->subnet().cidr, "192.168.1.0/24");
    auto third = Network::create(std::set<std::string>{"192.168.2.0/24"});
    ASSERT_TRUE(third);
    EXPECT_EQ(third->subnet().cidr, "192.168.3.0/24");
    EXPECT_NE(first->bridge(), second->bridge());
}

TEST_F(NetworkTest, TapsAreEnslavedUpAndRemovable) {
    auto net = Network::create(std::set<std::string>{});
    ASSERT_TRUE(net);
    auto tap = net->add_tap();
    ASSERT_TRUE(tap) << tap.error().message();
    EXPECT_TRUE(is_tap_name(*tap)) << *tap;
    auto info = link_info(*tap);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->master, net->bridge());
    EXPECT_TRUE(info->up);
    EXPECT_EQ(net->taps(), std::vector<std::string>{*tap});

    auto second = net->add_tap();
    ASSERT_TRUE(second);
    ASSERT_TRUE(net->remove_tap(*tap));
    EXPECT_FALSE(link_exists(*tap));
    EXPECT_TRUE(link_exists(*second));
    EXPECT_EQ(net->taps(), std::vector<std::string>{*second});
    EXPECT_TRUE(net->remove_tap(*tap)) << "removing twice is fine";
}

TEST_F(NetworkTest, AddTapNamedRefusesAnExistingInterfaceAndKeepsIt) {
    auto net = Network::create(std::set<std::string>{});
    ASSERT_TRUE(net);
    ASSERT_TRUE(create_tap("fbt-0000aaaa")); // not ours
    auto added = net->add_tap_named("fbt-0000aaaa");
    ASSERT_FALSE(added);
    EXPECT_EQ(added.error().kind, ErrorKind::AlreadyExists);
    EXPECT_TRUE(net->taps().empty());
    ASSERT_TRUE(net->destroy());
    EXPECT_TRUE(link_exists("fbt-0000aaaa")) << "destroy only removes its own taps";
    EXPECT_FALSE(net->add_tap_named("fbt-0000bbbb")) << "a destroyed network takes no taps";
    EXPECT_FALSE(net->add_tap_named("eth0"));
}

TEST_F(NetworkTest, DestroyLeavesNothingAndIsIdempotent) {
    auto net = Network::create(std::set<std::string>{});
    ASSERT_TRUE(net);
    ASSERT_TRUE(net->add_tap());
    ASSERT_TRUE(net->add_tap());
    auto destroyed = net->destroy();
    ASSERT_TRUE(destroyed) << destroyed.error().message();
    EXPECT_FALSE(net->live());
    expect_nothing_left();
    EXPECT_TRUE(net->destroy());
    const std::string links = run_out({"ip", "-o", "link"});
    EXPECT_EQ(links.find("fbx-"), std::string::npos) << links;
    EXPECT_EQ(links.find("fbt-"), std::string::npos) << links;
    EXPECT_EQ(run_out({"nft", "list", "tables"}).find("fbx_"), std::string::npos);
}

TEST_F(NetworkTest, DestroyToleratesPiecesAlreadyGone) {
    auto net = Network::create(std::set<std::string>{});
    ASSERT_TRUE(net);
    auto tap = net->add_tap();
    ASSERT_TRUE(tap);
    ASSERT_TRUE(delete_tap(*tap));
    ASSERT_TRUE(remove_firewall(net->bridge()));
    auto destroyed = net->destroy();
    ASSERT_TRUE(destroyed) << destroyed.error().message();
    expect_nothing_left();
}

TEST_F(NetworkTest, DestructorCleansUp) {
    std::string bridge;
    {
        auto net = Network::create(std::set<std::string>{});
        ASSERT_TRUE(net);
        bridge = net->bridge();
        ASSERT_TRUE(net->add_tap());
        Network moved = std::move(*net); // the moved-from one must not tear anything down
        EXPECT_FALSE(net->live());
        EXPECT_TRUE(link_exists(bridge));
        EXPECT_TRUE(moved.live());
    }
    EXPECT_FALSE(link_exists(bridge));
    expect_nothing_left();
}

TEST_F(NetworkTest, TeardownFromNamesAloneForReconcile) {
    auto net = Network::create(std::set<std::string>{});
    ASSERT_TRUE(net);
    const std::string bridge = net->bridge();
    const std::string tap = *net->add_tap();
    auto done = teardown_network(bridge, {tap});
    ASSERT_TRUE(done) << done.error().message();
    expect_nothing_left();
    EXPECT_FALSE(teardown_network("eth0", {}));
    EXPECT_FALSE(teardown_network(bridge, {"lo"}));
}

TEST_F(NetworkTest, PreexistingBridgeNameFailsWithoutTouchingIt) {
    NetworkPlan plan;
    plan.bridge = "fbx-0000aaaa";
    plan.subnet = private_subnet_24(7);
    ASSERT_TRUE(create_link(plan.bridge, "bridge")); // someone else's interface
    ASSERT_TRUE(add_address(plan.bridge, "10.9.9.9/8"));
    auto net = Network::create(plan);
    ASSERT_FALSE(net);
    EXPECT_EQ(net.error().kind, ErrorKind::AlreadyExists);
    EXPECT_TRUE(link_exists(plan.bridge))
        << "the failed create must not delete what it did not make";
    EXPECT_TRUE(has_address(plan.bridge, "10.9.9.9", 8));
    EXPECT_FALSE(has_address(plan.bridge, "192.168.7.1", 24));
    EXPECT_TRUE(list_firewall_tables()->empty());
}

TEST_F(NetworkTest, PlanRejectsForeignBridgeNames) {
    NetworkPlan plan{"eth0", private_subnet_24(7)};
    auto net = Network::create(plan);
    ASSERT_FALSE(net);
    EXPECT_EQ(net.error().kind, ErrorKind::InvalidArgument);
}

// /proc/sys read-only (as in many containers) makes the forwarding step fail after the
// bridge exists: create must report it and remove the bridge it made.
TEST_F(NetworkTest, FailureMidCreateRemovesWhatItMade) {
    ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0)
        << std::strerror(errno);
    if (::mount("/proc/sys", "/proc/sys", nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(nullptr, "/proc/sys", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
        GTEST_SKIP() << "cannot make /proc/sys read-only here: " << std::strerror(errno);
    }
    auto net = Network::create(std::set<std::string>{});
    ::umount2("/proc/sys", MNT_DETACH);
    ASSERT_FALSE(net);
    EXPECT_NE(net.error().message().find("forwarding"), std::string::npos) << net.error().message();
    expect_nothing_left();
}

// Drops CAP_NET_ADMIN from this thread's effective set for the scope (root keeps it in the
// permitted set, so it can be raised again).
class WithoutNetAdmin {
public:
    WithoutNetAdmin() {
        ::syscall(SYS_capget, &header_, saved_);
        __user_cap_data_struct reduced[2] = {saved_[0], saved_[1]};
        reduced[0].effective &= ~(1U << CAP_NET_ADMIN);
        ok_ = ::syscall(SYS_capset, &header_, reduced) == 0;
    }
    ~WithoutNetAdmin() { ::syscall(SYS_capset, &header_, saved_); }
    WithoutNetAdmin(const WithoutNetAdmin&) = delete;
    WithoutNetAdmin& operator=(const WithoutNetAdmin&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }

private:
    __user_cap_header_struct header_{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct saved_[2] = {};
    bool ok_ = false;
};

TEST_F(NetworkTest, WithoutCapNetAdminTheErrorSaysRunWithSudo) {
    NetworkPlan plan{"fbx-0000aaaa", private_subnet_24(0)};
    Result<Network> net = fail(ErrorKind::Internal, "not run");
    Status tap = fail(ErrorKind::Internal, "not run");
    Status fw = fail(ErrorKind::Internal, "not run");
    {
        WithoutNetAdmin drop;
        ASSERT_TRUE(drop.ok()) << std::strerror(errno);
        net = Network::create(plan);
        tap = create_tap("fbt-0000aaaa");
        fw = install_firewall(plan.bridge, plan.subnet);
    }
    ASSERT_FALSE(net);
    EXPECT_EQ(net.error().kind, ErrorKind::Permission);
    EXPECT_EQ(net.error().message(), "create bridge fbx-0000aaaa: Operation not permitted");
    EXPECT_EQ(net.error().hint,
              "fleetbox needs root (CAP_NET_ADMIN) to create bridges and taps: run it with sudo");
    ASSERT_FALSE(tap);
    EXPECT_EQ(tap.error().kind, ErrorKind::Permission);
    EXPECT_FALSE(tap.error().hint.empty());
    ASSERT_FALSE(fw);
    EXPECT_EQ(fw.error().kind, ErrorKind::Permission) << fw.error().message();
    EXPECT_FALSE(fw.error().hint.empty());
    expect_nothing_left();
}

} // namespace
} // namespace fleetbox
