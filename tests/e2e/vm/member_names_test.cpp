// e2e: member names through the guest's /etc/hosts (ADR 0014), on ONE real VM in the test's
// private network namespace. The VM boots through the library with the fast path; its seed
// already gave /etc/hosts an (empty) cluster block. A second member is only recorded in the
// store (a config with an address, never booted: a stopped member keeps its address, and
// one boot is all this test can afford under TCG). sync_cluster_hosts then makes that name
// resolve in the guest (getent, i.e. glibc's files source: no packet leaves the guest), a
// second push changes nothing and keeps a line added outside the block, and after the
// member is removed from the store the next push drops its name.
#include "client/cluster_hosts.hpp"
#include "e2e/vm/e2e_fixture.hpp"
#include "store/config.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"
#include "util/strings.hpp"

#include <fleetbox/fleetbox.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <iostream>
#include <sstream>

namespace fleetbox::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

class MemberNames : public VmTest {};

// Output of a guest command that must succeed.
std::string out_of(Vm& vm, const std::string& command) {
    auto r = vm.ssh(command, 60s);
    EXPECT_TRUE(r) << command << ": " << r.error().message();
    if (!r)
        return {};
    EXPECT_EQ(r->exit_code, 0) << command << "\n" << r->out << r->err;
    return r->out;
}

// Whitespace-separated words of a text ("<address> <name>" for a getent line).
std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

// The same /24 as `ip`, host part 250 (nothing else on the bridge uses it in this test).
std::string sibling_address(const std::string& ip) {
    return ip.substr(0, ip.rfind('.')) + ".250";
}

TEST_F(MemberNames, APushMakesAnotherMemberResolvableInTheGuest) {
    Options opts;
    opts.store_root = root();
    opts.cpus = 1;
    opts.memory_mb = 1024;
    auto vm = fleetbox::start("nm-1", opts);
    ASSERT_TRUE(vm) << vm.error().message() << " (" << vm.error().hint << ")";

    // The seed wrote the cluster block (empty: nm-1 was alone at create).
    EXPECT_EQ(trim(out_of(*vm, "grep -c '^# fleetbox cluster begin' /etc/hosts")), "1");
    EXPECT_EQ(trim(out_of(*vm, "grep -c '^# fleetbox cluster end' /etc/hosts")), "1");
    auto before = vm->ssh("getent hosts nm-2");
    ASSERT_TRUE(before) << before.error().message();
    EXPECT_NE(before->exit_code, 0) << "nm-2 resolved before it existed: " << before->out;

    auto store = Store::open(root());
    ASSERT_TRUE(store) << store.error().message();
    auto sibling = new_vm_config("nm-2", 1, 512, 4096, "debian-12");
    sibling.ip = sibling_address(vm->ip());
    ASSERT_TRUE(store->create(sibling));

    auto t0 = std::chrono::steady_clock::now();
    auto report = client::sync_cluster_hosts(*store, "nm", {"nm-1"});
    double seconds = seconds_since(t0);
    ASSERT_TRUE(report) << report.error().message();
    for (const auto& f : report->failed)
        ADD_FAILURE() << f.member << ": " << f.error.message();
    EXPECT_THAT(report->updated, ElementsAre("nm-1"));
    RecordProperty("push_seconds", std::to_string(seconds));
    std::cout << "push to one member took " << seconds << " s\n";
    EXPECT_LT(seconds, 30.0) << "a push should take about one SSH login";

    EXPECT_THAT(words(out_of(*vm, "getent hosts nm-2")), ElementsAre(sibling.ip, "nm-2"));
    // The own name still resolves locally to 127.0.1.1 (sudo would stall on DNS otherwise).
    // `getent hosts` asks for IPv6 first, which systemd's nss-myhostname answers for the own
    // name with the link-local address, so ask for IPv4 addresses.
    EXPECT_THAT(words(out_of(*vm, "getent ahostsv4 nm-1")), ::testing::Contains("127.0.1.1"));

    // Idempotent, and a line a test added outside the block survives the next push.
    out_of(*vm, "echo '10.9.9.9 added-by-a-test' | sudo -n tee -a /etc/hosts >/dev/null");
    std::string once = out_of(*vm, "cat /etc/hosts");
    report = client::sync_cluster_hosts(*store, "nm", {"nm-1"});
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_THAT(report->failed, IsEmpty());
    EXPECT_EQ(out_of(*vm, "cat /etc/hosts"), once);
    EXPECT_EQ(out_of(*vm, "stat -c '%a %U' /etc/hosts"), "644 root\n");

    // A removed member drops out at the next push.
    ASSERT_TRUE(store->remove("nm-2"));
    report = client::sync_cluster_hosts(*store, "nm", {"nm-1", "nm-2"});
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_THAT(report->updated, ElementsAre("nm-1"));
    auto after = vm->ssh("getent hosts nm-2");
    ASSERT_TRUE(after) << after.error().message();
    EXPECT_NE(after->exit_code, 0) << after->out;
    EXPECT_THAT(out_of(*vm, "cat /etc/hosts"), HasSubstr("10.9.9.9 added-by-a-test"));

    ASSERT_TRUE(vm->destroy());
    expect_nothing_left();
}

} // namespace
} // namespace fleetbox::test
