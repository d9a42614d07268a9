// Scratch space for a build's intermediates: the mmdebstrap root tree and the raw ext4.
//
// Why tmpfs: both are large (~450 MB each), short-lived, and thrown away as soon as the
// qcow2 exists. On disk, deleting the ~15,000-file tree alone took ~40 s on the development
// machine (metadata I/O), and dpkg fsyncs every package it unpacks. On a tmpfs, writes never
// reach the disk and the tree disappears in a fraction of a second. /dev/shm is used when it
// is a tmpfs mounted without nodev/noexec (the chroot runs programs and uses device nodes)
// with room to spare in both the tmpfs and RAM; otherwise the intermediates stay in the
// staging directory inside images/.
// Scratch directories are named fleetbox-build-<hash of the images dir>-<alias>-XXXXXX, so
// the next holder of an alias lock can sweep a killed build's leftovers without touching a
// build of the same alias for another store.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace fleetbox::image {

inline constexpr const char* kDefaultTmpfs = "/dev/shm";
inline constexpr std::uint64_t kScratchMinFree = 3ULL << 30; // tree + raw + margin

struct ScratchPlace {
    std::string parent; // where to create the scratch directory; empty: the staging dir
    std::string reason; // why, for the build log
};

// `requested` (BuildOptions::scratch_dir): a directory to use, "staging" for the staging dir,
// or empty for automatic (a suitable /dev/shm, else the staging dir).
ScratchPlace choose_scratch(const std::string& requested, const std::string& tmpfs = kDefaultTmpfs);

// True when `dir` is a tmpfs without nodev/noexec with `min_free` bytes free in it and in RAM.
bool suitable_tmpfs(const std::string& dir, std::uint64_t min_free, std::string* why_not = nullptr);

// "fleetbox-build-1a2b3c4d-debian-12-" for images dir + alias.
std::string scratch_prefix(const std::string& images_dir, std::string_view alias);

// Remove <parent>/<prefix>XXXXXX directories (a killed build's); call under the alias lock.
Status sweep_scratch(const std::string& parent, const std::string& prefix);

} // namespace fleetbox::image
