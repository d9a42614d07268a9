// One helper per cluster (HelperLauncher::join_or_spawn) with the fake helper: a detached
// request joins the live detached helper of a sibling; two live helpers for one cluster, or a
// sibling in another program's bound helper, is one clear error; with no live sibling a
// helper is spawned. Detached helpers started here are SIGTERMed at the end of each test.
#include "component/helper/helper_fixture.hpp"
#include "store/names.hpp"

#include <csignal>
#include <gmock/gmock.h>

namespace fleetbox::test {
namespace {

using client::HelperMode;
using ::testing::HasSubstr;

class ClusterHelper : public HelperFixture {
protected:
    void TearDown() override {
        for (pid_t pid : detached_)
            if (pid > 0 && ::kill(pid, SIGTERM) == 0)
                (void)wait_gone(pid);
        HelperFixture::TearDown();
    }
    // A detached helper serving `member` (registered, nothing booted).
    pid_t detached(const std::string& member) {
        auto handle = spawn(member, HelperMode::Detached);
        detached_.push_back(handle.pid());
        return handle.pid();
    }
    // join_or_spawn for `member` with every member directory of its cluster as a sibling.
    Result<client::HelperLauncher::ClusterHelper> join(const std::string& member, HelperMode mode) {
        std::vector<std::string> siblings;
        auto members = store_.list_members();
        EXPECT_TRUE(members);
        for (const auto& name : members ? *members : std::vector<std::string>{})
            if (cluster_name(name) == cluster_name(member))
                siblings.push_back(name);
        return launcher().join_or_spawn(store_, member, mode, cluster_name(member), siblings);
    }
    std::vector<pid_t> detached_;
};

TEST_F(ClusterHelper, ASiblingsDetachedHelperIsJoined) {
    pid_t pid = detached("web-1");
    auto joined = join("web-2", HelperMode::Detached);
    ASSERT_TRUE(joined) << joined.error().message();
    EXPECT_TRUE(joined->joined);
    EXPECT_EQ(joined->handle.pid(), pid);
    EXPECT_EQ(joined->handle.client().helper_mode(), "detached");
}

TEST_F(ClusterHelper, WithNoLiveSiblingAHelperIsSpawned) {
    detached("db-1"); // another cluster: never joined
    auto spawned = join("web-1", HelperMode::Detached);
    ASSERT_TRUE(spawned) << spawned.error().message();
    EXPECT_FALSE(spawned->joined);
    detached_.push_back(spawned->handle.pid());
    EXPECT_EQ(spawned->handle.client().helper_mode(), "detached");
}

TEST_F(ClusterHelper, MembersUnderTwoHelpersAreOneClearError) {
    detached("web-1");
    detached("web-2");
    auto split = join("web-3", HelperMode::Detached);
    ASSERT_FALSE(split);
    EXPECT_EQ(split.error().message(), "start web-3: the running members are on separate networks, "
                                       "so the new member can't join them");
    EXPECT_THAT(split.error().hint, HasSubstr("bring the cluster up together"));
}

TEST_F(ClusterHelper, AnotherProgramsBoundHelperIsNeverJoined) {
    auto bound = spawn("web-1", HelperMode::Bound);
    auto refused = join("web-2", HelperMode::Detached);
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().message(),
                HasSubstr("web-1 runs in a helper bound to another program"));
    // A bound request never joins: it gets a helper of its own.
    auto own = join("web-3", HelperMode::Bound);
    ASSERT_TRUE(own) << own.error().message();
    EXPECT_FALSE(own->joined);
    EXPECT_NE(own->handle.pid(), bound.pid());
}

} // namespace
} // namespace fleetbox::test
