// One ext2/3/4 filesystem inside a raw disk file, read-only, through libext2fs.
//
// Why libext2fs: it is e2fsprogs' own reader (what e2fsck and debugfs use, built to survive
// corrupt filesystems), so extents, inline data, htree directories and 64-bit layouts are
// read by the project that defines them, without a mount, a loop device or root (ADR 0023).
// Paths are walked here rather than with ext2fs_namei: each symlink hop is bounded (target
// length, 40 hops), ".." never climbs above the filesystem's root, and an absolute target
// restarts at this filesystem's root. Nothing here ever touches a host path derived from
// the image.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct struct_ext2_filsys;

namespace fleetbox::diskimage {

struct ExtNode {
    std::uint32_t ino = 0;
    bool directory = false;
    bool regular = false;
    std::uint64_t size = 0;
};

class ExtVolume {
public:
    // Opens the filesystem starting `offset` bytes into `file` (read-only); Corrupt when it
    // is unreadable or claims more than `size` bytes.
    static Result<ExtVolume> open(const std::string& file, std::uint64_t offset,
                                  std::uint64_t size);
    ExtVolume(ExtVolume&& other) noexcept;
    ExtVolume& operator=(ExtVolume&& other) noexcept;
    ExtVolume(const ExtVolume&) = delete;
    ExtVolume& operator=(const ExtVolume&) = delete;
    ~ExtVolume();

    // Resolves an absolute path inside this filesystem, following symlinks (all of them, the
    // last one too). nullopt when missing, a loop, too many hops, or unreadable.
    [[nodiscard]] std::optional<ExtNode> resolve(std::string_view path) const;
    // The target of the symlink at `path` (the last component not followed), or "".
    [[nodiscard]] std::string link_target(std::string_view path) const;
    // Names in a directory (no "." / ".."), at most `max`, unsorted.
    [[nodiscard]] std::vector<std::string> list(const ExtNode& dir, std::size_t max = 4096) const;
    // The whole content of a regular file of at most `max` bytes.
    [[nodiscard]] Result<std::string> read(const ExtNode& file, std::size_t max) const;
    // Streams a regular file of at most `max` bytes to `write(chunk)`.
    template <typename Sink>
    Status copy(const ExtNode& file, std::uint64_t max, Sink&& write) const;

private:
    explicit ExtVolume(struct_ext2_filsys* fs) : fs_(fs) {}
    using ChunkFn = Status (*)(void* ctx, std::string_view chunk);
    Status copy_impl(const ExtNode& file, std::uint64_t max, ChunkFn fn, void* ctx) const;
    std::optional<ExtNode> walk(std::string_view path, bool follow_last) const;
    std::optional<std::string> read_link(std::uint32_t ino) const;
    struct_ext2_filsys* fs_ = nullptr;
};

template <typename Sink>
Status ExtVolume::copy(const ExtNode& file, std::uint64_t max, Sink&& write) const {
    return copy_impl(
        file, max,
        [](void* ctx, std::string_view chunk) -> Status {
            return (*static_cast<std::remove_reference_t<Sink>*>(ctx))(chunk);
        },
        &write);
}

} // namespace fleetbox::diskimage
