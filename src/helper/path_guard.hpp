// Path guard for boot-member: every file the helper hands to QEMU must live in its store.
//
// Why: the helper may run as root (it creates bridges and taps), while a boot-member request
// names files by path. Without this check a client could make a root helper open /etc/shadow
// as a "disk". Paths are resolved with realpath(3), so a symlink inside the store that points
// outside it is refused too; any ".." component is refused outright.
#pragma once

#include "proto/messages.hpp"
#include "util/error.hpp"

#include <string>

namespace fleetbox::helper {

// Ok when `path` (absolute, no ".." component) resolves inside `store_root`. A path that does
// not exist yet is judged by its nearest existing ancestor. Otherwise InvalidArgument:
//   boot-member: path /etc/shadow is outside the store /root/.fleetbox
Status check_inside_store(const std::string& store_root, const std::string& path);

// Checks member_dir, disk_path, seed_path, base_image_path, kernel_path and initrd_path of a
// spec (empty optional paths are skipped; member_dir, disk_path and seed_path are required),
// and that every fixture path is inside member_dir.
Status check_boot_paths(const std::string& store_root, const proto::BootSpec& spec);

} // namespace fleetbox::helper
