// Component tests: how QemuVm::launch fails and how its QEMU dies with its parent.
// - a missing kernel: QEMU exits during start; the error quotes QEMU's own message;
// - a missing QEMU binary: MissingDependency naming the Debian package;
// - under TCG the guest kernel gets the host TSC rate (tsc_early_khz=), unless turned off;
// - PR_SET_PDEATHSIG: when the process that launched QEMU exits, QEMU is SIGKILLed.
#include "component/vm/fake_guest.hpp"
#include "support/process_helpers.hpp"
#include "sys/fs.hpp"
#include "vm/qemu_vm.hpp"

#include <algorithm>
#include <csignal>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

class QemuVmLaunch : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_program(kQemuProgram).empty())
            GTEST_SKIP() << "qemu-system-x86_64 not installed";
    }
    test::ScratchDir dir;
};

TEST_F(QemuVmLaunch, MissingKernelQuotesQemusMessage) {
    auto config = test::fake_vm_config(dir, false);
    config.kernel = dir.file("no-such-vmlinuz");
    auto vm = QemuVm::launch(config);
    ASSERT_FALSE(vm);
    const Error& e = vm.error();
    EXPECT_EQ(e.kind, ErrorKind::ExternalCommand);
    EXPECT_THAT(e.message(), HasSubstr("start QEMU for fake-1"));
    EXPECT_THAT(e.message(), HasSubstr("QEMU exited during start (exited with status 1)"));
    EXPECT_THAT(e.message(), HasSubstr("could not open kernel file"));
    EXPECT_THAT(e.message(), HasSubstr("no-such-vmlinuz"));
    EXPECT_THAT(e.hint, HasSubstr(dir.file("qemu.log")));
}

TEST_F(QemuVmLaunch, BadDiskIsReportedFromQemusStderr) {
    auto config = test::fake_vm_config(dir, false);
    config.disk = dir.file("missing.qcow2");
    LaunchOptions options;
    options.qemu_log = dir.file("logs-qemu.txt");
    auto vm = QemuVm::launch(config, options);
    ASSERT_FALSE(vm);
    EXPECT_THAT(vm.error().message(), HasSubstr("missing.qcow2"));
    EXPECT_THAT(vm.error().hint, HasSubstr("logs-qemu.txt"));
    EXPECT_THAT(test::read_text(dir.file("logs-qemu.txt")), HasSubstr("missing.qcow2"));
}

TEST_F(QemuVmLaunch, MissingBinaryNamesThePackage) {
    LaunchOptions options;
    options.program = "qemu-system-fbx-does-not-exist";
    auto vm = QemuVm::launch(test::fake_vm_config(dir, false), options);
    ASSERT_FALSE(vm);
    EXPECT_EQ(vm.error().kind, ErrorKind::MissingDependency);
    EXPECT_EQ(vm.error().hint, "apt-get install qemu-system-x86");
}

TEST_F(QemuVmLaunch, NoQmpSocketIsRejected) {
    auto config = test::fake_vm_config(dir, false);
    config.qmp_socket.clear();
    auto vm = QemuVm::launch(config);
    ASSERT_FALSE(vm);
    EXPECT_EQ(vm.error().kind, ErrorKind::InvalidArgument);
}

// QEMU's command line, as the kernel recorded it.
std::string proc_cmdline(pid_t pid) {
    std::string raw = test::read_text("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(raw.begin(), raw.end(), '\0', ' ');
    return raw;
}

TEST_F(QemuVmLaunch, TcgGuestGetsTheHostTscPinned) {
    auto vm = QemuVm::launch(test::fake_vm_config(dir, true));
    ASSERT_TRUE(vm) << vm.error().message();
    EXPECT_THAT(proc_cmdline(vm->pid()), HasSubstr(" tsc_early_khz="));
    EXPECT_THAT(proc_cmdline(vm->pid()), HasSubstr(" tsc=reliable"));
    EXPECT_NE(vm->config().tsc_khz, 0ul);
}

TEST_F(QemuVmLaunch, TscPinCanBeTurnedOff) {
    LaunchOptions options;
    options.pin_tsc = false;
    auto vm = QemuVm::launch(test::fake_vm_config(dir, true), options);
    ASSERT_TRUE(vm) << vm.error().message();
    EXPECT_THAT(proc_cmdline(vm->pid()), Not(HasSubstr("tsc_early_khz")));
}

TEST_F(QemuVmLaunch, QemuDiesWithTheProcessThatLaunchedIt) {
    test::Subreaper subreaper; // the orphaned QEMU is reparented to us, so we can reap it
    ASSERT_TRUE(subreaper.ok());
    auto config = test::fake_vm_config(dir, false);
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t middle = ::fork();
    ASSERT_GE(middle, 0);
    if (middle == 0) {
        ::close(pipefd[0]);
        auto vm = QemuVm::launch(config);
        pid_t qemu = vm ? vm->pid() : -1;
        (void)!::write(pipefd[1], &qemu, sizeof qemu);
        ::_exit(0); // no destructors: only PR_SET_PDEATHSIG can end QEMU now
    }
    ::close(pipefd[1]);
    pid_t qemu = -1;
    ASSERT_EQ(::read(pipefd[0], &qemu, sizeof qemu), static_cast<ssize_t>(sizeof qemu));
    ::close(pipefd[0]);
    ASSERT_TRUE(test::reap_within(middle).has_value());
    ASSERT_GT(qemu, 0) << "launch failed in the intermediate process";
    auto status = test::reap_within(qemu, 20s);
    if (!status)
        test::kill_and_reap(qemu);
    ASSERT_TRUE(status.has_value()) << "QEMU outlived the process that launched it";
    EXPECT_TRUE(WIFSIGNALED(*status));
    EXPECT_EQ(WTERMSIG(*status), SIGKILL);
}

} // namespace
} // namespace fleetbox
