// The QEMU command line for one fleetbox VM, as a pure function of its configuration.
//
// Why a pure function: the flags are the product of measurements (reference/boot-tcg.md) and
// must be unit-testable without QEMU. The line is: microvm (ACPI on, so QMP system_powerdown
// reaches the guest), direct kernel boot of the image's kernel and initrd, the VM's qcow2
// overlay as /dev/vda and the NoCloud seed as a read-only second disk, a virtio-net NIC on an
// existing tap, the serial console to a file, and QMP on a unix socket. Under TCG the
// translation cache is capped (tb-size=256, RSS ~600 MB instead of ~1 GB) and -cpu max is used;
// under KVM -cpu host. q35 with virtio-pci devices is kept as a fallback machine.
#pragma once

#include "host/accel.hpp"

#include <string>
#include <vector>

namespace fleetbox {

enum class Machine { Microvm, Q35 };

std::string_view to_string(Machine machine);

struct QemuConfig {
    std::string name;          // VM (member) name, shown as the QEMU guest name
    std::string kernel;        // vmlinuz for direct kernel boot
    std::string initrd;        // initrd.img (the cloud kernel has virtio as modules)
    std::string cmdline_extra; // appended to the default kernel command line (the image's
                               // words selecting how its guest is configured)
    std::string disk;          // qcow2 overlay, becomes /dev/vda (empty: none)
    std::string seed;          // NoCloud seed ISO, attached read-only (empty: none)
    std::string tap;           // existing tap device for the NIC (empty: no NIC)
    std::string mac;           // the NIC's MAC, e.g. 52:54:00:12:34:56
    unsigned cpus = 2;         // never 1 under TCG: every boot phase is ~1.5x slower
    unsigned memory_mb = 1024;
    std::string serial_log; // serial console (ttyS0) written to this file (truncated)
    std::string qmp_socket; // QMP unix socket path (< 108 bytes)
    AccelChoice::Kind accel = AccelChoice::Tcg;
    // Under TCG, the host TSC rate (host/host_tsc.hpp), passed as tsc_early_khz= with
    // tsc=reliable so the guest never calibrates against the PIT; 0: not pinned.
    unsigned long tsc_khz = 0;
    Machine machine = Machine::Microvm;
    std::vector<std::string> extra_args; // appended verbatim (tests, debugging)
};

inline constexpr const char* kQemuProgram = "qemu-system-x86_64";
inline constexpr const char* kQemuPackage = "qemu-system-x86";

// "console=ttyS0 root=/dev/vda rw quiet", the TSC pin
// (TCG only), then cmdline_extra.
std::string kernel_cmdline(const QemuConfig& config);

// argv[0] is kQemuProgram; empty optional fields (disk, seed, tap, serial, qmp) are left out.
std::vector<std::string> qemu_argv(const QemuConfig& config);

// QEMU option values use ',' as separator; a literal comma is written ",,".
std::string qemu_opt_escape(std::string_view value);

} // namespace fleetbox
