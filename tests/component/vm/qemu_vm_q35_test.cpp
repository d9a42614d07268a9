// Component tests: the q35 machine stock cloud images boot on (ADR 0024), with real QEMU and
// stand-in guests, so the argv is proven against QEMU itself, not only against the unit
// tests' expectations:
// - direct kernel boot on q35 (SeaBIOS's linuxboot ROM, virtio-pci root, seed and fixture
//   disks): the fake kernel runs and prints, the watchdog is satisfied, QMP answers;
// - firmware boot: no kernel at all; SeaBIOS boots the root disk (a qcow2 overlay whose
//   first sector is a boot sector that prints and halts), which proves that the root disk is
//   the boot device and that nothing else (the NIC's ROM, the seed) is tried first.
// Nothing answers on the network; nothing here asserts wall-clock durations.
#include "component/vm/fake_guest.hpp"
#include "support/loopback_port.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"
#include "vm/qemu_vm.hpp"

#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <thread>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// A 1 MiB raw disk whose MBR prints "FBXBOOT\n" on COM1 and halts (16-bit real mode, loaded
// at 0x7c00 by the BIOS), converted to a qcow2 with no backing (QemuConfig::disk is qcow2).
std::string boot_sector_disk(const test::ScratchDir& dir, const std::string& name) {
    std::vector<std::uint8_t> disk(1 << 20, 0);
    std::vector<std::uint8_t> code = {0xba, 0xf8, 0x03}; // mov dx, 0x3f8
    for (char c : std::string("FBXBOOT\n"))
        code.insert(code.end(), {0xb0, static_cast<std::uint8_t>(c), 0xee}); // mov al,c; out
    code.insert(code.end(), {0xfa, 0xf4, 0xeb, 0xfd});                       // cli; hlt; jmp
    std::copy(code.begin(), code.end(), disk.begin());
    disk[510] = 0x55, disk[511] = 0xaa;
    const std::string raw = dir.file(name + ".raw");
    std::ofstream(raw, std::ios::binary)
        .write(reinterpret_cast<const char*>(disk.data()),
               static_cast<std::streamsize>(disk.size()));
    ChildSpec convert;
    convert.argv = {
        "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, dir.file(name + ".qcow2")};
    auto done = run_checked(convert, 30s);
    EXPECT_TRUE(done) << done.error().message();
    return dir.file(name + ".qcow2");
}

// serial.log once it holds `text` (bounded), or what it held at the end.
std::string wait_for_serial(const std::string& path, const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + 120s;
    std::string log;
    while (std::chrono::steady_clock::now() < deadline) {
        log = read_file(path).value_or("");
        if (log.find(text) != std::string::npos)
            break;
        std::this_thread::sleep_for(100ms);
    }
    return log;
}

class QemuVmQ35 : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_program(kQemuProgram).empty() || find_program("qemu-img").empty())
            GTEST_SKIP() << "qemu-system-x86_64 or qemu-img not installed";
    }
    test::ScratchDir dir;
};

TEST_F(QemuVmQ35, DirectKernelBootWithVirtioPciDisks) {
    auto config = test::fake_vm_config(dir, true);
    config.machine = Machine::Q35;
    config.kernel_root = "UUID=0b4c2a8e-3f1d-4c55-9d0e-6a7b8c9d0e1f";
    config.disk = boot_sector_disk(dir, "root"); // attached, never booted: -kernel wins
    test::write_text(dir.file("seed.iso"), std::string(4096, '\0'));
    config.seed = dir.file("seed.iso");
    test::write_text(dir.file("fixture-0.img"), std::string(4096, '\0'));
    config.fixtures = {dir.file("fixture-0.img")};
    auto vm = QemuVm::launch(config);
    ASSERT_TRUE(vm) << vm.error().message();
    std::string log = wait_for_serial(config.serial_log, "X\n");
    EXPECT_THAT(log, HasSubstr("X\n")) << "the fake kernel never ran";
    EXPECT_THAT(log, Not(HasSubstr("FBXBOOT"))) << "the disk was booted instead of the kernel";
    ASSERT_NE(vm->qmp(), nullptr);
    auto status = vm->qmp()->execute("query-status");
    EXPECT_TRUE(status) << status.error().message();
    auto stopped = vm->stop(500ms); // the fake guest ignores ACPI: quit ends it
    ASSERT_TRUE(stopped) << stopped.error().message();
    EXPECT_FALSE(vm->running());
}

TEST_F(QemuVmQ35, FirmwareBootStartsTheRootDisk) {
    QemuConfig config;
    config.name = "fw-1";
    config.machine = Machine::Q35;
    config.firmware_boot = true;
    config.disk = boot_sector_disk(dir, "root");
    test::write_text(dir.file("seed.iso"), std::string(4096, '\0'));
    config.seed = dir.file("seed.iso");
    config.cpus = 1;
    config.memory_mb = 128;
    config.serial_log = dir.file("serial.log");
    config.qmp_socket = dir.file("qmp.sock");
    LaunchOptions options;
    options.max_relaunches = 0;
    auto vm = QemuVm::launch(config, options);
    ASSERT_TRUE(vm) << vm.error().message();
    std::string log = wait_for_serial(config.serial_log, "FBXBOOT\n");
    EXPECT_THAT(log, HasSubstr("FBXBOOT\n")) << "SeaBIOS did not boot the root disk";
    // The boot wait sees console output: the watchdog never fires on a firmware boot.
    test::LoopbackPort closed(test::LoopbackPort::Mode::Refusing);
    auto boot = vm->wait_until_reachable("127.0.0.1", closed.port(), 2s);
    ASSERT_FALSE(boot);
    EXPECT_EQ(boot.error().kind, ErrorKind::Timeout);
    EXPECT_THAT(boot.error().message(), HasSubstr("not reachable after"));
    EXPECT_EQ(vm->report().attempts, 1);
    auto stopped = vm->stop(500ms);
    ASSERT_TRUE(stopped) << stopped.error().message();
}

} // namespace
} // namespace fleetbox
