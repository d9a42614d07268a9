// `fleetbox image ls [-o json]`: what is cached, where it came from and what it boots.
//
// The table answers the questions a user has about an image before booting it: which suite
// or OS, which kernel, how much disk it takes, how it boots (fleetbox's fast path or
// cloud-init; a BIOS boot loader) and when and how fast it was built or pulled. The JSON
// form carries everything in the manifest a script might want (paths, hashes, origin). The
// downloads a failed pull kept are named in notes on stderr: disk space the table misses.
#include "cmd_image.hpp"
#include "util/provisioning_methods.hpp"
#include "util/strings.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace fleetbox::cli {

namespace {

unsigned long long total_size(const image::ImageInfo& info) {
    unsigned long long sum = 0;
    for (const auto& f : info.manifest.files)
        sum += f.size;
    return sum;
}

std::string source_of(const image::Manifest& m) {
    return m.pulled() ? m.origin.kind : "built";
}

// The suite for a built image or a stock alias; the image's own os-release otherwise.
std::string suite_of(const image::Manifest& m) {
    if (!m.suite.empty())
        return m.suite;
    return m.origin.os_name.empty() ? "-" : m.origin.os_name;
}

std::string boot_of(const image::ImageInfo& info) {
    std::string boot = info.manifest.method(kMethodFleetboxSeed) ? "fast" : "cloud-init";
    if (info.manifest.boot.firmware())
        boot += ", bios";
    if (info.outdated)
        boot += " (outdated)";
    return boot;
}

std::string took(double seconds) {
    if (seconds < 60)
        return fmt::format("{:.1f} s", seconds);
    const auto whole = static_cast<long>(seconds + 0.5);
    return fmt::format("{}m{:02}s", whole / 60, whole % 60);
}

nlohmann::json to_json(const image::ImageInfo& info) {
    const auto& m = info.manifest;
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : m.files)
        files.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
    nlohmann::json out = {{"alias", info.alias},
                          {"name", info.alias},
                          {"path", info.dir},
                          {"source", source_of(m)},
                          {"suite", m.suite},
                          {"built_at", m.built_at},
                          {"build_seconds", m.build_seconds},
                          {"size", total_size(info)},
                          {"virtual_size", m.virtual_size},
                          {"kernel_version", m.kernel_version},
                          {"boot", {{"mode", m.boot.mode}, {"machine", m.boot.machine}}},
                          {"provisioning", m.method_names()},
                          {"outdated", info.outdated},
                          {"files", files}};
    if (m.pulled())
        out["origin"] = {{"kind", m.origin.kind},     {"given", m.origin.given},
                         {"url", m.origin.url},       {"path", m.origin.path},
                         {"digest", m.origin.digest}, {"sha256", m.origin.sha256},
                         {"format", m.origin.format}, {"os_name", m.origin.os_name}};
    return out;
}

// A note per download a failed or interrupted pull kept: it takes disk space the table does
// not show, and the user may not want that image any more.
Result<int> print_kept_downloads(const image::ImageCache& cache) {
    for (const auto& d : FBX_TRY(cache.kept_downloads()))
        fmt::print(stderr,
                   "note: {} has a {} download ({}) kept for its next pull to {}; `fleetbox "
                   "image rm {}` removes it\n",
                   d.name, d.complete ? "whole" : "partial", format_bytes(d.bytes),
                   d.complete ? "reuse" : "resume", d.name);
    return 0;
}

} // namespace

Result<int> run_image_ls(const std::string& output) {
    if (output != "table" && output != "json")
        return fail(ErrorKind::InvalidArgument, "image ls",
                    fmt::format("invalid --output \"{}\": want \"table\" or \"json\"", output));
    auto cache = FBX_TRY(open_image_cache());
    auto images = FBX_TRY(cache.list());
    if (output == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& info : images)
            out.push_back(to_json(info));
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    if (images.empty()) {
        fmt::print("No images found (build one with: fleetbox image build, or pull one with: "
                   "fleetbox image pull)\n");
        return print_kept_downloads(cache);
    }
    std::vector<std::vector<std::string>> rows{
        {"NAME", "SOURCE", "SUITE", "KERNEL", "SIZE", "DISK", "BOOT", "BUILT", "TOOK"}};
    bool any_outdated = false;
    for (const auto& info : images) {
        const auto& m = info.manifest;
        any_outdated = any_outdated || info.outdated;
        rows.push_back({info.alias, source_of(m), suite_of(m),
                        m.kernel_version.empty() ? "-" : m.kernel_version,
                        format_bytes(total_size(info)), format_bytes(m.virtual_size), boot_of(info),
                        m.built_at, took(m.build_seconds)});
    }
    print_table(rows);
    if (any_outdated)
        fmt::print(stderr, "note: outdated images were built by an older fleetbox or pulled "
                           "before the catalog's current pin; `fleetbox image build --force "
                           "NAME` or `fleetbox image pull --force NAME` replaces one (once no "
                           "VM uses it)\n");
    return print_kept_downloads(cache);
}

} // namespace fleetbox::cli
