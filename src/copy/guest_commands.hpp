// The guest side of a copy: the shell scripts that run GNU tar, and what their failures mean.
//
// Why scripts around tar: an upload must never leave a partial file under the final name, so
// the guest extracts into a fresh directory made with mktemp next to the destination and
// renames into place only when tar succeeded and the stream's last member (the sentinel, sent
// only after everything else) arrived; an EXIT trap removes the temporary directory on every
// other path (tar failure, disk full, the host giving up mid-stream). A download is a plain
// `tar -c` of one path. Both run under `sh -c` with LC_ALL=C (English messages, matched
// below), and under `sudo -n` when asked to run as root.
#pragma once

#include "copy/paths.hpp"
#include "guest/ssh_target.hpp"
#include "util/error.hpp"

#include <string>

namespace fleetbox::copy {

// The stream's last member for an upload whose top member is `top` (never equal to it).
std::string sentinel_for(const std::string& top);

// `sh -c '...'` (with `sudo -n` in front when as_root) extracting stdin into `dest`.
std::string upload_command(const GuestPath& dest, const std::string& top, bool as_root);

// `sh -c '...'` writing a tar of `source` (top member source.base) to stdout.
std::string download_command(const GuestPath& source, bool as_root);

// `guest tar: <first meaningful stderr line>` with a kind read from it: NoSpace ("No space
// left on device", "Disk quota exceeded"), Permission ("Permission denied", "Operation not
// permitted", sudo's "a password is required", "Read-only file system"), NotFound ("No such
// file or directory"), InvalidArgument (the destination or its parent has the wrong type),
// else ExternalCommand.
Error guest_error(const guest::ExecResult& result, bool as_root);

} // namespace fleetbox::copy
