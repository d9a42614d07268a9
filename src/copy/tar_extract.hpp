// extract_tree: unpacks a tar stream from an untrusted guest below one directory descriptor.
//
// Why our own extractor on libarchive's reader (not archive_write_disk): every file is made
// relative to a directory descriptor we opened ourselves, each path step with O_NOFOLLOW, and
// new files with O_CREAT|O_EXCL|O_NOFOLLOW, so no member can write through a symlink, however
// the archive is crafted; the name and target rules (entry_rules.hpp) are checked before a
// member touches the disk. The stream is read through a 64 KiB buffer and written as it comes
// (a 1 GiB file never sits in memory).
//
// Kept: regular files (sparse holes too), directories, symlinks (relative, inside the
// destination), hard links to an earlier member, FIFOs; modes (permission bits and the sticky
// bit of directories; setuid/setgid are dropped: the files belong to the caller, possibly
// root) and modification times. Ownership is not kept. Refused: device nodes, sockets,
// anything unsafe (entry_rules.hpp), a member whose parent is not a real directory made by an
// earlier member. Directory modes are applied last, deepest first, so a read-only directory
// in the archive still receives its files.
#pragma once

#include "util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace fleetbox::copy {

// Fills `buf` with up to `size` bytes; 0 at the end of the stream.
using ByteSource = std::function<Result<std::size_t>(char* buf, std::size_t size)>;

struct Extracted {
    std::uint64_t members = 0;
    bool top_is_dir = false;
};

// Reads the whole archive from `source` (the tar end-of-archive marker ends it: the rest of
// the stream is left to the caller) and creates its top member as `dir_fd`/`out_name`.
// `top` is the name the archive's top member must have. Errors: Corrupt `unsafe tar entry
// "<name>": <why>` or an unreadable stream; the source's own error; Io/NoSpace/Permission of
// the host file system. On error, what was made below dir_fd is left for the caller to remove.
Result<Extracted> extract_tree(int dir_fd, const std::string& out_name, const std::string& top,
                               const ByteSource& source);

} // namespace fleetbox::copy
