// Preflight for an image build: the external programs it runs, root, and free disk space.
//
// Why up front: a build takes minutes; finding out at minute two that mkfs.ext4 is missing
// or the disk is full wastes them and leaves a half-built directory to clean. Each missing
// program is named with the Debian package that provides it.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fleetbox::image {

struct RequiredTool {
    std::string program; // looked up on PATH
    std::string package; // Debian package providing it
};

// mmdebstrap (mmdebstrap), mkfs.ext4 (e2fsprogs), qemu-img (qemu-utils).
const std::vector<RequiredTool>& required_tools();

// MissingDependency for the first absent tool: `mkfs.ext4 is not installed` with hint
// `install it: apt-get install e2fsprogs` (all missing packages in one hint).
Status check_tools(const std::vector<RequiredTool>& tools = required_tools());

// NoSpace unless the filesystem holding `dir` has at least `min_free` bytes available.
Status check_free_space(const std::string& dir, std::uint64_t min_free);

// Permission unless running as root (mmdebstrap --mode=unshare gives correct file
// ownership only to root; as a normal user the files would belong to a subuid).
Status check_root();

} // namespace fleetbox::image
