// Component: `fleetbox logs NAME -f` keeps following serial.log when the helper's log cap
// truncates it in place (the new lines start at offset 0 again) and when a new boot replaces
// the file, instead of waiting forever past the old end. Real CLI, scratch store; output is
// polled with a generous bound, never timed.
#include "component/cli/fake_cli_fixture.hpp"
#include "e2e/vm/e2e_fixture.hpp"
#include "store/store.hpp"
#include "sys/fd.hpp"

#include <csignal>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <thread>
#include <unistd.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;

class LogsFollow : public FakeHelperCli {};

bool wait_for_output(const ChildProcess& child, const std::string& text) {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (child.captured_stdout().find(text) == std::string::npos) {
        if (std::chrono::steady_clock::now() > give_up)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

TEST_F(LogsFollow, FollowsTheSerialLogAcrossItsCapAndANewBoot) {
    auto s = Store::open(root()).value();
    ASSERT_TRUE(s.create(new_vm_config("web", 1, 512, 1024, "debian-12")));
    const std::string log = s.member_dir("web").value() + "/serial.log";
    write_text(log, "the first boot's line\n");

    ChildSpec spec;
    spec.argv = {built("tools/fleetbox/fleetbox"), "logs", "web", "-f"};
    spec.env_set = {"FLEETBOX_HOME=" + root()};
    spec.out = spec.err = Stream::Capture;
    auto child = ChildProcess::spawn(spec);
    ASSERT_TRUE(child) << child.error().message();
    ASSERT_TRUE(wait_for_output(*child, "the first boot's line\n")) << child->captured_stderr();

    // The cap: truncated in place, QEMU appends at the new end.
    {
        Fd fd(::open(log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
        ASSERT_TRUE(fd);
        ASSERT_EQ(::ftruncate(fd.get(), 0), 0);
        const std::string line = "a line after the cap\n";
        ASSERT_EQ(::write(fd.get(), line.data(), line.size()), static_cast<ssize_t>(line.size()));
    }
    EXPECT_TRUE(wait_for_output(*child, "a line after the cap\n")) << child->captured_stdout();

    // A new boot: serial.log removed and written anew.
    ASSERT_EQ(::unlink(log.c_str()), 0);
    write_text(log, "the next boot's line\n");
    EXPECT_TRUE(wait_for_output(*child, "the next boot's line\n")) << child->captured_stdout();

    ASSERT_TRUE(child->signal(SIGINT));
    auto ended = child->wait(std::chrono::seconds(30));
    EXPECT_TRUE(ended) << "logs -f did not end on Ctrl-C";
}

} // namespace
} // namespace fleetbox::test
