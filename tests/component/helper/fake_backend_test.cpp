// FakeBackend in-process: its state machine, stand-in processes, injected failures and the
// call record, which the helper-process tests rely on.
#include "backend_fake/fake_backend.hpp"
#include "component/helper/helper_fixture.hpp"
#include "util/strings.hpp"

#include <thread>

namespace fleetbox::test {
namespace {

using backend::FakeBackend;
using backend::FakeOptions;

class FakeBackendTest : public HelperFixture {
protected:
    FakeOptions options(int delay_ms = 0, std::string fail_boot = {}) const {
        FakeOptions o;
        o.record_path = scratch_.file("record");
        o.boot_delay_ms = delay_ms;
        o.fail_boot = std::move(fail_boot);
        return o;
    }
};

TEST_F(FakeBackendTest, NetworkIsFixedAndReservationsAreIdempotentAndHonorHints) {
    FakeBackend fake(options());
    auto net = fake.create_network({});
    ASSERT_TRUE(net);
    EXPECT_EQ(net->subnet, "203.0.113.0/24");
    EXPECT_EQ(net->gateway, "203.0.113.1");
    EXPECT_EQ(net->bridge, "fbx-fake");
    EXPECT_EQ(fake.create_network({})->subnet, net->subnet);

    EXPECT_EQ(fake.reserve("web-1", "")->ip, "203.0.113.2");
    EXPECT_EQ(fake.reserve("web-2", "203.0.113.40")->ip, "203.0.113.40");
    EXPECT_EQ(fake.reserve("web-3", "203.0.113.40")->ip, "203.0.113.3"); // taken hint ignored
    EXPECT_EQ(fake.reserve("web-4", "10.0.0.5")->ip, "203.0.113.4");     // outside the subnet
    EXPECT_EQ(fake.reserve("web-5", "203.0.113.1")->ip, "203.0.113.5");  // the gateway
    auto again = fake.reserve("web-1", "203.0.113.99");
    EXPECT_EQ(again->ip, "203.0.113.2");
    EXPECT_NE(again->mac, fake.reserve("web-2", "")->mac);
}

TEST_F(FakeBackendTest, ReserveNeedsTheNetworkAndBootNeedsAReservation) {
    FakeBackend fake(options());
    auto reserved = fake.reserve("web", "");
    ASSERT_FALSE(reserved);
    EXPECT_EQ(reserved.error().message(), "reserve web: network not created");
    ASSERT_TRUE(fake.create_network({}));
    auto booted = fake.boot(spec_for("web"));
    ASSERT_FALSE(booted);
    EXPECT_EQ(booted.error().message(), "member web was not reserved");
}

TEST_F(FakeBackendTest, BootRunsAStandInThatStopKills) {
    FakeBackend fake(options());
    auto booted = boot(fake, spec_for("web"));
    EXPECT_EQ(booted.ip, "203.0.113.2");
    ASSERT_GT(booted.qemu_pid, 0);
    EXPECT_FALSE(process_gone(booted.qemu_pid));
    EXPECT_EQ(fake.status("web")->state, proto::MemberState::Running);
    EXPECT_EQ(fake.status("web")->qemu_pid, booted.qemu_pid);
    EXPECT_EQ(fake.active_members(), 1);

    ASSERT_TRUE(fake.stop("web"));
    EXPECT_TRUE(process_gone(booted.qemu_pid)); // stop returns once the process is gone
    EXPECT_EQ(fake.status("web")->state, proto::MemberState::Stopped);
    EXPECT_EQ(fake.status("web")->qemu_pid, 0);
    EXPECT_EQ(fake.active_members(), 0);
    EXPECT_TRUE(fake.stop("web")); // stopping a stopped member is success
    EXPECT_EQ(fake.status("nobody")->state, proto::MemberState::Stopped);
}

TEST_F(FakeBackendTest, SecondBootOfARunningMemberIsBusy) {
    FakeBackend fake(options());
    auto first = boot(fake, spec_for("web"));
    auto second = fake.boot(spec_for("web"));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, ErrorKind::Busy);
    EXPECT_EQ(second.error().message(), "member web is already running");
    EXPECT_EQ(fake.status("web")->qemu_pid, first.qemu_pid);
    // After a stop the member boots again, with a new stand-in.
    ASSERT_TRUE(fake.stop("web"));
    auto third = fake.boot(spec_for("web"));
    ASSERT_TRUE(third);
    EXPECT_NE(third->qemu_pid, first.qemu_pid);
}

TEST_F(FakeBackendTest, InjectedBootFailureLeavesTheMemberInError) {
    FakeBackend fake(options(0, "web"));
    ASSERT_TRUE(fake.create_network({}));
    ASSERT_TRUE(fake.reserve("web", ""));
    auto booted = fake.boot(spec_for("web"));
    ASSERT_FALSE(booted);
    EXPECT_EQ(booted.error().kind, ErrorKind::ExternalCommand);
    auto status = fake.status("web");
    EXPECT_EQ(status->state, proto::MemberState::Error);
    EXPECT_NE(status->error.find("FLEETBOX_FAKE_FAIL_BOOT"), std::string::npos);
    EXPECT_EQ(fake.active_members(), 0);
}

TEST_F(FakeBackendTest, StopDuringBootCancelsItAndLeavesNoProcess) {
    FakeBackend fake(options(60000));
    ASSERT_TRUE(fake.create_network({}));
    ASSERT_TRUE(fake.reserve("web", ""));
    Result<proto::Booted> booted = fail(ErrorKind::Internal, "not run");
    std::thread booting([&] { booted = fake.boot(spec_for("web")); });
    pid_t standin = 0;
    for (int i = 0; i < 500 && standin == 0; ++i) {
        standin = fake.status("web")->qemu_pid;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GT(standin, 0);
    EXPECT_EQ(fake.status("web")->state, proto::MemberState::Starting);
    ASSERT_TRUE(fake.stop("web"));
    booting.join();
    ASSERT_FALSE(booted);
    EXPECT_EQ(booted.error().message(), "member web was stopped during boot");
    EXPECT_TRUE(process_gone(standin));
    EXPECT_EQ(fake.status("web")->state, proto::MemberState::Stopped);
}

TEST_F(FakeBackendTest, ShutdownStopsEverythingAndRefusesLaterBoots) {
    FakeBackend fake(options());
    auto a = boot(fake, spec_for("web-1"));
    ASSERT_TRUE(fake.reserve("web-2", ""));
    auto b = fake.boot(spec_for("web-2"));
    ASSERT_TRUE(b);
    ASSERT_TRUE(fake.shutdown());
    EXPECT_TRUE(process_gone(a.qemu_pid));
    EXPECT_TRUE(process_gone(b->qemu_pid));
    EXPECT_EQ(fake.active_members(), 0);
    EXPECT_FALSE(fake.boot(spec_for("web-1")));
    EXPECT_TRUE(fake.shutdown()); // idempotent
}

TEST_F(FakeBackendTest, DestructorKillsStandIns) {
    pid_t standin = 0;
    {
        FakeBackend fake(options());
        standin = boot(fake, spec_for("web")).qemu_pid;
        EXPECT_FALSE(process_gone(standin));
    }
    EXPECT_TRUE(process_gone(standin));
}

TEST_F(FakeBackendTest, RecordsOneJsonLinePerCall) {
    FakeBackend fake(options());
    boot(fake, spec_for("web"));
    ASSERT_TRUE(fake.status("web"));
    ASSERT_TRUE(fake.stop("web"));
    std::vector<std::string> calls;
    for (const auto& c : recorded())
        calls.push_back(c.value("call", "") + ":" + c.value("name", ""));
    EXPECT_EQ(join(calls, " "), "create_network: reserve:web boot:web status:web stop:web");
}

TEST_F(FakeBackendTest, OptionsComeFromTheEnvironment) {
    ScopedEnv delay("FLEETBOX_FAKE_BOOT_DELAY_MS", "250");
    ScopedEnv failing("FLEETBOX_FAKE_FAIL_BOOT", "db");
    auto o = FakeOptions::from_env();
    EXPECT_EQ(o.boot_delay_ms, 250);
    EXPECT_EQ(o.fail_boot, "db");
    EXPECT_EQ(o.record_path, scratch_.file("record"));
}

} // namespace
} // namespace fleetbox::test
