// Component: `fleetbox up` of a group (`up web -n 3`, `up a b c`) through the real CLI and the
// fake helper (no VM boots; FLEETBOX_FAKE_RECORD shows what the helper was asked). The fake
// never gets a guest to answer SSH, so these tests drive the group's failure paths: parallel
// boots under one deadline for the whole group, the first failure stopping the others, the
// disk-safe rollback (created members destroyed, existing ones only stopped, one that was
// running before joined and never touched), the cluster's
// stored /24 asked for again and other clusters' /24s avoided, and bad input refused before
// anything is created.
#include "client/helper_client.hpp"
#include "component/cli/fake_cli_fixture.hpp"
#include "e2e/vm/e2e_fixture.hpp"
#include "store/store.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <csignal>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <thread>

namespace fleetbox::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class ClusterUp : public FakeHelperCli {
protected:
    void SetUp() override {
        FakeHelperCli::SetUp();
        if (!IsSkipped() && !HasFatalFailure()) {
            ASSERT_NO_FATAL_FAILURE(make_standin_image(root(), true));
        }
    }
    CliRun up(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
        args.insert(args.begin(), "up");
        return fleetbox(args, env);
    }
    std::vector<std::string> names_of(const std::string& call) const {
        std::vector<std::string> out;
        for (const auto& j : calls(call))
            out.push_back(j.value("name", ""));
        return out;
    }
    Store store() { return Store::open(root()).value(); }
    // A stopped VM as an earlier `up` leaves it: config.json with its address, disk and seed.
    void existing(const std::string& name, const std::string& ip, const std::string& cluster) {
        auto s = store();
        VmConfig c = new_vm_config(name, 1, 512, 1024, "debian-12");
        c.ip = ip;
        c.cluster = cluster;
        c.provisioning = kMethodFleetboxSeed;
        ASSERT_TRUE(s.create(c));
        auto dir = s.member_dir(name).value();
        write_text(dir + "/disk.qcow2", "data that must survive\n");
        write_text(dir + "/seed.tar", "seed\n");
    }
};

TEST_F(ClusterUp, TheFirstFailureStopsTheOtherMembersAtOnce) {
    // web-1 and web-3 would stay "starting" for two minutes: the up can only end within the
    // test's bound because web-2's failure stops them (or keeps them from starting at all).
    auto run = up({"web", "-n", "3"},
                  {"FLEETBOX_FAKE_FAIL_BOOT=web-2", "FLEETBOX_FAKE_BOOT_DELAY_MS=120000"});
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_THAT(run.out, HasSubstr("Starting web-1, web-2, web-3..."));
    EXPECT_THAT(the_error(run), HasSubstr("start cluster web: boot web-2"));
    EXPECT_THAT(the_error(run), HasSubstr("injected boot failure"));
    auto booted = names_of("boot");
    auto stopped = names_of("stop");
    EXPECT_THAT(booted, Contains("web-2"));
    for (const char* other : {"web-1", "web-3"}) {
        bool started = std::find(booted.begin(), booted.end(), other) != booted.end();
        if (started) {
            EXPECT_THAT(stopped, Contains(other)) << other << " kept booting";
        }
    }
    // All three were created by this call: none is left, and one helper served them all.
    EXPECT_THAT(store().list().value(), IsEmpty());
    EXPECT_EQ(calls("create_network").size(), 1U);
}

TEST_F(ClusterUp, MembersBootInParallelUnderOneDeadline) {
    // No member ever finishes: each boot-member is sent at once (all three are in flight
    // together) with no more than the group's time left, and the group ends at that deadline.
    auto run = up({"a", "b", "c", "--boot-timeout", "2"}, {"FLEETBOX_FAKE_BOOT_DELAY_MS=600000"});
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_THAT(the_error(run), HasSubstr("start cluster a:"));
    auto boots = calls("boot");
    ASSERT_EQ(boots.size(), 3U) << read_file(record_).value_or("");
    for (const auto& boot : boots)
        EXPECT_LE(boot.value("boot_timeout_s", 0), 2) << boot.dump();
    EXPECT_THAT(store().list().value(), IsEmpty());
}

TEST_F(ClusterUp, RollbackStopsMembersThatExistedAndKeepsTheirDisks) {
    ASSERT_NO_FATAL_FAILURE(existing("web-1", "203.0.113.7", "web"));
    auto run = up({"web", "-n", "3"}, {"FLEETBOX_FAKE_FAIL_BOOT=web-3"});
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_THAT(the_error(run), HasSubstr("boot web-3"));
    auto s = store();
    EXPECT_TRUE(s.exists("web-1"));
    EXPECT_FALSE(s.exists("web-2"));
    EXPECT_FALSE(s.exists("web-3"));
    EXPECT_EQ(read_file(s.member_dir("web-1").value() + "/disk.qcow2").value_or(""),
              "data that must survive\n");
    // web-1 asked for its stored address, on the cluster's stored /24.
    auto reserves = calls("reserve");
    ASSERT_FALSE(reserves.empty());
    EXPECT_EQ(reserves.front().value("name", ""), "web-1");
    EXPECT_EQ(reserves.front().value("ip_hint", ""), "203.0.113.7");
    auto network = calls("create_network");
    ASSERT_EQ(network.size(), 1U);
    EXPECT_EQ(network.front().value("subnet", ""), "203.0.113.0/24");
}

TEST_F(ClusterUp, AMemberRunningBeforeTheUpIsJoinedAndNeverTouched) {
    // web-1 runs on a detached (fake) helper, as an earlier `up web-1` leaves it.
    auto helper = spawn_detached_fake("web-1", {"FLEETBOX_FAKE_FAIL_BOOT=web-3"});
    ASSERT_TRUE(helper) << helper.error().message();
    auto s = store();
    auto remote = client::HelperClient::connect(
        s, "web-1", client::HelperClientOptions{std::chrono::seconds(10)});
    ASSERT_TRUE(remote) << remote.error().message();
    ASSERT_TRUE((*remote)->create_network({"web", "", {}}));
    auto reserved = (*remote)->reserve("web-1", "");
    ASSERT_TRUE(reserved) << reserved.error().message();
    ASSERT_NO_FATAL_FAILURE(existing("web-1", reserved->ip, "web"));
    proto::BootSpec boot = standin_boot(s, "web-1");
    auto booted = (*remote)->boot(boot);
    ASSERT_TRUE(booted) << booted.error().message();

    auto run = up({"web", "-n", "3"});
    EXPECT_THAT(the_error(run), HasSubstr("boot web-3")) << run;
    EXPECT_THAT(run.out, HasSubstr("Starting web-2, web-3...")) << run;
    EXPECT_THAT(run.err, HasSubstr("Adding web-2 to the cluster")) << run;
    // The new members booted on web-1's helper and network; web-1 was never stopped.
    EXPECT_EQ(calls("create_network").back().value("subnet", ""), "203.0.113.0/24");
    EXPECT_THAT(names_of("stop"), Not(Contains("web-1")));
    auto status = (*remote)->status("web-1");
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_EQ(status->state, proto::MemberState::Running);
    EXPECT_TRUE(s.exists("web-1"));
    EXPECT_FALSE(s.exists("web-2"));
    EXPECT_FALSE(s.exists("web-3"));
    ASSERT_TRUE((*remote)->stop("web-1")); // its last member: the detached helper exits
    EXPECT_TRUE(helper->wait(std::chrono::seconds(10)));
}

TEST_F(ClusterUp, ANewClusterAvoidsTheSubnetsOfStoppedClusters) {
    ASSERT_NO_FATAL_FAILURE(existing("db-1", "203.0.113.2", "db"));
    auto run = up({"web"}, {"FLEETBOX_FAKE_FAIL_BOOT=web"});
    EXPECT_EQ(run.code, 1) << run;
    auto network = calls("create_network");
    ASSERT_EQ(network.size(), 1U) << read_file(record_).value_or("");
    EXPECT_EQ(network.front().value("name", ""), "web");
    EXPECT_EQ(network.front().value("subnet", "?"), "");
    EXPECT_THAT(network.front()["avoid"], Contains("203.0.113.0/24"));
    // A new member never takes a stored member's address (the fake hands out the next range).
    EXPECT_THAT(the_error(run), HasSubstr("injected boot failure"));
    EXPECT_TRUE(store().exists("db-1"));
}

TEST_F(ClusterUp, AHelperKilledDuringAGroupBootIsOneErrorAndLeavesNothing) {
    ChildSpec spec;
    spec.argv = {built("tools/fleetbox/fleetbox"), "up", "web", "-n", "3"};
    spec.env_set = {"FLEETBOX_HOME=" + root(),
                    "FLEETBOX_HELPER=" + built("tests/fleetbox-helper-fake"),
                    "FLEETBOX_FAKE_RECORD=" + record_, "FLEETBOX_FAKE_BOOT_DELAY_MS=120000"};
    spec.out = spec.err = Stream::Capture;
    auto up = ChildProcess::spawn(spec);
    ASSERT_TRUE(up) << up.error().message();
    // Once all three are booting, SIGKILL the helper.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (calls("boot").size() < 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(calls("boot").size(), 3U) << read_file(record_).value_or("");
    auto helpers = store_processes(root());
    ASSERT_EQ(helpers.size(), 1U);
    ASSERT_EQ(::kill(helpers.front(), SIGKILL), 0);
    auto status = up->wait(std::chrono::seconds(60));
    ASSERT_TRUE(status) << status.error().message();
    CliRun run{status->code, up->captured_stdout(), up->captured_stderr()};
    EXPECT_THAT(the_error(run), HasSubstr("start cluster web:")) << run;
    // Every member was new: all are gone, and so is every helper and stand-in.
    EXPECT_THAT(store().list().value(), IsEmpty());
}

TEST_F(ClusterUp, BadGroupsAreOneLineAndCreateNothing) {
    struct Case {
        std::vector<std::string> args;
        const char* error;
    };
    const std::string long_prefix(61, 'a');
    for (const auto& c : std::vector<Case>{
             {{"web", "-n", "0"}, "-n must be at least 1"},
             {{"a", "b", "-n", "2"}, "with -n, give exactly one name to use as the cluster prefix"},
             {{long_prefix, "-n", "10"}, "is too long for -n 10"},
             {{"a", "b", "a"}, "\"a\" is named twice"},
             {{"a", "Bad"}, "invalid VM name \"Bad\""},
         }) {
        auto run = up(c.args);
        EXPECT_EQ(run.code, 1) << run;
        EXPECT_THAT(the_error(run), HasSubstr(c.error)) << run;
        EXPECT_THAT(run.out, Not(HasSubstr("Starting"))) << run;
    }
    EXPECT_THAT(store().list_members().value(), IsEmpty());
    EXPECT_THAT(calls("create_network"), IsEmpty());
}

} // namespace
} // namespace fleetbox::test
