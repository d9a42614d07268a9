// The steps of a pull that need no cache state (pull.cpp runs them under the entry's lock):
// a local file's identity, whether a cached entry still is what a source asks for, and
// putting the disk into a staging directory (convert raw to qcow2, or copy), with a full
// disk reported as NoSpace rather than as a failed command.
#pragma once

#include "image/cache.hpp"
#include "image/source.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <string>

namespace fleetbox::image {

// What tells a changed local file from the one imported: its size and mtime.
struct FileStamp {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
};

// NotFound (no such file) or InvalidArgument (not a regular file) with a hint.
Result<FileStamp> stamp_of(const std::string& path);

// Whether a cached pulled entry is what `source` asks for now: an unpinned URL always is, a
// pinned one when the pin matches what was received, a file when its stamp is unchanged, a
// stock alias always (a moved catalog pin only marks it outdated).
Result<bool> still_matches(const ImageInfo& hit, const ImageSource& source);

// qemu-img convert -f raw -O qcow2 (thin). A full disk is NoSpace.
Status convert_to_qcow2(const std::string& input, const std::string& out);

// Copies `input` into a new 0600 file dir/name, fsynced. A full disk is NoSpace.
Status copy_file(const std::string& input, const std::string& dir, const std::string& name);

// The manifest's origin for `source` (what was received is filled in by the pull).
ImageOrigin origin_of(const ImageSource& source);

} // namespace fleetbox::image
