// A small tar archive of in-memory files, written in-process with libarchive.
//
// Why tar for the fast seed: the guest reads it straight off its block device with GNU tar
// (Essential in Debian), so applying a seed needs no kernel module, no mount and no parser
// of ours in the guest. The archive is POSIX ustar and ends on a 512-byte boundary, so it is
// a whole number of sectors for QEMU's raw block device.
#pragma once

#include "util/error.hpp"

#include <string>
#include <sys/types.h>
#include <vector>

namespace fleetbox::seed {

struct TarEntry {
    std::string name; // relative path without "..", e.g. "hostname"
    std::string content;
    mode_t mode = 0644; // permission bits recorded in the archive
};

// Writes the archive atomically (temporary file + rename; a failure leaves no file and keeps
// an old one); the file itself gets `file_mode` (0600: a seed may hold a private key).
Status write_tar_image(const std::vector<TarEntry>& entries, const std::string& out_path,
                       mode_t file_mode = 0600);

} // namespace fleetbox::seed
