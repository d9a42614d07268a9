// Unit tests for vm/qemu_command: the flags each configuration must produce (TCG vs KVM,
// microvm vs q35 devices, the explicit disk chain and read-only seed, the tap descriptor and
// MAC, serial file, QMP socket, escaping).
#include "vm/qemu_command.hpp"

#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
    c.base_image = "/i/disk.qcow2";
    c.seed = "/m/seed.iso";
    c.tap_fd = 3;
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

// q35 (stock images): ACPI written out (graceful stop), virtio-pci for every disk and the
// NIC, the NIC without an option ROM; the rest (serial, QMP, tap) as on microvm.
TEST(QemuCommand, Q35UsesVirtioPciAcpiAndNoNicRom) {
    auto c = sample();
    c.machine = Machine::Q35;
    auto argv = qemu_argv(c);
    EXPECT_EQ(value_of(argv, "-M"), "q35,acpi=on");
    EXPECT_THAT(values_of(argv, "-device"), Contains("virtio-blk-pci,drive=root"));
    EXPECT_THAT(values_of(argv, "-device"), Contains("virtio-blk-pci,drive=seed"));
    EXPECT_THAT(values_of(argv, "-device"),
                Contains("virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile="));
    for (const auto& d : values_of(argv, "-device"))
        EXPECT_THAT(d, Not(HasSubstr("-device,"))) << "a virtio-mmio device on q35";
    EXPECT_EQ(value_of(argv, "-netdev"), "tap,id=n0,fd=3");
    EXPECT_EQ(value_of(argv, "-serial"), "chardev:serial0");
    EXPECT_EQ(value_of(argv, "-mon"), "chardev=qmp,mode=control");
    EXPECT_EQ(value_of(argv, "-kernel"), "/m/vmlinuz"); // direct kernel boot by default
    EXPECT_THAT(argv, Not(Contains("-boot")));
}

TEST(QemuCommand, MachineNames) {
    EXPECT_EQ(parse_machine(""), Machine::Microvm);
    EXPECT_EQ(parse_machine("microvm"), Machine::Microvm);
    EXPECT_EQ(parse_machine("q35"), Machine::Q35);
    EXPECT_EQ(parse_machine("pc"), std::nullopt);
    EXPECT_EQ(parse_machine("Q35"), std::nullopt);
    for (auto m : {Machine::Microvm, Machine::Q35})
        EXPECT_EQ(parse_machine(to_string(m)), m);
}

// A stock image's kernel finds its real root partition: root= is the image's, the rest of
// the line (console, rw, quiet, the TSC pin, the method's words) is unchanged.
TEST(QemuCommand, KernelRootReplacesTheDefaultRoot) {
    auto c = sample();
    c.machine = Machine::Q35;
    c.kernel_root = "UUID=0b4c2a8e-3f1d-4c55-9d0e-6a7b8c9d0e1f";
    c.tsc_khz = 2095991;
    c.cmdline_extra = "ds=nocloud";
    EXPECT_EQ(kernel_cmdline(c),
              "console=ttyS0 root=UUID=0b4c2a8e-3f1d-4c55-9d0e-6a7b8c9d0e1f rw quiet "
              "tsc_early_khz=2095991 tsc=reliable ds=nocloud");
    EXPECT_EQ(value_of(qemu_argv(c), "-append"), kernel_cmdline(c));
    c.kernel_root = "/dev/vda1";
    EXPECT_THAT(kernel_cmdline(c), HasSubstr(" root=/dev/vda1 rw "));
    EXPECT_THAT(kernel_cmdline(c), Not(HasSubstr("root=/dev/vda ")));
}

// Firmware boot: SeaBIOS boots the root disk (bootindex 0, strict: nothing else), no kernel
// of ours; the seed, fixtures, NIC, serial and QMP stay as they are.
TEST(QemuCommand, FirmwareBootHasNoKernelAndBootsTheRootDisk) {
    auto c = sample();
    c.machine = Machine::Q35;
    c.firmware_boot = true;
    c.kernel_root = "UUID=ignored"; // whatever the kernel fields hold, none is used
    c.fixtures = {"/m/fixture-0.img"};
    auto argv = qemu_argv(c);
    EXPECT_THAT(argv, Not(Contains("-kernel")));
    EXPECT_THAT(argv, Not(Contains("-initrd")));
    EXPECT_THAT(argv, Not(Contains("-append")));
    EXPECT_EQ(value_of(argv, "-boot"), "strict=on");
    auto devices = values_of(argv, "-device");
    EXPECT_THAT(devices, Contains("virtio-blk-pci,drive=root,bootindex=0"));
    EXPECT_THAT(devices, Contains("virtio-blk-pci,drive=seed"));
    EXPECT_THAT(devices, Contains("virtio-blk-pci,drive=fix0,serial=fbxfix0"));
    int bootable = 0;
    for (const auto& d : devices)
        bootable += d.find("bootindex") != std::string::npos ? 1 : 0;
    EXPECT_EQ(bootable, 1);
    EXPECT_EQ(value_of(argv, "-serial"), "chardev:serial0");
    EXPECT_EQ(value_of(argv, "-mon"), "chardev=qmp,mode=control");
    EXPECT_EQ(value_of(argv, "-netdev"), "tap,id=n0,fd=3");
}

TEST(QemuCommand, DirectKernelBootMarksNoBootDevice) {
    for (auto machine : {Machine::Microvm, Machine::Q35}) {
        auto c = sample();
        c.machine = machine;
        for (const auto& d : values_of(qemu_argv(c), "-device"))
            EXPECT_THAT(d, Not(HasSubstr("bootindex")));
    }
}

// Every -blockdev node, parsed, in order.
std::vector<nlohmann::json> blockdevs(const std::vector<std::string>& argv) {
    std::vector<nlohmann::json> nodes;
    for (const auto& value : values_of(argv, "-blockdev"))
        nodes.push_back(nlohmann::json::parse(value));
    return nodes;
}

TEST(QemuCommand, ExplicitDiskChainThenReadOnlySeed) {
    auto argv = qemu_argv(sample());
    EXPECT_THAT(argv, Not(Contains("-drive")));
    auto nodes = blockdevs(argv);
    ASSERT_EQ(nodes.size(), 6u);
    // The base: its file read-only, its qcow2 node read-only and without any backing.
    EXPECT_EQ(nodes[0], nlohmann::json({{"driver", "file"},
                                        {"node-name", "base-file"},
                                        {"filename", "/i/disk.qcow2"},
                                        {"read-only", true}}));
    EXPECT_EQ(nodes[1], nlohmann::json({{"driver", "qcow2"},
                                        {"node-name", "base"},
                                        {"file", "base-file"},
                                        {"read-only", true},
                                        {"backing", nullptr}}));
    // The overlay, backed by exactly that node: the header's backing name is never used.
    EXPECT_EQ(nodes[2], nlohmann::json({{"driver", "file"},
                                        {"node-name", "root-file"},
                                        {"filename", "/m/disk.qcow2"},
                                        {"read-only", false}}));
    EXPECT_EQ(nodes[3], nlohmann::json({{"driver", "qcow2"},
                                        {"node-name", "root"},
                                        {"file", "root-file"},
                                        {"read-only", false},
                                        {"backing", "base"}}));
    EXPECT_EQ(nodes[4], nlohmann::json({{"driver", "file"},
                                        {"node-name", "seed-file"},
                                        {"filename", "/m/seed.iso"},
                                        {"read-only", true}}));
    EXPECT_EQ(nodes[5], nlohmann::json({{"driver", "raw"},
                                        {"node-name", "seed"},
                                        {"file", "seed-file"},
                                        {"read-only", true}}));
    // The overlay is the first block device: /dev/vda.
    auto devices = values_of(argv, "-device");
    auto root = std::find(devices.begin(), devices.end(), "virtio-blk-device,drive=root");
    auto seed = std::find(devices.begin(), devices.end(), "virtio-blk-device,drive=seed");
    ASSERT_NE(root, devices.end());
    EXPECT_LT(root, seed);
}

TEST(QemuCommand, ADiskWithoutBaseOpensNoBackingAtAll) {
    auto c = sample();
    c.base_image.clear();
    auto nodes = blockdevs(qemu_argv(c));
    ASSERT_EQ(nodes.size(), 4u);
    EXPECT_EQ(nodes[0]["node-name"], "root-file");
    EXPECT_EQ(nodes[1]["node-name"], "root");
    EXPECT_TRUE(nodes[1].contains("backing"));
    EXPECT_TRUE(nodes[1]["backing"].is_null());
}

TEST(QemuCommand, TapComesAsAnInheritedDescriptor) {
    auto argv = qemu_argv(sample());
    EXPECT_EQ(value_of(argv, "-netdev"), "tap,id=n0,fd=3");
    for (const auto& a : argv)
        EXPECT_THAT(a, Not(HasSubstr("ifname")));
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
    EXPECT_THAT(argv, Not(Contains("-blockdev")));
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
    EXPECT_EQ(blockdevs(argv)[2]["filename"], "/a,b/disk.qcow2"); // JSON: no escaping
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

TEST(QemuCommand, FixturesAreReadOnlyDisksAfterTheSeedWithTheirSerials) {
    for (auto machine : {Machine::Microvm, Machine::Q35}) {
        SCOPED_TRACE(std::string(to_string(machine)));
        auto c = sample();
        c.machine = machine;
        c.fixtures = {"/m/fixture-0.img", "/m/fixture-1.img"};
        auto argv = qemu_argv(c);
        const std::string blk = machine == Machine::Q35 ? "virtio-blk-pci" : "virtio-blk-device";
        auto devices = values_of(argv, "-device");
        std::vector<std::string> disks;
        for (const auto& d : devices)
            if (d.rfind(blk, 0) == 0)
                disks.push_back(d);
        // root and seed keep their places (vda, vdb); fixtures follow in order.
        ASSERT_EQ(disks.size(), 4u);
        EXPECT_EQ(disks[0], blk + ",drive=root");
        EXPECT_EQ(disks[1], blk + ",drive=seed");
        EXPECT_EQ(disks[2], blk + ",drive=fix0,serial=fbxfix0");
        EXPECT_EQ(disks[3], blk + ",drive=fix1,serial=fbxfix1");
        int nodes = 0;
        for (const auto& value : values_of(argv, "-blockdev")) {
            auto node = nlohmann::json::parse(value);
            const std::string name = node.value("node-name", "");
            if (name.rfind("fix", 0) != 0)
                continue;
            ++nodes;
            EXPECT_EQ(node.value("read-only", false), true) << value;
            EXPECT_EQ(node.value("auto-read-only", true), false) << value;
            if (name == "fix1-file") {
                EXPECT_EQ(node.value("filename", ""), "/m/fixture-1.img");
            }
            if (name == "fix1") {
                EXPECT_EQ(node.value("driver", ""), "raw");
            }
        }
        EXPECT_EQ(nodes, 4);
    }
}

TEST(QemuCommand, NoFixturesNoFixtureDisks) {
    auto argv = qemu_argv(sample());
    for (const auto& d : values_of(argv, "-device"))
        EXPECT_THAT(d, Not(HasSubstr("fbxfix")));
}

} // namespace
} // namespace fleetbox
