// Pure rules for picking a kernel out of an image: which vmlinuz/initrd pair, its version,
// the os-release name, and whether the first sector can boot.
//
// Why separate: these rules decide what fleetbox boots, and every input is untrusted text
// or bytes from the image; as pure functions they are unit-tested without building disks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::diskimage {

// Kernel version order: runs of digits compare as numbers, other runs as text
// ("6.1.0-28-amd64" > "6.1.0-9-amd64"). <0, 0, >0 like strcmp.
int compare_versions(std::string_view a, std::string_view b);

// A version (or os name) fit to print and record: [A-Za-z0-9._+~-], 1..128 characters.
bool is_safe_version(std::string_view version);

struct KernelPair {
    std::string kernel; // file name in the boot directory, e.g. "vmlinuz-6.1.0-28-amd64"
    std::string initrd; // e.g. "initrd.img-6.1.0-28-amd64"
    std::string version;
};

// The newest vmlinuz-<ver> with a matching initrd.img-<ver> (or initramfs-<ver>.img) among
// `names` (regular files of one directory); *.old and unsafe versions are skipped.
std::optional<KernelPair> choose_versioned(const std::vector<std::string>& names);

// "6.1.0-28-amd64" from "vmlinuz-6.1.0-28-amd64" or ".../boot/vmlinuz-6.1.0-28-amd64"; "" when
// the name does not carry a safe version.
std::string version_from_kernel_name(std::string_view name);

// The version in an x86 bzImage's setup header (kernel_version field), "" when absent or
// unsafe. `head` is the start of the file (the string is within the first 64 KiB).
std::string version_from_bzimage(std::string_view head);

// PRETTY_NAME from os-release text (quotes and backslash escapes removed), printable and at
// most 128 characters; "" when absent.
std::string pretty_name(std::string_view os_release);

// The first sector holds boot code (a non-zero byte in its first 440 bytes) and the 0x55AA
// signature.
bool has_mbr_boot_code(std::string_view first_sector);

} // namespace fleetbox::diskimage
