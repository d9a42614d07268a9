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
// failed, e.g. disk full), which the next pull reuses instead of downloading again.
// A pull runs as the calling user: nothing here needs root.
#include "diskimage/diskimage.hpp"
#include "fetch/fetch.hpp"
#include "image/build_handover.hpp"
#include "image/cache.hpp"
#include "image/guest_files.hpp"
#include "image/source.hpp"
#include "image/tools.hpp"
#include "sys/atomic_file.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"
#include "sys/fs.hpp"
#include "sys/sha256.hpp"
#include "sys/temp_dir.hpp"
#include "util/provisioning_methods.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::image {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

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
    return source.kind == SourceKind::File ? source.path : display_url(source.url);
}

struct FileStamp {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
};

Result<FileStamp> stamp_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int e = errno;
        if (e == ENOENT)
            return fail(ErrorKind::NotFound, "image file " + path, "no such file",
                        "check the path (a relative path is taken from the current directory)");
        return fail_errno("image file " + path, e);
    }
    if (!S_ISREG(st.st_mode))
        return fail(ErrorKind::InvalidArgument, "image file " + path, "not a regular file",
                    "name the disk image file itself");
    return FileStamp{static_cast<std::uint64_t>(st.st_size),
                     static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                         st.st_mtim.tv_nsec};
}

// Whether a cached pulled entry is what `source` asks for now.
Result<bool> still_matches(const ImageInfo& hit, const ImageSource& source) {
    const auto& origin = hit.manifest.origin;
    switch (source.kind) {
    case SourceKind::Url:
        if (!source.digest)
            return true;
        return origin.digest == source.digest->to_string() ||
               (source.digest->algo == "sha256" && origin.sha256 == source.digest->hex);
    case SourceKind::File: {
        auto stamp = FBX_TRY(stamp_of(source.path));
        return stamp.size == origin.size && stamp.mtime_ns == origin.mtime_ns;
    }
    default:
        return true; // Cloud: a changed catalog pin marks it outdated, it still serves
    }
}

// qemu-img's "No space left on device" is a full disk, not a failed command.
Error classify_qemu_img(Error e, const std::string& dir) {
    if (e.context.find("No space left") != std::string::npos ||
        e.context.find("Disk quota") != std::string::npos)
        return Error{ErrorKind::NoSpace, 0, e.operation, "disk full",
                     fmt::format("free space in {} and pull again", dir)};
    return e;
}

Status convert_to_qcow2(const std::string& input, const std::string& out) {
    ChildSpec spec;
    spec.argv = {"qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", input, out};
    spec.out = Stream::Capture;
    spec.missing_hint = "install it: sudo apt-get install qemu-utils";
    auto done = run_checked(spec);
    if (!done)
        return fail(classify_qemu_img(
            std::move(done).error().wrap("convert " + input + " to qcow2"), parent_dir(out)));
    return {};
}

Status copy_file(const std::string& input, const std::string& dir, const std::string& name) {
    Fd in(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in)
        return fail_errno("open " + input, errno);
    auto copied = copy_into(dir, name, in.get());
    if (!copied && copied.error().err_no == ENOSPC)
        return fail(ErrorKind::NoSpace, "copy " + input, "disk full",
                    fmt::format("free space in {} and pull again", dir));
    return copied;
}

ImageOrigin origin_of(const ImageSource& source) {
    ImageOrigin o;
    o.kind = std::string(to_string(source.kind));
    o.given = source.given;
    o.url = source.url;
    o.path = source.path;
    if (source.digest)
        o.digest = source.digest->to_string();
    if (source.cloud)
        o.catalog_checked = cloud_catalog().checked;
    return o;
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
            manifest.phases.push_back({"download", since(t0)});
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
        manifest.phases.push_back({"hash", since(t0)});
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
    manifest.phases.push_back({"inspect", since(t0)});
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
    manifest.phases.push_back({format == diskimage::Format::Raw ? "convert" : "store", since(t0)});

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
    manifest.phases.push_back({"manifest", since(t0)});
    manifest.build_seconds = since(started);
    FBX_CHECK(
        write_file_atomic(staging.path() + "/" + kManifestName, manifest_to_json(manifest), 0600));
    FBX_CHECK(publish(staging.path(), entry_dir(source.name)));
    staging.release();
    if (downloaded)
        std::remove(input.c_str());
    return info_for(source.name, std::move(manifest));
}

} // namespace fleetbox::image
