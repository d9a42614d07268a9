// The one qcow2 header fact the helper checks before QEMU opens a disk: whether the image
// keeps its data in an external file.
//
// Why: the disk chain QEMU may open is fixed by fleetbox (explicit -blockdev nodes, see
// qemu_command.hpp), but a qcow2 image whose header sets the "external data file"
// incompatible feature makes QEMU open the file that header names. A member's overlay (and
// a base image) are files its owner could rewrite, so such an image is refused outright:
// fleetbox never creates one. Reading 80 bytes costs nothing at boot time.
#pragma once

#include "util/error.hpp"

#include <string>

namespace fleetbox {

// Ok for a qcow2 image without an external data file, and for a file that cannot be opened
// (QEMU reports that itself, with its own words). InvalidArgument when the file is not a
// qcow2 image or names an external data file, e.g.
//   check disk /m/disk.qcow2: the qcow2 header names an external data file
Status check_qcow2_has_no_data_file(const std::string& path);

} // namespace fleetbox
