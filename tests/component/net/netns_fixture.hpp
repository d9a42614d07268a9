// Fixture for every test that changes network state: the test process first moves into a
// brand-new, empty network namespace (unshare(CLONE_NEWNET)) and brings its `lo` up.
//
// Why: the network safety rule. Bridges, taps, addresses and nftables tables made by a
// test exist only in that namespace, which the kernel destroys (with everything in it) when
// the process exits or unshares again, so nothing can leak into the host's namespace.
// Every test unshares afresh in SetUp, so tests are isolated even when one binary runs them
// all. Child processes (`ip`, `nft` used for cross-checks) inherit the namespace. Without
// root the tests skip; if the namespace cannot be made the test fails before doing anything.
#pragma once

#include "net/firewall.hpp"
#include "net/netlink.hpp"
#include "sys/child_process.hpp"

#include <cerrno>
#include <cstring>
#include <gtest/gtest.h>
#include <sched.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace fleetbox::test {

class NetnsTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root to make a private network namespace";
        ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET): " << std::strerror(errno);
        auto links = list_links_with_prefix("");
        ASSERT_TRUE(links) << links.error().message();
        ASSERT_EQ(*links, std::vector<std::string>{"lo"}) << "not a fresh network namespace";
        auto tables = list_firewall_tables();
        ASSERT_TRUE(tables) << tables.error().message();
        ASSERT_TRUE(tables->empty());
        auto up = set_link_up("lo");
        ASSERT_TRUE(up) << up.error().message();
    }
};

// Run a command (inside the test's namespace) and return its stdout; fails the test on error.
inline std::string run_out(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Capture;
    auto r = run_checked(spec);
    EXPECT_TRUE(r) << r.error().message();
    return r ? r->out : std::string();
}

} // namespace fleetbox::test
