// The image catalog: which guest images fleetbox knows how to build, by alias.
//
// Why embedded: the catalog is part of the program's behavior (an alias must mean the same
// package set everywhere the binary runs), so it is a JSON file compiled into the binary
// (src/image/catalog.json) rather than a config file a user could lose or edit by accident.
// Each entry is a recipe for the mmdebstrap builder: suite, variant, packages, the modules
// the small initrd must carry, the units to mask and the kernel command line to boot it with.
// What differs between Debian releases (debian-11/12/13) is data in these entries, not code
// (docs/adr/0021-debian-suites.md).
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::image {

struct CatalogEntry {
    std::string alias;
    std::string description;
    std::string builder;                 // "mmdebstrap" (the only builder so far)
    std::string suite;                   // e.g. "bookworm"
    std::string variant;                 // mmdebstrap --variant, e.g. "minbase"
    std::vector<std::string> components; // e.g. {"main"}
    std::vector<std::string> packages;   // --include set
    // Create the merged-/usr symlinks (/bin -> usr/bin, ...) before the first package is
    // unpacked, as debootstrap does: bullseye. bookworm and later merge /usr through their
    // own packages (usr-is-merged, base-files), and mmdebstrap's merged-usr hook needs the
    // usr-is-merged package bullseye does not have. ADR 0021.
    bool merged_usr_symlinks = false;
    std::vector<std::string> initrd_modules; // forced into the initramfs (virtio, ext4)
    // Paths (relative to the initramfs root) removed after the udev hook ran: trixie's adds
    // the 13 MiB hwdb.bin, which a VM with a virtio disk does not need to find its root.
    std::vector<std::string> initrd_exclude;
    std::vector<std::string> masked_units;    // systemd units masked in the image
    std::string root_device;                  // e.g. "/dev/vda" (whole disk, no partition table)
    std::string kernel_cmdline;               // for direct kernel boot
    unsigned long long fs_headroom_mib = 256; // free space left in the root filesystem
};

struct Catalog {
    int version = 0;
    std::string default_alias;
    std::vector<CatalogEntry> entries; // sorted by alias
};

// A broken embedded document (`what`: "image catalog") is a build bug: says so on stderr and
// aborts.
[[noreturn]] void abort_broken_embedded(std::string_view what, const Error& error);

// Parse a catalog document (the embedded one, or a test's). Corrupt on bad JSON or fields.
Result<Catalog> parse_catalog(std::string_view json_text);

// The embedded catalog, parsed once. A broken embedded catalog is a build bug: it aborts
// at first use with a message (the unit tests parse it, so it cannot ship broken).
const Catalog& catalog();

// The entry for an alias, or NotFound: `unknown image "x": known images are debian-12`.
Result<const CatalogEntry*> find_alias(std::string_view alias, const Catalog& in = catalog());

// "debian-12, debian-13" (sorted).
std::string known_aliases(const Catalog& in = catalog());

} // namespace fleetbox::image
