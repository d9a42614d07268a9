// What `--image` (Options::image) names, and the cache entry it becomes.
//
// Why one parser: the same text arrives from the CLI, the C++ API and a VM's stored config,
// and must mean the same thing everywhere. It is one of:
//   - an alias of an image fleetbox builds from packages (catalog.hpp): "debian-12";
//   - an alias of a stock cloud image (cloud_catalog.hpp): "ubuntu-24.04";
//   - an http(s) URL, optionally pinned: "https://host/x.qcow2#sha256=HEX" (or #sha512=);
//   - a local file path, written with a '/' so it can never be mistaken for a name:
//     "./my.qcow2", "/srv/images/x.raw", "images/x.img";
//   - the name of an image already in the cache (a VM's config stores the name its image
//     got, so a VM made from a URL starts again without the URL).
// A URL or file becomes a cache entry named after its file name plus 8 hex digits of the
// sha256 of the URL or absolute path: readable, and distinct for distinct sources.
// Parsing is pure (no network, no file access) except that a path is made absolute.
#pragma once

#include "image/cloud_catalog.hpp"
#include "util/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace fleetbox::image {

enum class SourceKind { Built, Cloud, Url, File, Cached };

// "built", "cloud", "url", "file", "cached".
std::string_view to_string(SourceKind kind);

struct ImageSource {
    SourceKind kind = SourceKind::Built;
    std::string given;                 // the text as written
    std::string name;                  // the cache entry it is, or becomes
    std::string url;                   // Cloud, Url: without the #fragment
    std::optional<Digest> digest;      // Cloud: the catalog's pin; Url: the #pin, if any
    std::string path;                  // File: absolute, lexically normal
    const CloudImage* cloud = nullptr; // Cloud: the catalog entry

    [[nodiscard]] bool pulled() const {
        return kind == SourceKind::Cloud || kind == SourceKind::Url || kind == SourceKind::File;
    }
};

// InvalidArgument with one line saying what was wrong (bad scheme, bad pin, bad name).
// `cwd` makes a relative path absolute (empty: the process's working directory).
Result<ImageSource> parse_image_source(std::string_view text, const std::string& cwd = {});

// "ubuntu-24.04-server-cloudimg-amd64-1a2b3c4d": the file name without .qcow2/.img/.raw,
// [A-Za-z0-9._-] only, at most 48 characters, plus 8 hex digits of sha256(key).
std::string derived_name(std::string_view file_name, std::string_view key);

// Every name `--image` accepts besides URLs and paths, for "known images are ..." lines.
std::string known_image_names();

} // namespace fleetbox::image
