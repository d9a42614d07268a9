// Component tests: QemuVm + Qmp against a real qemu-system-x86_64 (microvm, TCG, fake kernel,
// no disks, no network). Covers the QMP handshake and query-status on a live QEMU, and the stop
// ladder: a paused guest ignores the ACPI power button, so stop() must fall through to QMP
// quit and still return only once QEMU has been reaped.
#include "component/vm/fake_guest.hpp"
#include "support/process_helpers.hpp"
#include "sys/fs.hpp"
#include "vm/qemu_vm.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

class QemuVmQmp : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_program(kQemuProgram).empty())
            GTEST_SKIP() << "qemu-system-x86_64 not installed";
    }
    test::ScratchDir dir;
};

TEST_F(QemuVmQmp, PausedVmAnswersQmp) {
    auto config = test::fake_vm_config(dir, false);
    config.extra_args = {"-S"};
    auto vm = QemuVm::launch(config);
    ASSERT_TRUE(vm) << vm.error().message();
    EXPECT_TRUE(vm->running());
    EXPECT_GT(vm->pid(), 0);
    ASSERT_NE(vm->qmp(), nullptr);
    EXPECT_THAT(vm->qmp()->qemu_version(), StartsWith("7."));
    auto status = vm->qmp()->query_status();
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_EQ(*status, "prelaunch");
    auto bogus = vm->qmp()->execute("no-such-command");
    ASSERT_FALSE(bogus);
    EXPECT_THAT(bogus.error().message(), HasSubstr("CommandNotFound"));
    EXPECT_EQ(vm->report().attempts, 1);
    EXPECT_TRUE(path_exists(dir.file("qemu.log"))); // default: beside serial.log
}

TEST_F(QemuVmQmp, RunningGuestReportsRunning) {
    auto vm = QemuVm::launch(test::fake_vm_config(dir, true));
    ASSERT_TRUE(vm) << vm.error().message();
    auto status = vm->qmp()->query_status();
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_EQ(*status, "running");
}

TEST_F(QemuVmQmp, StopOnPausedVmFallsThroughPowerdownToQuit) {
    auto config = test::fake_vm_config(dir, false);
    config.extra_args = {"-S"};
    auto vm = QemuVm::launch(config);
    ASSERT_TRUE(vm) << vm.error().message();
    pid_t pid = vm->pid();
    auto stopped = vm->stop(1s);
    ASSERT_TRUE(stopped) << stopped.error().message();
    EXPECT_EQ(stopped->step, StopReport::Step::Quit);
    EXPECT_EQ(to_string(stopped->step), "quit");
    EXPECT_TRUE(stopped->status.ok()) << stopped->status.describe(); // quit exits with status 0
    EXPECT_FALSE(vm->running());
    EXPECT_FALSE(test::proc_exists(pid));         // reaped: confirmed down
    EXPECT_FALSE(path_exists(config.qmp_socket)); // QEMU removes its socket on a clean exit
}

TEST_F(QemuVmQmp, StopWhenAlreadyDown) {
    auto vm = QemuVm::launch(test::fake_vm_config(dir, true));
    ASSERT_TRUE(vm) << vm.error().message();
    ASSERT_TRUE(vm->qmp()->quit());
    ASSERT_TRUE(test::eventually([&] { return !vm->running(); }));
    auto stopped = vm->stop(1s);
    ASSERT_TRUE(stopped) << stopped.error().message();
    EXPECT_EQ(stopped->step, StopReport::Step::AlreadyDown);
}

TEST_F(QemuVmQmp, StopEscalatesToSigkillWhenQemuIsUnresponsive) {
    LaunchOptions options;
    options.stop_step_timeout = 300ms;
    auto vm = QemuVm::launch(test::fake_vm_config(dir, true), options);
    ASSERT_TRUE(vm) << vm.error().message();
    pid_t pid = vm->pid();
    // A stopped process answers no QMP command and does not act on SIGTERM; SIGKILL still works.
    ASSERT_EQ(::kill(pid, SIGSTOP), 0);
    auto stopped = vm->stop(200ms);
    ASSERT_TRUE(stopped) << stopped.error().message();
    EXPECT_EQ(stopped->step, StopReport::Step::Killed);
    EXPECT_EQ(stopped->status.signal, SIGKILL);
    EXPECT_FALSE(vm->running());
    EXPECT_FALSE(test::proc_exists(pid));
}

} // namespace
} // namespace fleetbox
