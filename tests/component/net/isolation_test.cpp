// Clusters are isolated from each other: two fleetbox networks in the test's namespace, each
// with a "machine" (a namespace the test made, on a veth port of its bridge). Traffic from
// one machine to the other is dropped in both directions, while each still reaches its own
// gateway; the drop holds with only the inter-bridge rules left, and traffic flows once the
// tables are gone (so it was the firewall that dropped it).
#include "component/net/peer_netns.hpp"
#include "net/firewall.hpp"
#include "net/names.hpp"
#include "net/network.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox {
namespace {

using test::NetnsTest;
using test::PeerNetns;
using test::run_out;

class Isolation : public NetnsTest {};

// A TCP listener in the test's own namespace (reached through a bridge's gateway address).
Fd listen_here(uint16_t port) {
    Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    EXPECT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(sock.get(), 8), 0);
    return sock;
}

// Delete the "ct state new ... drop" rule of a bridge's table, leaving the isolation rules.
void drop_new_connection_rule(const std::string& bridge) {
    const std::string table = firewall_table_name(bridge);
    const auto j = nlohmann::json::parse(run_out({"nft", "-j", "list", "table", "ip", table}));
    for (const auto& item : j["nftables"]) {
        if (!item.contains("rule") || item["rule"]["chain"] != "forward")
            continue;
        if (item["rule"]["expr"].dump().find("\"ct\"") == std::string::npos)
            continue;
        run_out({"nft", "delete", "rule", "ip", table, "forward", "handle",
                 std::to_string(item["rule"]["handle"].get<int>())});
    }
}

TEST_F(Isolation, TrafficBetweenTwoNetworksIsDroppedBothWays) {
    auto a = Network::create(std::set<std::string>{});
    ASSERT_TRUE(a) << a.error().message();
    auto b = Network::create(std::set<std::string>{});
    ASSERT_TRUE(b) << b.error().message();
    for (const Network* net : {&*a, &*b}) {
        auto fw = inspect_firewall(net->bridge(), net->subnet());
        ASSERT_TRUE(fw) << fw.error().message();
        EXPECT_TRUE(fw->isolation) << net->bridge();
    }

    PeerNetns host_a("a");
    PeerNetns host_b("b");
    host_a.attach("va0", "va1", "192.168.0.2/24", "192.168.0.1");
    host_b.attach("vb0", "vb1", "192.168.1.2/24", "192.168.1.1");
    ASSERT_TRUE(enslave("va0", a->bridge()));
    ASSERT_TRUE(enslave("vb0", b->bridge()));
    const Fd at_a = host_a.listen_tcp(7000);
    const Fd at_b = host_b.listen_tcp(7000);
    const Fd at_gateway = listen_here(7001);

    EXPECT_TRUE(host_a.can_connect("192.168.0.1", 7001)) << "a reaches its own gateway";
    EXPECT_TRUE(host_b.can_connect("192.168.1.1", 7001)) << "b reaches its own gateway";
    EXPECT_FALSE(host_a.can_connect("192.168.1.2", 7000)) << "a must not reach b";
    EXPECT_FALSE(host_b.can_connect("192.168.0.2", 7000)) << "b must not reach a";

    drop_new_connection_rule(a->bridge());
    drop_new_connection_rule(b->bridge());
    EXPECT_FALSE(host_a.can_connect("192.168.1.2", 7000)) << "the isolation rules alone drop it";
    EXPECT_FALSE(host_b.can_connect("192.168.0.2", 7000));

    ASSERT_TRUE(remove_firewall(a->bridge()));
    ASSERT_TRUE(remove_firewall(b->bridge()));
    EXPECT_TRUE(host_a.can_connect("192.168.1.2", 7000)) << "routing works without the tables";
}

} // namespace
} // namespace fleetbox
