// Builds the qemu-system-x86_64 argv. Facts it relies on (QEMU 7.2, Debian 12):
// - microvm has ACPI (a GED device) on by default; acpi=on is written out so a change of
//   default cannot silently break graceful stop: system_powerdown makes the guest's systemd
//   power off (measured: "reboot: Power down" and QEMU exit ~5-10 s after the command).
// - microvm takes virtio-*-device (virtio-mmio) devices, q35 takes virtio-*-pci. q35 has
//   ACPI (acpi=on written out, as for microvm: graceful stop depends on it), an RTC, HPET
//   and the ACPI PM timer, and SeaBIOS; with -kernel, SeaBIOS's linuxboot option ROM loads
//   the kernel; without, SeaBIOS boots the disk with bootindex 0 (-boot strict=on: no other
//   device, no "No bootable device" retry loop through the NIC).
// - virtio-net-pci gets romfile= (no iPXE ROM): a VM never netboots, the ROM costs SeaBIOS
//   time under TCG, and QEMU then does not need ipxe-qemu's efi-virtio.rom.
// - rtc=on gives the guest a CMOS clock, so the first boot has a sane wall time.
// - The root overlay is the first block device, so it is /dev/vda; the seed is /dev/vdb;
//   fixtures come after them (vdc...), so adding one never renames the others.
// - -chardev/-netdev values are QEMU option strings: commas in paths must be doubled.
//   -blockdev takes JSON (a value starting with '{'), which needs no comma escaping and can
//   say "backing": null (the key=value form has no null; "backing=" is deprecated).
// - A qcow2 node whose "backing" is a node name uses that node, never the header's backing
//   file name; "backing": null opens no backing at all. virtio-blk takes read-only from a
//   read-only node. The device's write cache stays on (writeback), as with -drive.
// - -netdev tap,fd=N probes IFF_VNET_HDR on the descriptor, so a tap opened with it keeps
//   the offloads QEMU would enable when opening the tap itself.
// - The serial file chardev with append=on never truncates (the caller removes the file
//   before each launch, so a boot never sees the previous boot's output).
// - -display none (not -nographic) keeps QEMU away from stdio entirely.
// - tsc_early_khz= (TCG only): the guest's TSC is the host's; telling the kernel its rate
//   avoids PIT calibration, which fails on microvm under host load and then hangs the boot.
//   tsc=reliable keeps the clocksource watchdog from demoting the TSC to jiffies when the
//   host is busy. Under KVM the guest has kvm-clock and needs neither.
// - How the guest is configured (fleetbox seed or cloud-init) is selected by words the image's
//   manifest supplies, appended as cmdline_extra; this line only boots the kernel.
#include "vm/qemu_command.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace fleetbox {

namespace {

constexpr const char* kDefaultRoot = "/dev/vda";

struct DeviceNames {
    const char* block;
    const char* net;
};

DeviceNames device_names(Machine machine) {
    if (machine == Machine::Q35)
        return {"virtio-blk-pci", "virtio-net-pci"};
    return {"virtio-blk-device", "virtio-net-device"};
}

void add(std::vector<std::string>& argv, std::initializer_list<std::string> items) {
    argv.insert(argv.end(), items);
}

void add_accel(std::vector<std::string>& argv, const QemuConfig& c) {
    if (c.accel == AccelChoice::Kvm)
        add(argv, {"-accel", "kvm", "-cpu", "host"});
    else
        add(argv, {"-accel", "tcg,thread=multi,tb-size=256", "-cpu", "max"});
}

void add_blockdev(std::vector<std::string>& argv, const nlohmann::json& node) {
    add(argv, {"-blockdev", node.dump()});
}

// A "file" protocol node for one host file.
nlohmann::json file_node(const std::string& name, const std::string& path, bool read_only) {
    return {{"driver", "file"}, {"node-name", name}, {"filename", path}, {"read-only", read_only}};
}

void add_disks(std::vector<std::string>& argv, const QemuConfig& c) {
    const char* blk = device_names(c.machine).block;
    if (!c.disk.empty()) {
        nlohmann::json backing = nullptr;
        if (!c.base_image.empty()) {
            add_blockdev(argv, file_node("base-file", c.base_image, true));
            add_blockdev(argv, {{"driver", "qcow2"},
                                {"node-name", "base"},
                                {"file", "base-file"},
                                {"read-only", true},
                                {"backing", nullptr}});
            backing = "base";
        }
        add_blockdev(argv, file_node("root-file", c.disk, false));
        add_blockdev(argv, {{"driver", "qcow2"},
                            {"node-name", "root"},
                            {"file", "root-file"},
                            {"read-only", false},
                            {"backing", backing}});
        // Firmware boot: SeaBIOS tries the root disk, and nothing else (-boot strict=on).
        add(argv, {"-device",
                   fmt::format("{},drive=root{}", blk, c.firmware_boot ? ",bootindex=0" : "")});
    }
    if (!c.seed.empty()) {
        add_blockdev(argv, file_node("seed-file", c.seed, true));
        add_blockdev(
            argv,
            {{"driver", "raw"}, {"node-name", "seed"}, {"file", "seed-file"}, {"read-only", true}});
        add(argv, {"-device", fmt::format("{},drive=seed", blk)});
    }
    // Fixtures: read-only at every level (file and format node, auto-read-only off so QEMU
    // never reopens one read-write), so the guest sees a read-only disk.
    for (std::size_t i = 0; i < c.fixtures.size(); ++i) {
        const std::string node = fmt::format("fix{}", i);
        nlohmann::json file = file_node(node + "-file", c.fixtures[i], true);
        file["auto-read-only"] = false;
        add_blockdev(argv, file);
        add_blockdev(argv, {{"driver", "raw"},
                            {"node-name", node},
                            {"file", node + "-file"},
                            {"read-only", true},
                            {"auto-read-only", false}});
        add(argv, {"-device", fmt::format("{},drive={},serial=fbxfix{}", blk, node, i)});
    }
}

void add_nic(std::vector<std::string>& argv, const QemuConfig& c) {
    if (c.tap_fd < 0)
        return;
    add(argv, {"-netdev", fmt::format("tap,id=n0,fd={}", c.tap_fd)});
    std::string device = fmt::format("{},netdev=n0", device_names(c.machine).net);
    if (!c.mac.empty())
        device += ",mac=" + qemu_opt_escape(c.mac);
    // No option ROM (iPXE): nothing boots from the network, SeaBIOS skips loading it, and
    // QEMU does not need the ipxe-qemu package.
    if (c.machine == Machine::Q35)
        device += ",romfile=";
    add(argv, {"-device", device});
}

void add_consoles(std::vector<std::string>& argv, const QemuConfig& c) {
    if (!c.serial_log.empty())
        add(argv, {"-chardev",
                   fmt::format("file,id=serial0,path={},append=on", qemu_opt_escape(c.serial_log)),
                   "-serial", "chardev:serial0"});
    if (!c.qmp_socket.empty())
        add(argv,
            {"-chardev",
             fmt::format("socket,id=qmp,path={},server=on,wait=off", qemu_opt_escape(c.qmp_socket)),
             "-mon", "chardev=qmp,mode=control"});
}

} // namespace

std::string_view to_string(Machine machine) {
    return machine == Machine::Q35 ? "q35" : "microvm";
}

std::optional<Machine> parse_machine(std::string_view text) {
    if (text.empty() || text == "microvm")
        return Machine::Microvm;
    if (text == "q35")
        return Machine::Q35;
    return std::nullopt;
}

std::string qemu_opt_escape(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char ch : value) {
        out += ch;
        if (ch == ',')
            out += ',';
    }
    return out;
}

std::string kernel_cmdline(const QemuConfig& config) {
    std::string line = fmt::format("console=ttyS0 root={} rw quiet",
                                   config.kernel_root.empty() ? kDefaultRoot : config.kernel_root);
    if (config.accel == AccelChoice::Tcg && config.tsc_khz != 0)
        line += fmt::format(" tsc_early_khz={} tsc=reliable", config.tsc_khz);
    if (!config.cmdline_extra.empty())
        line += " " + config.cmdline_extra;
    return line;
}

std::vector<std::string> qemu_argv(const QemuConfig& c) {
    std::vector<std::string> argv{kQemuProgram};
    if (!c.name.empty())
        add(argv, {"-name", "guest=" + qemu_opt_escape(c.name)});
    add(argv, {"-M", c.machine == Machine::Q35 ? "q35,acpi=on" : "microvm,rtc=on,acpi=on"});
    add_accel(argv, c);
    add(argv, {"-smp", std::to_string(c.cpus), "-m", std::to_string(c.memory_mb), "-nodefaults",
               "-no-user-config", "-display", "none"});
    add_consoles(argv, c);
    if (c.firmware_boot) {
        add(argv, {"-boot", "strict=on"});
    } else {
        if (!c.kernel.empty())
            add(argv, {"-kernel", c.kernel});
        if (!c.initrd.empty())
            add(argv, {"-initrd", c.initrd});
        if (!c.kernel.empty())
            add(argv, {"-append", kernel_cmdline(c)});
    }
    add_disks(argv, c);
    add_nic(argv, c);
    argv.insert(argv.end(), c.extra_args.begin(), c.extra_args.end());
    return argv;
}

} // namespace fleetbox
