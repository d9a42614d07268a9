// Target resolution (client/targets.hpp) over a scratch store: an exact name wins, a cluster
// name expands to its members (never to a longer name sharing the prefix), unknown names are
// reported, --all is every VM, and failed first boots are found for `rm`.
#include "client/targets.hpp"
#include "store/config.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class TargetResolution : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = Store::open(dir_.path());
        ASSERT_TRUE(opened) << opened.error().message();
        store_.emplace(std::move(*opened));
        for (const char* name : {"web-1", "web-2", "web-prod", "db"})
            ASSERT_TRUE(store_->create(new_vm_config(name, 1, 1024, 20480, "debian-12")));
    }
    Result<Targets> resolve(std::vector<std::string> names, bool all = false) {
        return resolve_targets(*store_, TargetSelection{std::move(names), all});
    }
    test::ScratchDir dir_;
    std::optional<Store> store_;
};

TEST_F(TargetResolution, ExactNamesClustersAndUnknowns) {
    auto t = resolve({"web", "db", "nope", "web-1"});
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_THAT(t->found, ElementsAre("web-1", "web-2", "db")); // web-1 not twice
    EXPECT_THAT(t->unknown, ElementsAre("nope"));
    auto prod = resolve({"web-prod"});
    ASSERT_TRUE(prod);
    EXPECT_THAT(prod->found, ElementsAre("web-prod"));
}

TEST_F(TargetResolution, AllAndItsMisuse) {
    auto all = resolve({}, true);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->found.size(), 4u);
    EXPECT_THAT(all->unknown, IsEmpty());
    auto both = resolve({"db"}, true);
    ASSERT_FALSE(both);
    EXPECT_EQ(both.error().message(), "cannot combine --all with explicit VM names");
    auto none = resolve({});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().hint, "name them, or use --all");
}

TEST_F(TargetResolution, FailedFirstBootsAreTakenOutOfTheUnknowns) {
    auto kept = store_->failed_boot_dir("cache");
    ASSERT_TRUE(kept);
    ASSERT_TRUE(ensure_dir(*kept));
    auto t = resolve({"cache", "nope"});
    ASSERT_TRUE(t);
    auto leftovers = take_failed_boots(*store_, TargetSelection{{"cache", "nope"}, false}, *t);
    ASSERT_TRUE(leftovers) << leftovers.error().message();
    EXPECT_THAT(*leftovers, ElementsAre("cache"));
    EXPECT_THAT(t->unknown, ElementsAre("nope"));

    auto all = resolve({}, true);
    ASSERT_TRUE(all);
    auto every = take_failed_boots(*store_, TargetSelection{{}, true}, *all);
    ASSERT_TRUE(every);
    EXPECT_THAT(*every, ElementsAre("cache"));
}

} // namespace
} // namespace fleetbox::client
