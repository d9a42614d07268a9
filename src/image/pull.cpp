// Pulled images (see cache.hpp, source.hpp): a stock cloud image, a URL or a local file made
// into a cache entry that boots like a built one.
//
// The steps, under the entry's exclusive lock (so two `up`s of one URL download once: the
// second waits, then finds the entry):
//   1. the input: a download into images/.downloads/<name>.download (fetch layer: resume,
//      pin, stall timeout), or the user's file read in place;
//   2. what it is, by content (diskimage: qcow2 or raw, no backing file), and what it boots
//      (diskimage::inspect: kernel + initrd out of its root, or a BIOS boot loader);
//   3. the disk: a downloaded qcow2 is renamed into the entry (same filesystem, no copy), a
//      local qcow2 is copied, a raw image is converted to qcow2 (thin; overlays need qcow2);
//   4. the manifest, written last, and the staging directory renamed into place.
// Nothing but the finished entry ever appears under the entry's name; a failed pull leaves
// at most a resumable .part (transport errors) or a complete pinned download (a later step
// failed, e.g. disk full), which the next pull reuses instead of downloading again; the next
// pull with another pin removes them (removal.cpp), and so does `image rm`.
// A pull runs as the calling user: nothing here needs root.
#include "diskimage/diskimage.hpp"
#include "fetch/fetch.hpp"
#include "fetch/url.hpp"
#include "image/cache.hpp"
#include "image/guest_files.hpp"
#include "image/pull_steps.hpp"
#include "image/source.hpp"
#include "image/tools.hpp"
#include "sys/atomic_file.hpp"
#include "sys/fs.hpp"
#include "sys/sha256.hpp"
#include "sys/temp_dir.hpp"
#include "util/clock.hpp"
#include "util/provisioning_methods.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>

namespace fleetbox::image {

namespace {

using Clock = std::chrono::steady_clock;

fetch::ProgressStyle fetch_style(const BuildOptions& options) {
    switch (resolve_progress_mode(options.progress, options.progress_out)) {
    case ProgressMode::Tty:
        return fetch::ProgressStyle::Tty;
    case ProgressMode::Plain:
        return fetch::ProgressStyle::Lines;
    default:
        return fetch::ProgressStyle::Quiet;
    }
}

std::optional<fetch::Pin> fetch_pin(const std::optional<Digest>& digest) {
    if (!digest)
        return std::nullopt;
    return fetch::Pin{digest->algo == "sha512" ? fetch::HashAlgo::Sha512 : fetch::HashAlgo::Sha256,
                      digest->hex};
}

std::string describe(const ImageSource& source) {
    return source.kind == SourceKind::File ? source.path : fetch::redact_url(source.url);
}

} // namespace

std::string ImageCache::download_path(const ImageSource& source) const {
    // A pinned download is named after its pin too: a download kept for one pin is never
    // taken for another pin of the same URL.
    if (source.digest)
        return fmt::format("{}/.downloads/{}-{}.download", dir_, source.name,
                           source.digest->hex.substr(0, 16));
    return fmt::format("{}/.downloads/{}.download", dir_, source.name);
}

Result<ImageInfo> ImageCache::ensure(const ImageSource& source, const BuildOptions& options) {
    switch (source.kind) {
    case SourceKind::Built:
        return ensure(source.name, options);
    case SourceKind::Cached: {
        if (auto hit = FBX_TRY(lookup(source.name)))
            return *hit;
        return fail(ErrorKind::NotFound, fmt::format("unknown image \"{}\"", source.name),
                    "known images are " + known_image_names(),
                    "or give an https:// URL or a file path like ./disk.qcow2");
    }
    default:
        return pull(source, options);
    }
}

Result<ImageInfo> ImageCache::pull(const ImageSource& source, const BuildOptions& options) {
    auto serves = [&](const std::optional<ImageInfo>& hit) -> Result<bool> {
        if (!hit || options.force)
            return false;
        return still_matches(*hit, source);
    };
    if (auto hit = FBX_TRY(lookup(source.name)); FBX_TRY(serves(hit)))
        return *hit;
    FBX_CHECK(ensure_dir(dir_, 0700));
    Progress progress(options.progress, "image " + source.name, options.progress_out);
    auto lock = FBX_TRY(lock_entry(source.name, &progress));
    if (auto hit = FBX_TRY(lookup(source.name)); FBX_TRY(serves(hit))) {
        progress.note("reusing the image another pull just finished");
        return *hit;
    }
    if (options.may_replace && is_directory(entry_dir(source.name)))
        FBX_CHECK(options.may_replace());
    FBX_CHECK(sweep_stale(source.name));
    FBX_CHECK(check_free_space(dir_, options.min_free_bytes));
    const auto started = Clock::now();
    Manifest manifest;
    manifest.alias = source.name;
    manifest.origin = origin_of(source);
    manifest.description =
        source.cloud ? source.cloud->description : "pulled from " + describe(source);
    if (source.cloud)
        manifest.suite = source.cloud->codename;

    // 1. The input.
    std::string input = source.path;
    const bool downloaded = source.kind != SourceKind::File;
    if (downloaded) {
        FBX_CHECK(ensure_dir(dir_ + "/.downloads", 0700));
        input = download_path(source);
        (void)FBX_TRY(remove_downloads(source.name, input)); // another pin's: never of use
        // A complete download kept from a pull that failed later is reused only when pinned:
        // without a pin there is no telling it is still what the URL serves.
        if (!source.digest || !path_exists(input)) {
            std::remove(input.c_str());
            progress.note(fmt::format("pulling {} (first run, this can take a few minutes)",
                                      describe(source)));
            fetch::FetchOptions fo;
            fo.pin = fetch_pin(source.digest);
            fo.progress = fetch_style(options);
            fo.progress_out = options.progress_out;
            fo.label = "image " + source.name;
            const auto t0 = Clock::now();
            auto got = fetch::fetch_url(source.url, input, fo);
            if (!got)
                return fail(std::move(got).error().wrap("pull image " + source.name));
            manifest.phases.push_back({"download", seconds_since(t0)});
            manifest.origin.sha256 = got->sha256;
            manifest.origin.size = got->size;
        }
    } else {
        auto stamp = FBX_TRY(stamp_of(input));
        manifest.origin.size = stamp.size;
        manifest.origin.mtime_ns = stamp.mtime_ns;
    }
    if (manifest.origin.sha256.empty()) {
        const auto t0 = Clock::now();
        manifest.origin.sha256 = FBX_TRY(sha256_file_hex(input));
        manifest.origin.size = FBX_TRY(file_size(input));
        manifest.phases.push_back({"hash", seconds_since(t0)});
    }

    auto imported = import_input(source, input, downloaded, std::move(manifest), progress, started);
    if (!imported && downloaded &&
        (!source.digest || imported.error().kind == ErrorKind::InvalidArgument))
        std::remove(input.c_str()); // kept only to spare a pinned download after a transient fault
    return imported;
}

Result<ImageInfo> ImageCache::import_input(const ImageSource& source, const std::string& input,
                                           bool downloaded, Manifest manifest, Progress& progress,
                                           std::chrono::steady_clock::time_point started) {
    // 2. What it is and what it boots.
    const std::string op = "use image " + describe(source);
    const auto format = FBX_TRY(diskimage::sniff_format(input).map_error(
        [&](Error e) { return std::move(e).wrap("pull image " + source.name); }));
    const auto facts = FBX_TRY(diskimage::check_disk(input, format));
    manifest.origin.format = diskimage::format_name(format);
    manifest.virtual_size = facts.virtual_size;
    auto staging = FBX_TRY(TempDir::create(dir_, ".build-" + source.name + "-"));
    progress.begin("inspect");
    auto t0 = Clock::now();
    auto found = diskimage::inspect(input, format, staging.path(), staging.path());
    if (!found) {
        progress.failed();
        return fail(std::move(found).error().wrap("pull image " + source.name));
    }
    progress.done();
    manifest.phases.push_back({"inspect", seconds_since(t0)});
    manifest.origin.os_name = found->os_name;
    manifest.origin.has_cloud_init = found->has_cloud_init ? (*found->has_cloud_init ? 1 : 0) : -1;
    manifest.boot.machine = "q35";
    if (found->kernel) {
        manifest.boot.mode = "kernel";
        manifest.boot.root = found->kernel->root_arg;
        manifest.kernel_version = found->kernel->kernel_version;
    } else if (found->firmware_bootable) {
        manifest.boot.mode = "firmware";
        manifest.boot.root.clear();
    } else {
        return fail(ErrorKind::InvalidArgument, op,
                    fmt::format("it has no kernel to boot directly ({}) and no BIOS boot loader",
                                found->why_no_kernel),
                    "fleetbox boots a Linux kernel from /boot of an ext2/3/4 filesystem, or the "
                    "image's own BIOS boot loader (grub-pc)");
    }
    if (found->has_cloud_init == false)
        progress.note(fmt::format(
            "note: {} has no cloud-init (not found in its root filesystem): fleetbox configures "
            "stock images through cloud-init, so SSH will probably not come up",
            source.name));

    // 3. The disk.
    progress.begin(format == diskimage::Format::Raw ? "convert to qcow2" : "store");
    t0 = Clock::now();
    const std::string disk = staging.path() + "/" + kDiskName;
    Status stored;
    if (format == diskimage::Format::Raw)
        stored = convert_to_qcow2(input, disk);
    else if (downloaded)
        stored = ::rename(input.c_str(), disk.c_str()) == 0
                     ? Status{}
                     : Status(fail_errno("move " + input + " into the cache", errno));
    else
        stored = copy_file(input, staging.path(), kDiskName);
    if (!stored) {
        progress.failed();
        return fail(std::move(stored).error().wrap("pull image " + source.name));
    }
    progress.done();
    manifest.phases.push_back(
        {format == diskimage::Format::Raw ? "convert" : "store", seconds_since(t0)});

    // 4. The manifest, last.
    t0 = Clock::now();
    for (const auto& name : required_files(manifest.boot)) {
        const std::string path = staging.path() + "/" + name;
        ManifestFile f{name, FBX_TRY(file_size(path)), ""};
        f.sha256 = (name == kDiskName && format == diskimage::Format::Qcow2)
                       ? manifest.origin.sha256
                       : FBX_TRY(sha256_file_hex(path));
        manifest.files.push_back(std::move(f));
    }
    manifest.provisioning = {{kMethodNoCloud, nocloud_cmdline()}};
    manifest.built_at = now_rfc3339();
    manifest.phases.push_back({"manifest", seconds_since(t0)});
    manifest.build_seconds = seconds_since(started);
    FBX_CHECK(
        write_file_atomic(staging.path() + "/" + kManifestName, manifest_to_json(manifest), 0600));
    FBX_CHECK(publish(staging.path(), entry_dir(source.name)));
    staging.release();
    if (downloaded)
        std::remove(input.c_str());
    return info_for(source.name, std::move(manifest));
}

} // namespace fleetbox::image
