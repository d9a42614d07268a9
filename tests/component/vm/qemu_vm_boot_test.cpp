// Component tests: QemuVm::wait_until_reachable with real QEMU and fake kernels.
// - a guest that prints nothing looks like the early-boot TSC hang: the watchdog must kill
//   and relaunch it max_relaunches times, then fail with every attempt recorded;
// - a guest that prints satisfies the watchdog: the wait runs into its own timeout instead;
// - QEMU exiting during the wait is reported as such, pointing at serial.log;
// - a port that accepts connections ends the wait with a report.
// Bounds are shortened through LaunchOptions; nothing here asserts wall-clock durations.
#include "component/vm/fake_guest.hpp"
#include "support/loopback_port.hpp"
#include "support/process_helpers.hpp"
#include "sys/fs.hpp"
#include "vm/qemu_vm.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

using test::LoopbackPort;

class QemuVmBoot : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_program(kQemuProgram).empty())
            GTEST_SKIP() << "qemu-system-x86_64 not installed";
    }
    test::ScratchDir dir;
};

TEST_F(QemuVmBoot, WatchdogRelaunchesSilentGuestTwiceThenGivesUp) {
    LoopbackPort closed(LoopbackPort::Mode::Refusing);
    LaunchOptions options;
    options.watchdog = 1500ms;
    options.max_relaunches = 2;
    auto vm = QemuVm::launch(test::fake_vm_config(dir, false), options);
    ASSERT_TRUE(vm) << vm.error().message();
    pid_t first_pid = vm->pid();
    auto boot = vm->wait_until_reachable("127.0.0.1", closed.port(), 120s);
    ASSERT_FALSE(boot);
    EXPECT_EQ(boot.error().kind, ErrorKind::Timeout);
    EXPECT_THAT(boot.error().message(), HasSubstr("boot fake-1"));
    EXPECT_THAT(boot.error().message(), HasSubstr("no output on the serial console"));
    EXPECT_THAT(boot.error().message(), HasSubstr("in 3 attempts"));
    EXPECT_THAT(boot.error().hint, HasSubstr("serial.log"));
    EXPECT_EQ(vm->report().attempts, 3);
    ASSERT_EQ(vm->report().retries.size(), 2u);
    EXPECT_THAT(vm->report().retries[0], HasSubstr("attempt 1"));
    EXPECT_THAT(vm->report().retries[1], HasSubstr("attempt 2"));
    EXPECT_FALSE(vm->running()); // the last hung QEMU is killed too
    EXPECT_FALSE(test::proc_exists(first_pid));
    std::string log = test::read_text(dir.file("qemu.log"));
    EXPECT_THAT(log, HasSubstr("relaunching QEMU (attempt 2)"));
    EXPECT_THAT(log, HasSubstr("relaunching QEMU (attempt 3)"));
}

TEST_F(QemuVmBoot, GuestThatPrintsSatisfiesTheWatchdogAndTimesOut) {
    LoopbackPort closed(LoopbackPort::Mode::Refusing);
    LaunchOptions options;
    options.watchdog = 1s;
    auto vm = QemuVm::launch(test::fake_vm_config(dir, true), options);
    ASSERT_TRUE(vm) << vm.error().message();
    auto boot = vm->wait_until_reachable("127.0.0.1", closed.port(), 4s);
    ASSERT_FALSE(boot);
    EXPECT_EQ(boot.error().kind, ErrorKind::Timeout);
    EXPECT_THAT(boot.error().message(),
                HasSubstr(fmt::format("127.0.0.1:{} not reachable", closed.port())));
    EXPECT_THAT(boot.error().hint, HasSubstr(dir.file("serial.log")));
    EXPECT_EQ(vm->report().attempts, 1);
    EXPECT_EQ(test::read_text(dir.file("serial.log")), "X\n");
    EXPECT_TRUE(vm->running()); // a plain timeout leaves QEMU to the caller
    auto stopped = vm->stop(500ms);
    ASSERT_TRUE(stopped) << stopped.error().message();
    EXPECT_FALSE(vm->running());
}

TEST_F(QemuVmBoot, QemuExitDuringBootIsReportedWithSerialLog) {
    LoopbackPort closed(LoopbackPort::Mode::Refusing);
    auto vm = QemuVm::launch(test::fake_vm_config(dir, true));
    ASSERT_TRUE(vm) << vm.error().message();
    ASSERT_TRUE(vm->qmp()->quit());
    auto boot = vm->wait_until_reachable("127.0.0.1", closed.port(), 60s);
    ASSERT_FALSE(boot);
    EXPECT_EQ(boot.error().kind, ErrorKind::ExternalCommand);
    EXPECT_THAT(boot.error().message(),
                HasSubstr("boot fake-1: QEMU exited during boot (exited with status 0)"));
    EXPECT_EQ(boot.error().hint, "see " + dir.file("serial.log"));
}

TEST_F(QemuVmBoot, OpenPortEndsTheWaitWithAReport) {
    LoopbackPort open(LoopbackPort::Mode::Listening);
    auto vm = QemuVm::launch(test::fake_vm_config(dir, true));
    ASSERT_TRUE(vm) << vm.error().message();
    auto boot = vm->wait_until_reachable("127.0.0.1", open.port(), 60s);
    ASSERT_TRUE(boot) << boot.error().message();
    EXPECT_EQ(boot->attempts, 1);
    EXPECT_TRUE(boot->retries.empty());
    EXPECT_GT(boot->seconds_to_qemu_started, 0.0);
    EXPECT_GE(boot->seconds_to_port_open, boot->seconds_to_qemu_started);
}

} // namespace
} // namespace fleetbox
