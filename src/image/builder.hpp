// Building one image into a staging directory: bootstrap -> kernel -> ext4 -> qcow2 ->
// manifest.
//
// Why this shape: the staging directory lives inside images/ (same filesystem), so the
// cache can publish the finished image with one rename(2); the intermediates (rootfs/,
// disk.raw) go to a work directory, a tmpfs scratch directory when one is suitable
// (scratch.hpp) or the staging directory itself. Everything the build writes stays inside
// those two directories, so removing them undoes a failed or interrupted build completely. The root
// filesystem is ext4 made by `mkfs.ext4 -d` straight from the mmdebstrap directory (no partition
// table, no loop mounts, no root-only mount calls), then converted to a qcow2 base that per-VM
// overlays point at.
#pragma once

#include "image/apt_sources.hpp"
#include "image/catalog.hpp"
#include "image/manifest.hpp"
#include "image/progress.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace fleetbox::image {

struct BuildOptions {
    ProgressMode progress = ProgressMode::Auto;
    std::FILE* progress_out = stderr;
    bool force = false; // rebuild even when cached
    // Rebuild a cached entry made by another recipe (ImageInfo::outdated); may_replace is asked.
    bool replace_outdated = false;
    std::uint64_t min_free_bytes = 3ULL << 30; // refuse to start with less free space
    std::vector<std::string> mirrors;          // empty: the host's configured mirror
    std::string apt_dir = "/etc/apt";          // where the host's mirror is read from
    std::string scratch_dir;                   // intermediates: empty = auto (scratch.hpp)
    bool require_root = true;                  // tests with a fake mmdebstrap may clear it
    // force: asked under the alias lock before a cached entry is replaced; an error stops the
    // build with nothing changed (the CLI refuses while VM disks are overlays on the entry).
    std::function<Status()> may_replace;
};

// Inputs of one build, resolved by the cache (after preflight, under the alias lock).
struct BuildPlan {
    const CatalogEntry* entry = nullptr;
    MirrorSet mirrors;
    std::string staging_dir; // empty, exists; receives the image files
    std::string work_dir;    // exists; receives rootfs/ and disk.raw (may be staging_dir)
    std::string log_path;    // build log (appended)
    int log_fd = -1;         // the build log opened O_RDWR|O_APPEND (not owned); -1: log_path
};

// Run every phase; on success the staging dir holds disk.qcow2, vmlinuz, initrd.img and
// manifest.json (written last) and nothing else. On failure it may hold leftovers: the
// caller removes it.
Result<Manifest> build_image(const BuildPlan& plan, Progress& progress);

// The ext4 size for a root tree: its data rounded to 4 KiB blocks, plus 10% and the
// entry's headroom, at least enough inodes at 16 KiB per inode; a multiple of 64 MiB.
std::uint64_t filesystem_size(std::uint64_t data_bytes, std::uint64_t inode_count,
                              std::uint64_t headroom_bytes);

} // namespace fleetbox::image
