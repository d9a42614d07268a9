// fleetbox::testing naming (include/fleetbox/gtest.hpp): the reference's safeName rules, and
// the unique suffix that keeps parallel runs apart without breaking the store's rules (a
// valid DNS label; the cluster rule "strip one trailing -<digits>" never cuts the suffix).
#include "store/names.hpp"

#include <fleetbox/gtest.hpp>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <set>
#include <string>

namespace fleetbox::testing {
namespace {

TEST(SafeName, FollowsTheReferenceRules) {
    EXPECT_EQ(safe_name("TestWeb"), "testweb");               // lowercase
    EXPECT_EQ(safe_name("Suite/Case_one"), "suite-case-one"); // '/' and '_' become '-'
    EXPECT_EQ(safe_name("a.b c!d"), "abcd");                  // only [a-z0-9-] kept
    EXPECT_EQ(safe_name("--web--"), "web");                   // dashes trimmed
    EXPECT_EQ(safe_name(""), "test");                         // nothing left
    EXPECT_EQ(safe_name("!!!"), "test");
    EXPECT_EQ(safe_name("__x__"), "x");
    std::string long_name(80, 'a');
    EXPECT_EQ(safe_name(long_name), std::string(50, 'a')); // cut to 50
    // Cut first, then trimmed: a dash at position 50 does not survive.
    EXPECT_EQ(safe_name(std::string(49, 'a') + "-bbbb"), std::string(49, 'a'));
}

TEST(UniqueName, IsAValidVmNameOfItsOwnCluster) {
    for (const char* base : {"web", "a", "suite-test-1", "node-2024"}) {
        std::string name = unique_name(base);
        SCOPED_TRACE(name);
        EXPECT_TRUE(is_valid_vm_name(name));
        EXPECT_EQ(name.rfind(std::string(base) + "-", 0), 0u) << "keeps the base";
        // The suffix has letters, so the store keeps the whole name as the cluster...
        EXPECT_EQ(cluster_name(name), name);
        // ...and cluster members <name>-N all belong to it.
        EXPECT_EQ(cluster_name(name + "-1"), name);
        EXPECT_EQ(cluster_name(name + "-12"), name);
    }
}

TEST(UniqueName, NeverRepeatsInOneProcess) {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i)
        EXPECT_TRUE(seen.insert(unique_name("web")).second);
}

TEST(UniqueName, SuffixHasALetterAndThePid) {
    std::string name = unique_name("web");
    std::string suffix = name.substr(4);
    EXPECT_NE(suffix.find_first_of("abcdefghijklmnopqrstuvwxyz"), std::string::npos);
    EXPECT_NE(suffix.find(std::to_string(::getpid())), std::string::npos);
}

TEST(UniqueName, FitsOneDnsLabelWithRoomForMembers) {
    std::string base = safe_name(std::string(200, 'x'));
    std::string solo = unique_name(base);
    EXPECT_LE(solo.size(), 63u);
    EXPECT_TRUE(is_valid_vm_name(solo));
    std::string prefix = unique_name(base, 3); // "-99"
    EXPECT_LE(prefix.size() + 3, 63u);
    EXPECT_TRUE(is_valid_vm_name(prefix + "-99"));
    EXPECT_EQ(cluster_name(prefix + "-99"), prefix);
    // A base that ends in '-' after the cut is trimmed, never "...--suffix".
    std::string dashed = unique_name(std::string(40, 'a') + "-" + std::string(40, 'b'), 10);
    EXPECT_EQ(dashed.find("--"), std::string::npos) << dashed;
    EXPECT_TRUE(is_valid_vm_name(dashed)) << dashed;
}

TEST(CurrentTestName, IsTheSafeSuiteAndTestName) {
    EXPECT_EQ(current_test_name(), "currenttestname-isthesafesuiteandtestname");
}

TEST(KeepOnFailure, ReadsTheEnvironment) {
    ::unsetenv("FLEETBOX_KEEP_ON_FAILURE");
    EXPECT_FALSE(keep_on_failure());
    for (const char* yes : {"1", "true", "YES"}) {
        ::setenv("FLEETBOX_KEEP_ON_FAILURE", yes, 1);
        EXPECT_TRUE(keep_on_failure()) << yes;
    }
    for (const char* no : {"0", "", "no", "false"}) {
        ::setenv("FLEETBOX_KEEP_ON_FAILURE", no, 1);
        EXPECT_FALSE(keep_on_failure()) << no;
    }
    ::unsetenv("FLEETBOX_KEEP_ON_FAILURE");
}

TEST(StartCluster, RefusesFewerThanOneMember) {
    EXPECT_NONFATAL_FAILURE(
        {
            auto* none = start_cluster(0);
            EXPECT_EQ(none, nullptr);
        },
        "a cluster needs at least 1 member, got 0");
}

} // namespace
} // namespace fleetbox::testing
