// A small ISO 9660 image of in-memory files, written in-process with libisofs.
//
// Why libisofs: no genisoimage/xorriso subprocess to find, run and parse. The image carries
// Rock Ridge (the Linux isofs driver then shows the exact lowercase names such as
// "meta-data", which cloud-init opens by name) and Joliet, and the plain ISO 9660 names are
// relaxed (lowercase, '-', no ";1") so even a reader that ignores both extensions sees the
// same names.
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::seed {

struct IsoEntry {
    std::string name; // a root-level file name, e.g. "meta-data"
    std::string content;
};

struct IsoSpec {
    std::string volume_id; // e.g. "cidata" (what blkid reports as LABEL)
    std::string publisher; // e.g. "fleetbox"
    std::vector<IsoEntry> files;
};

// Writes the image to out_path atomically: a temporary file in the same directory, renamed
// over out_path only when complete, so a failure leaves no file (and keeps an old one).
// Files are 0444 in the image.
Status write_iso_image(const IsoSpec& spec, const std::string& out_path);

} // namespace fleetbox::seed
