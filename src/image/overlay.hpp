// Per-VM disks: a qcow2 overlay backed by a cached base image.
//
// Why an overlay: copying a ~400 MB base per VM costs seconds and disk; a qcow2 overlay
// (`qemu-img create -b base -F qcow2`) is created in milliseconds, occupies a few hundred
// KiB, and only stores the clusters the VM writes. The overlay can be larger than the base
// (the guest grows its ext4 on first boot); it can never be smaller, since the base
// filesystem would not fit.
#pragma once

#include "image/cache.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <string>

namespace fleetbox::image {

inline constexpr std::uint64_t kDefaultDiskSize = 20ULL << 30; // 20 GiB

// Create `out_path` (a new file; an existing one is AlreadyExists) as a qcow2 overlay of
// base.disk_path with a virtual size of `size_bytes`. InvalidArgument when smaller than the
// base: `requested disk size 1.0 GiB is smaller than the image debian-12 (2.0 GiB)`.
// On any failure no file is left at out_path (it is made under a temporary name and
// renamed into place).
Status create_overlay(const ImageInfo& base, const std::string& out_path,
                      std::uint64_t size_bytes = kDefaultDiskSize);

// The exact qemu-img argv create_overlay runs (also used by bench/image-build.sh).
std::vector<std::string> overlay_argv(const std::string& base_disk, const std::string& out_path,
                                      std::uint64_t size_bytes);

} // namespace fleetbox::image
