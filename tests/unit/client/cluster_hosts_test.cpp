// Unit tests for the cluster host list taken from the store: every other member of the same
// cluster with an address, in store order, skipping members without an address or with an
// unreadable config; and sync_cluster_hosts' choice of whom to push to (only running members
// of the cluster that exist in the store), which needs no SSH when nobody qualifies.
#include "client/cluster_hosts.hpp"
#include "store/config.hpp"
#include "store/store.hpp"
#include "support/test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::client {
namespace {

using ::testing::IsEmpty;

class ClusterHosts : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = Store::open(scratch_.path() + "/fb");
        ASSERT_TRUE(opened) << opened.error().message();
        store_.emplace(std::move(*opened));
    }
    void add(const std::string& name, const std::string& ip) {
        auto config = new_vm_config(name, 1, 512, 4096, "debian-12");
        config.ip = ip;
        auto ok = store_->create(config);
        ASSERT_TRUE(ok) << ok.error().message();
    }
    // "ip name" pairs, for readable expectations.
    std::vector<std::string> entries_of(const std::string& member) {
        auto entries = cluster_host_entries(*store_, member);
        EXPECT_TRUE(entries) << entries.error().message();
        std::vector<std::string> out;
        for (const auto& e : entries.value_or(std::vector<seed::HostEntry>{}))
            out.push_back(e.ip + " " + e.name);
        return out;
    }

    test::ScratchDir scratch_;
    std::optional<Store> store_;
};

TEST_F(ClusterHosts, ListsEveryOtherMemberOfTheClusterWithItsAddress) {
    add("web-1", "192.168.50.2");
    add("web-2", "192.168.50.3");
    add("web-10", "192.168.50.11");
    add("webx-1", "192.168.60.2"); // cluster "webx"
    add("db-1", "192.168.70.2");
    EXPECT_EQ(entries_of("web-1"),
              (std::vector<std::string>{"192.168.50.11 web-10", "192.168.50.3 web-2"}));
    EXPECT_EQ(entries_of("web-2"),
              (std::vector<std::string>{"192.168.50.2 web-1", "192.168.50.11 web-10"}));
    EXPECT_THAT(entries_of("db-1"), IsEmpty());
}

TEST_F(ClusterHosts, AMemberBeingCreatedGetsTheWholeCluster) {
    add("web-1", "192.168.50.2");
    add("web-2", "192.168.50.3");
    EXPECT_EQ(entries_of("web-3"),
              (std::vector<std::string>{"192.168.50.2 web-1", "192.168.50.3 web-2"}));
}

TEST_F(ClusterHosts, SkipsMembersWithoutAnAddressOrAReadableConfig) {
    add("web-1", "192.168.50.2");
    add("web-2", ""); // created before an address was assigned (the original's records)
    add("web-3", "192.168.50.4");
    add("web-4", "192.168.50.5");
    test::write_text(*store_->config_path("web-3"), "{ not json");
    test::write_text(*store_->config_path("web-4"), "{\"version\": 99}");
    EXPECT_EQ(entries_of("web-1"), std::vector<std::string>{});
    EXPECT_EQ(entries_of("web-9"), std::vector<std::string>{"192.168.50.2 web-1"});
}

TEST_F(ClusterHosts, RefusesAnInvalidMemberName) {
    auto entries = cluster_host_entries(*store_, "../x");
    ASSERT_FALSE(entries);
    EXPECT_EQ(entries.error().kind, ErrorKind::InvalidArgument);
}

TEST_F(ClusterHosts, SyncPushesToNobodyOutsideTheClusterOrTheStore) {
    add("web-1", "192.168.50.2");
    add("db-1", "192.168.70.2");
    // db-1 runs but is another cluster's; web-7 is not in the store (removed meanwhile); web-2
    // is not a member at all: nothing to dial, so nothing is reported.
    auto report = sync_cluster_hosts(*store_, "web", {"db-1", "web-7", "web-2", "../x"});
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_THAT(report->updated, IsEmpty());
    EXPECT_THAT(report->failed, IsEmpty());
}

} // namespace
} // namespace fleetbox::client
