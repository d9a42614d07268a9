// Unit tests for vm/qemu_command: the flags each configuration must produce (TCG vs KVM,
// microvm vs q35 devices, read-only seed, tap and MAC, serial file, QMP socket, escaping).
#include "vm/qemu_command.hpp"

#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

QemuConfig sample() {
    QemuConfig c;
    c.name = "web-1";
    c.kernel = "/m/vmlinuz";
    c.initrd = "/m/initrd.img";
    c.disk = "/m/disk.qcow2";
    c.seed = "/m/seed.iso";
    c.tap = "fbt0";
    c.mac = "52:54:00:12:34:56";
    c.cpus = 2;
    c.memory_mb = 768;
    c.serial_log = "/m/serial.log";
    c.qmp_socket = "/m/qmp.sock";
    return c;
}

// The value following `flag` (first occurrence), or "" when absent.
std::string value_of(const std::vector<std::string>& argv, const std::string& flag) {
    auto it = std::find(argv.begin(), argv.end(), flag);
    return it == argv.end() || it + 1 == argv.end() ? std::string() : *(it + 1);
}

// Every value following `flag`.
std::vector<std::string> values_of(const std::vector<std::string>& argv, const std::string& flag) {
    std::vector<std::string> out;
    for (size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == flag)
            out.push_back(argv[i + 1]);
    return out;
}

TEST(QemuCommand, TcgUsesMultiThreadedTcgWithSmallTranslationCacheAndCpuMax) {
    auto argv = qemu_argv(sample());
    EXPECT_EQ(argv[0], "qemu-system-x86_64");
    EXPECT_EQ(value_of(argv, "-accel"), "tcg,thread=multi,tb-size=256");
    EXPECT_EQ(value_of(argv, "-cpu"), "max");
}

TEST(QemuCommand, KvmUsesHostCpuAndNoTbSize) {
    auto c = sample();
    c.accel = AccelChoice::Kvm;
    auto argv = qemu_argv(c);
    EXPECT_EQ(value_of(argv, "-accel"), "kvm");
    EXPECT_EQ(value_of(argv, "-cpu"), "host");
    for (const auto& a : argv)
        EXPECT_THAT(a, Not(HasSubstr("tb-size")));
}

TEST(QemuCommand, MicrovmWithRtcAndAcpiAndVirtioMmioDevices) {
    auto argv = qemu_argv(sample());
    EXPECT_EQ(value_of(argv, "-M"), "microvm,rtc=on,acpi=on");
    EXPECT_THAT(values_of(argv, "-device"), Contains("virtio-blk-device,drive=root"));
    EXPECT_THAT(values_of(argv, "-device"), Contains("virtio-blk-device,drive=seed"));
    EXPECT_THAT(values_of(argv, "-device"),
                Contains("virtio-net-device,netdev=n0,mac=52:54:00:12:34:56"));
}

TEST(QemuCommand, Q35UsesVirtioPci) {
    auto c = sample();
    c.machine = Machine::Q35;
    auto argv = qemu_argv(c);
    EXPECT_EQ(value_of(argv, "-M"), "q35");
    EXPECT_THAT(values_of(argv, "-device"), Contains("virtio-blk-pci,drive=root"));
    EXPECT_THAT(values_of(argv, "-device"),
                Contains("virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56"));
}

TEST(QemuCommand, RootOverlayFirstThenReadOnlySeed) {
    auto drives = values_of(qemu_argv(sample()), "-drive");
    ASSERT_EQ(drives.size(), 2u);
    EXPECT_EQ(drives[0], "id=root,file=/m/disk.qcow2,format=qcow2,if=none"); // becomes /dev/vda
    EXPECT_EQ(drives[1], "id=seed,file=/m/seed.iso,format=raw,if=none,readonly=on");
    EXPECT_THAT(drives[0], Not(HasSubstr("readonly")));
}

TEST(QemuCommand, TapNicWithoutScripts) {
    auto argv = qemu_argv(sample());
    EXPECT_EQ(value_of(argv, "-netdev"), "tap,id=n0,ifname=fbt0,script=no,downscript=no");
}

TEST(QemuCommand, SizesSerialQmpAndNoDefaults) {
    auto argv = qemu_argv(sample());
    EXPECT_EQ(value_of(argv, "-smp"), "2");
    EXPECT_EQ(value_of(argv, "-m"), "768");
    EXPECT_THAT(argv, Contains("-nodefaults"));
    EXPECT_THAT(argv, Contains("-no-user-config"));
    EXPECT_EQ(value_of(argv, "-display"), "none");
    EXPECT_THAT(argv, Not(Contains("-nographic")));
    auto chardevs = values_of(argv, "-chardev");
    EXPECT_THAT(chardevs, Contains("file,id=serial0,path=/m/serial.log,append=on"));
    EXPECT_THAT(chardevs, Contains("socket,id=qmp,path=/m/qmp.sock,server=on,wait=off"));
    EXPECT_EQ(value_of(argv, "-serial"), "chardev:serial0");
    EXPECT_EQ(value_of(argv, "-mon"), "chardev=qmp,mode=control");
    EXPECT_EQ(value_of(argv, "-name"), "guest=web-1");
}

TEST(QemuCommand, DirectKernelBootWithDefaultCmdline) {
    auto c = sample();
    c.cmdline_extra = "net.ifnames=0";
    auto argv = qemu_argv(c);
    EXPECT_EQ(value_of(argv, "-kernel"), "/m/vmlinuz");
    EXPECT_EQ(value_of(argv, "-initrd"), "/m/initrd.img");
    std::string append = value_of(argv, "-append");
    EXPECT_THAT(append, HasSubstr("console=ttyS0"));
    EXPECT_THAT(append, HasSubstr("root=/dev/vda rw"));
    EXPECT_THAT(append, HasSubstr("quiet"));
    EXPECT_THAT(append, testing::EndsWith(" net.ifnames=0"));
    EXPECT_EQ(append, kernel_cmdline(c));
}

// How the guest is configured is the image's business (its manifest's words, passed as
// cmdline_extra): the base line masks nothing.
TEST(QemuCommand, BaseCmdlineOnlyBootsTheKernel) {
    auto c = sample();
    EXPECT_EQ(kernel_cmdline(c), "console=ttyS0 root=/dev/vda rw quiet");
    EXPECT_THAT(kernel_cmdline(c), Not(HasSubstr("cloud")));
    EXPECT_THAT(kernel_cmdline(c), Not(HasSubstr("systemd.mask")));
    c.accel = AccelChoice::Kvm;
    EXPECT_EQ(kernel_cmdline(c), "console=ttyS0 root=/dev/vda rw quiet");
}

TEST(QemuCommand, CmdlineExtraIsAppendedAfterTheBaseAndTheTscPin) {
    auto c = sample();
    c.cmdline_extra = "systemd.mask=cloud-config.service systemd.mask=cloud-final.service";
    EXPECT_EQ(kernel_cmdline(c),
              "console=ttyS0 root=/dev/vda rw quiet systemd.mask=cloud-config.service "
              "systemd.mask=cloud-final.service");
    c.cmdline_extra = "fleetbox.seed=/dev/vdb cloud-init=disabled";
    c.tsc_khz = 2095991;
    EXPECT_EQ(kernel_cmdline(c),
              "console=ttyS0 root=/dev/vda rw quiet tsc_early_khz=2095991 tsc=reliable "
              "fleetbox.seed=/dev/vdb cloud-init=disabled");
    EXPECT_EQ(value_of(qemu_argv(c), "-append"), kernel_cmdline(c));
}

TEST(QemuCommand, TscIsPinnedUnderTcgOnly) {
    auto c = sample();
    EXPECT_THAT(kernel_cmdline(c), Not(HasSubstr("tsc"))); // 0: not pinned
    c.tsc_khz = 2095991;
    c.cmdline_extra = "x=1";
    EXPECT_THAT(value_of(qemu_argv(c), "-append"),
                HasSubstr(" tsc_early_khz=2095991 tsc=reliable x=1"));
    c.accel = AccelChoice::Kvm; // kvm-clock: no pin
    EXPECT_THAT(kernel_cmdline(c), Not(HasSubstr("tsc")));
}

TEST(QemuCommand, OptionalPartsAreLeftOut) {
    QemuConfig c;
    c.qmp_socket = "/m/q.sock";
    auto argv = qemu_argv(c);
    EXPECT_THAT(argv, Not(Contains("-drive")));
    EXPECT_THAT(argv, Not(Contains("-netdev")));
    EXPECT_THAT(argv, Not(Contains("-serial")));
    EXPECT_THAT(argv, Not(Contains("-kernel")));
    EXPECT_THAT(argv, Not(Contains("-append")));
    EXPECT_THAT(argv, Contains("-mon"));
}

TEST(QemuCommand, CommasInPathsAreDoubled) {
    auto c = sample();
    c.disk = "/a,b/disk.qcow2";
    c.serial_log = "/a,b/serial.log";
    auto argv = qemu_argv(c);
    EXPECT_EQ(values_of(argv, "-drive")[0], "id=root,file=/a,,b/disk.qcow2,format=qcow2,if=none");
    EXPECT_THAT(values_of(argv, "-chardev"),
                Contains("file,id=serial0,path=/a,,b/serial.log,append=on"));
    EXPECT_EQ(qemu_opt_escape("x,,y"), "x,,,,y");
}

TEST(QemuCommand, ExtraArgsComeLast) {
    auto c = sample();
    c.extra_args = {"-S"};
    auto argv = qemu_argv(c);
    EXPECT_EQ(argv.back(), "-S");
}

} // namespace
} // namespace fleetbox
