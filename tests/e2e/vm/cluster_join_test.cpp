// e2e: one helper per cluster, through the real CLI in the test's private network namespace.
// `up j-1` then `up j-2` (a sibling: same cluster "j") puts j-2 on j-1's helper and network:
// one helper process for two QEMUs, and j-2 reaches j-1's sshd at its address. Stopping j-1
// leaves j-2 and the helper running; removing both leaves nothing (processes, links, tables).
#include "e2e/vm/e2e_fixture.hpp"
#include "util/strings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;

class ClusterJoin : public VmTest {
protected:
    CliRun fbx(std::vector<std::string> args) { return run_fleetbox(root(), std::move(args)); }
    std::string ip_of(const std::string& vm) { return config_field(*store_, vm, "ip"); }
    // QEMU and helper processes of the store, by kind.
    std::pair<int, int> helpers_and_qemus() {
        int helpers = 0, qemus = 0;
        for (pid_t pid : store_processes(root())) {
            auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
            (cmdline.find("fleetbox-helper") != std::string::npos ? helpers : qemus)++;
        }
        return {helpers, qemus};
    }
};

TEST_F(ClusterJoin, ASiblingJoinsTheRunningHelperAndItsNetwork) {
    auto first = fbx({"up", "j-1"});
    ASSERT_EQ(first.code, 0) << first;
    auto second = fbx({"up", "j-2"});
    ASSERT_EQ(second.code, 0) << second;
    EXPECT_THAT(second.err, HasSubstr("Adding j-2 to the cluster")) << second;
    EXPECT_EQ(helpers_and_qemus(), std::make_pair(1, 2)) << "one helper serves both members";

    const std::string ip1 = ip_of("j-1"), ip2 = ip_of("j-2");
    ASSERT_FALSE(ip1.empty());
    ASSERT_FALSE(ip2.empty());
    EXPECT_NE(ip1, ip2);
    EXPECT_EQ(ip1.substr(0, ip1.rfind('.')), ip2.substr(0, ip2.rfind('.'))) << "one subnet";
    auto reach = fbx({"ssh", "j-2", "--", "nc -z -w 10 " + ip1 + " 22 && echo reached"});
    EXPECT_EQ(reach.code, 0) << reach;
    EXPECT_EQ(std::string(trim(reach.out)), "reached") << reach;

    // ls names each member's cluster.
    auto ls = fbx({"ls", "-o", "json"});
    auto listed = nlohmann::json::parse(ls.out, nullptr, false);
    ASSERT_TRUE(listed.is_array() && listed.size() == 2) << ls;
    EXPECT_EQ(listed[0].value("cluster", ""), "j");
    EXPECT_EQ(listed[1].value("cluster", ""), "j");

    // Stopping one member keeps the helper for the other.
    ASSERT_EQ(fbx({"down", "j-1"}).code, 0);
    EXPECT_EQ(helpers_and_qemus(), std::make_pair(1, 1));
    auto still = fbx({"ssh", "j-2", "--", "hostname"});
    EXPECT_EQ(std::string(trim(still.out)), "j-2") << still;

    // Booting it again joins the same helper, on its old address.
    auto again = fbx({"up", "j-1"});
    ASSERT_EQ(again.code, 0) << again;
    EXPECT_EQ(helpers_and_qemus(), std::make_pair(1, 2));
    EXPECT_EQ(ip_of("j-1"), ip1);

    EXPECT_EQ(fbx({"rm", "-f", "j-1", "j-2"}).code, 0);
    expect_nothing_left();
}

} // namespace
} // namespace fleetbox::test
