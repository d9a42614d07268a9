// The stock cloud image catalog: which distribution cloud images fleetbox can pull by alias.
//
// Why a data file: a stock image is pinned (URL + digest per architecture), and pins go
// stale as distributions publish new builds and delete old ones. Keeping them in one JSON
// file (src/image/cloud_images.json, compiled in like catalog.json) with the date they were
// last checked makes a refresh a one-file change that scripts/refresh-cloud-images can
// write. Debian publishes SHA512SUMS, Ubuntu SHA256SUMS: an entry is pinned by either.
// These aliases name images fleetbox downloads; the aliases of images fleetbox builds from
// packages (catalog.hpp) are a separate namespace and never overlap (checked at parse).
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::image {

// A content pin: the digest a downloaded file must have.
struct Digest {
    std::string algo; // "sha256" or "sha512"
    std::string hex;  // lowercase

    [[nodiscard]] std::string to_string() const { return algo + ":" + hex; }
    friend bool operator==(const Digest&, const Digest&) = default;
};

// "sha256" + 64 hex digits, or "sha512" + 128; any case in, lowercase out.
Result<Digest> make_digest(std::string_view algo, std::string_view hex);

struct CloudImageFile {
    std::string arch; // Debian's name: "amd64", "arm64"
    std::string url;
    Digest digest;
};

struct CloudImage {
    std::string alias; // e.g. "ubuntu-24.04"
    std::string description;
    std::string distro;   // "debian", "ubuntu"
    std::string release;  // "12", "24.04"
    std::string codename; // "bookworm", "noble"
    std::string serial;   // the dated build, e.g. "20260923-2610"
    std::vector<CloudImageFile> files;

    // The file for an architecture, or NotFound naming the ones there are.
    [[nodiscard]] Result<const CloudImageFile*> for_arch(std::string_view arch) const;
};

struct CloudCatalog {
    int version = 0;
    std::string checked; // YYYY-MM-DD the pins were last checked
    std::string checked_how;
    std::vector<CloudImage> images; // sorted by alias
};

Result<CloudCatalog> parse_cloud_catalog(std::string_view json_text);

// The embedded one, parsed once (aborts on a broken embedded file: unit tests parse it).
const CloudCatalog& cloud_catalog();

// nullptr when `alias` is not a stock image alias.
const CloudImage* find_cloud_image(std::string_view alias,
                                   const CloudCatalog& in = cloud_catalog());

// The host's architecture in Debian's spelling ("amd64" on x86_64).
std::string host_arch();

} // namespace fleetbox::image
