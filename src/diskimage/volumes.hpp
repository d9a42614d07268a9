// The layout of a raw disk: its partition table and the filesystem on each partition.
//
// Why libblkid: it is util-linux's prober (the one udev and mount use), with GPT (primary
// and backup), dos tables including logical partitions, and superblock detection for every
// filesystem the kernel knows, all bounds-checked against the device size (ADR 0023).
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fleetbox::diskimage {

struct Volume {
    int number = 0;           // partition number, 0 for a whole-disk filesystem
    std::uint64_t offset = 0; // bytes from the start of the disk
    std::uint64_t size = 0;   // bytes
    std::string part_type;    // GPT type GUID (lowercase) or dos type "0x83"
    std::string fs_type;      // libblkid TYPE ("ext4", "vfat", "xfs") or ""
    std::string fs_uuid;      // libblkid UUID or ""
};

struct DiskLayout {
    std::string table;                // "gpt", "dos" or ""
    std::vector<Volume> volumes;      // partitions in table order, or the whole-disk filesystem
    bool bios_boot_partition = false; // a GPT partition of type "BIOS boot"
};

// GPT type GUID of a BIOS boot partition (GRUB's core.img on a GPT disk).
constexpr const char* kBiosBootGuid = "21686148-6449-6e6f-744e-656564454649";

// Probes the open raw disk `fd` of `disk_size` bytes. At most 128 partitions are taken;
// partitions outside the disk are skipped.
Result<DiskLayout> probe_layout(int fd, std::uint64_t disk_size);

// Only [0-9A-Za-z-] (a filesystem UUID as it may appear on a kernel command line).
bool is_safe_uuid(const std::string& uuid);

} // namespace fleetbox::diskimage
