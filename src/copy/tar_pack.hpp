// pack_tree: a host file or directory tree as a tar stream, written straight to a sink.
//
// Why libarchive's disk reader and pax writer: the tree is walked with lstat semantics (a
// symlink is stored as a link, never followed), file data is read in blocks and handed on as
// it is read (a 1 GiB file never sits in memory), and pax (ustar where it suffices) carries
// long names and sizes GNU tar in the guest reads. Stored: regular files, directories,
// symlinks and FIFOs with their permission bits and modification times; owner root:root
// without names (the guest's `tar --no-same-owner` gives files to the extracting user
// anyway); no xattrs, ACLs or file flags. Hard-linked files are stored as separate copies.
// Sockets are skipped (tar has no way to store them). A device node is refused.
#pragma once

#include "util/error.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace fleetbox::copy {

using ByteSink = std::function<Status(std::string_view data)>;

// Streams `host_path` (file, symlink or directory) with its top member renamed to `top`, then,
// when `sentinel` is not empty, an empty regular file of that name as the last member (its
// presence tells the receiver the stream is complete), then the end-of-archive marker.
// Errors: the sink's own error; NotFound/Permission/Io reading the host tree; InvalidArgument
// for a device node.
Status pack_tree(const std::string& host_path, const std::string& top, const std::string& sentinel,
                 const ByteSink& sink);

} // namespace fleetbox::copy
