// The QEMU command line for one fleetbox VM, as a pure function of its configuration.
//
// Why a pure function: the flags are the product of measurements (reference/boot-tcg.md) and
// must be unit-testable without QEMU. The line is: microvm (ACPI on, so QMP system_powerdown
// reaches the guest), direct kernel boot of the image's kernel and initrd, the VM's qcow2
// overlay as /dev/vda and the NoCloud seed as a read-only second disk, a virtio-net NIC on a
// tap handed over as an open descriptor, the serial console to a file, and QMP on a unix
// socket. Under TCG the translation cache is capped (tb-size=256, RSS ~600 MB instead of
// ~1 GB) and -cpu max is used; under KVM -cpu host.
//
// Stock cloud images (ADR 0024) boot on q35 with virtio-pci devices: their initrd has the
// PCI virtio drivers but not necessarily virtio-mmio. Either direct kernel boot with the
// image's own kernel and initrd and its real root (root=UUID=...), or, with firmware_boot,
// no kernel at all: SeaBIOS boots the root disk (bootindex 0) through the image's grub.
//
// The disk chain is explicit (-blockdev nodes): base image file (read-only) -> qcow2 node
// with no backing, overlay file -> qcow2 node backed by that base node. QEMU never follows a
// backing file named in an image header, so a rewritten overlay header cannot make it open
// any other file. The tap is never opened by name: QEMU runs without CAP_NET_ADMIN.
#pragma once

#include "host/accel.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox {

enum class Machine { Microvm, Q35 };

std::string_view to_string(Machine machine);
// "microvm" or "" -> Microvm, "q35" -> Q35, anything else nullopt.
std::optional<Machine> parse_machine(std::string_view text);

struct QemuConfig {
    std::string name;          // VM (member) name, shown as the QEMU guest name
    std::string kernel;        // vmlinuz for direct kernel boot
    std::string initrd;        // initrd.img (the cloud kernel has virtio as modules)
    std::string cmdline_extra; // appended to the default kernel command line (the image's
                               // words selecting how its guest is configured)
    std::string disk;          // qcow2 overlay, becomes /dev/vda (empty: none)
    std::string base_image;    // the overlay's backing qcow2, opened read-only (empty: the
                               // disk gets no backing, whatever its header names)
    std::string seed;          // NoCloud seed ISO, attached read-only (empty: none)
    // Read-only fixture images (raw ext4), attached after the seed so the root disk and the
    // seed keep their names; fixture i has node "fix<i>" and the serial "fbxfix<i>".
    std::vector<std::string> fixtures;
    int tap_fd = -1;   // QEMU's descriptor number of an open tap for the NIC (-1: none)
    std::string mac;   // the NIC's MAC, e.g. 52:54:00:12:34:56
    unsigned cpus = 2; // never 1 under TCG: every boot phase is ~1.5x slower
    unsigned memory_mb = 1024;
    std::string serial_log; // serial console (ttyS0) appended to this file (append=on)
    std::string qmp_socket; // QMP unix socket path (< 108 bytes)
    AccelChoice::Kind accel = AccelChoice::Tcg;
    // Under TCG, the host TSC rate (host/host_tsc.hpp), passed as tsc_early_khz= with
    // tsc=reliable so the guest never calibrates against the PIT; 0: not pinned.
    unsigned long tsc_khz = 0;
    Machine machine = Machine::Microvm;
    // No -kernel/-initrd/-append: the firmware boots the root disk (q35 only; qemu_argv
    // leaves the kernel fields out whatever they hold).
    bool firmware_boot = false;
    // root= for direct kernel boot ("" = "/dev/vda"): "/dev/vda1", "UUID=...", ...
    std::string kernel_root;
    std::vector<std::string> extra_args; // appended verbatim (tests, debugging)
};

inline constexpr const char* kQemuProgram = "qemu-system-x86_64";
inline constexpr const char* kQemuPackage = "qemu-system-x86";

// "console=ttyS0 root=<kernel_root or /dev/vda> rw quiet", the TSC pin (TCG only), then
// cmdline_extra.
std::string kernel_cmdline(const QemuConfig& config);

// argv[0] is kQemuProgram; empty optional fields (disk, seed, tap, serial, qmp) are left out.
// With firmware_boot: no -kernel/-initrd/-append, the root disk is bootindex 0 and the
// firmware boots nothing else (-boot strict=on).
// Block nodes: "root" (with "root-file", and "base" + "base-file" when base_image is set)
// and "seed" (with "seed-file"), then "fix<i>" (with "fix<i>-file") per fixture.
std::vector<std::string> qemu_argv(const QemuConfig& config);

// QEMU option values use ',' as separator; a literal comma is written ",,".
std::string qemu_opt_escape(std::string_view value);

} // namespace fleetbox
