// Component: `fleetbox down` ends a member in any state. A member whose VM process died under
// its detached helper (here the fake's stand-in, killed as a crashed QEMU would be) reads as
// "error"; `down` still sends the helper a stop, which cleans the member up, and the helper,
// left with nothing running, exits, so the user is never stuck with a helper `down` cannot
// end. Real CLI, fake helper, private netns.
#include "client/helper_client.hpp"
#include "component/cli/fake_cli_fixture.hpp"
#include "e2e/vm/e2e_fixture.hpp"
#include "store/store.hpp"

#include <csignal>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

class DownAnyState : public FakeHelperCli {};

TEST_F(DownAnyState, DownEndsAnErroredMemberAndItsHelperExits) {
    ASSERT_NO_FATAL_FAILURE(make_standin_image(root(), true));
    auto helper = spawn_detached_fake("web-1");
    ASSERT_TRUE(helper) << helper.error().message();
    auto s = Store::open(root()).value();
    auto remote = client::HelperClient::connect(
        s, "web-1", client::HelperClientOptions{std::chrono::seconds(10)});
    ASSERT_TRUE(remote) << remote.error().message();
    ASSERT_TRUE((*remote)->create_network({"web", "", {}}));
    auto reserved = (*remote)->reserve("web-1", "");
    ASSERT_TRUE(reserved) << reserved.error().message();
    VmConfig c = new_vm_config("web-1", 1, 512, 1024, "debian-12");
    c.ip = reserved->ip;
    c.cluster = "web";
    c.provisioning = kMethodFleetboxSeed;
    ASSERT_TRUE(s.create(c));
    proto::BootSpec boot = standin_boot(s, "web-1");
    auto booted = (*remote)->boot(boot);
    ASSERT_TRUE(booted) << booted.error().message();

    // The VM process dies under the helper.
    ASSERT_EQ(::kill(booted->qemu_pid, SIGKILL), 0);
    auto status = (*remote)->status("web-1");
    for (int i = 0; i < 500 && status && status->state != proto::MemberState::Error; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        status = (*remote)->status("web-1");
    }
    ASSERT_TRUE(status) << status.error().message();
    ASSERT_EQ(status->state, proto::MemberState::Error);
    remote->reset();

    auto down = fleetbox({"down", "web-1"});
    EXPECT_EQ(down.code, 0) << down;
    EXPECT_THAT(down.out, HasSubstr("Stopping web-1...")) << down;
    std::vector<std::string> stopped;
    for (const auto& j : calls("stop"))
        stopped.push_back(j.value("name", ""));
    EXPECT_THAT(stopped, Contains("web-1"));
    auto exited = helper->wait(std::chrono::seconds(20));
    EXPECT_TRUE(exited) << "the helper of an errored member outlived `down`";
    auto ls = fleetbox({"ls", "-o", "json"});
    EXPECT_EQ(ls.code, 0) << ls;
    EXPECT_THAT(ls.out, HasSubstr("\"state\": \"stopped\"")) << ls;
}

} // namespace
} // namespace fleetbox::test
