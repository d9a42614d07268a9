// Disk image inspection: what a downloaded or local disk image is, and what it boots.
//
// Why: a stock cloud image (Debian, Ubuntu) is a qcow2 or raw disk with a partition table,
// an ext4 root and a kernel under /boot. fleetbox boots it directly (-kernel/-initrd with the
// image's real root) when it can take the kernel out, and through firmware otherwise; both
// need facts read from the image without mounting it, without root and without trusting a
// single byte of it (a qcow2 header can name a backing file; an ext4 tree can hold symlinks
// pointing anywhere). libblkid reads the partition table and filesystem superblocks,
// libext2fs reads ext2/3/4 read-only, qemu-img does the qcow2 work (ADR 0023).
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace fleetbox::diskimage {

enum class Format { Qcow2, Raw };

// "qcow2" / "raw" (the qemu-img -f name).
const char* format_name(Format format);

// By content, never by name. InvalidArgument for anything else, naming what it looks like
// when known (xz/gzip/zstd/bzip2 compressed, tar, ISO 9660, VMDK, VHD(X), VDI):
// "<path> is xz-compressed data, not a disk image" + hint "decompress it first ...".
Result<Format> sniff_format(const std::string& path);

struct DiskFacts {
    Format format = Format::Raw;
    std::uint64_t virtual_size = 0;
};

// qemu-img info --output=json -f <format>: refuses (InvalidArgument) a qcow2 with a backing
// file, an external data file or encryption. Never lets qemu-img open a backing file.
Result<DiskFacts> check_disk(const std::string& path, Format format);

struct KernelFiles {
    std::string kernel_version; // e.g. "6.1.0-28-cloud-amd64"
    std::string root_arg;       // e.g. "UUID=<ext4 uuid>"
};

struct Inspection {
    std::string partition_table;        // "gpt", "dos" or "" (whole-disk filesystem)
    std::optional<KernelFiles> kernel;  // set when vmlinuz+initrd were extracted
    bool firmware_bootable = false;     // a BIOS boot path: MBR boot code, or a GPT BIOS
                                        // boot partition
    std::string os_name;                // PRETTY_NAME of the root's os-release, or ""
    std::optional<bool> has_cloud_init; // nullopt: no readable root filesystem
    std::string why_no_kernel;          // when !kernel: what was looked at
};

// Reads the image (a qcow2 is first converted to a sparse raw file in work_dir, removed
// before return; NoSpace "disk full while converting" when that fills the disk); finds the
// root filesystem (ext2/3/4 holding /etc/os-release) and the boot directory (/boot of the
// root, or a separate partition whose top level holds vmlinuz*); writes the kernel and
// initrd to out_dir/vmlinuz and out_dir/initrd.img. Symlinks (/vmlinuz -> boot/vmlinuz-6.1...)
// are resolved inside the image only. An image without a usable kernel is not an error:
// kernel stays empty and why_no_kernel says what was seen, e.g. "no ext2/3/4 filesystem with
// /boot/vmlinuz* or a top-level vmlinuz* (partitions: 1 xfs, 15 vfat)". kernel_version is
// "unknown" when neither the file name nor the bzImage header carries one.
Result<Inspection> inspect(const std::string& path, Format format, const std::string& work_dir,
                           const std::string& out_dir);

} // namespace fleetbox::diskimage
