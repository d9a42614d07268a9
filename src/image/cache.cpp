// ImageCache (see cache.hpp). Publication is rename(2) within one directory, atomic on every
// local filesystem; replacing an existing entry (--force, or a damaged one) swaps the two
// directories with renameat2(RENAME_EXCHANGE) and then deletes the old one, so readers see
// either the old complete image or the new one, never a missing or partial one.
//
// Root and the store: a CLI run through sudo works as the invoking user
// (sys/privileges.hpp), but mmdebstrap needs root to give the guest's files their real owners.
// So a build is one ScopedRoot, and root never creates, writes or removes anything in the
// store: it stages the build in a directory of its own outside the store (mkdtemp(3) in
// /var/tmp: 0700, root's, in a sticky directory no user can rename it out of), opens the
// results there (O_NOFOLLOW), removes that directory, and ends the elevation; the user then
// copies the open results into a staging directory of theirs in images/ and publishes it.
// The build log is opened before, as the user, with O_NOFOLLOW; root only writes to that
// descriptor. Leftovers in the store are swept as the user, before the elevation; entries
// the user does not own (root's, from an older fleetbox) are left alone.
// A process that is root anyway (CI, a test under sudo) builds in its own root store as
// before: staging next to the entry, published by rename.
#include "image/cache.hpp"

#include "image/build_handover.hpp"
#include "image/recipe.hpp"
#include "image/scratch.hpp"
#include "image/tools.hpp"
#include "sys/fd.hpp"
#include "sys/file_lock.hpp"
#include "sys/fs.hpp"
#include "sys/interrupt.hpp"
#include "sys/temp_dir.hpp"
#include "sys/user.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::image {

namespace {

std::string absolute(const std::string& path) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(path, ec);
    return ec ? path : abs.lexically_normal().string();
}

// The alias lock, polled so Ctrl-C still works while another build (or a lease) holds it.
Result<FileLock> lock_alias(const std::string& path, const std::string& alias, Progress* progress,
                            FileLock::Mode mode = FileLock::Mode::Exclusive) {
    bool announced = false;
    while (true) {
        auto lock = FileLock::acquire(path, mode, std::chrono::milliseconds(200));
        if (lock)
            return lock;
        if (lock.error().kind != ErrorKind::Timeout)
            return fail(std::move(lock).error());
        if (interrupted())
            return fail(ErrorKind::Interrupted, "wait for image " + alias, "interrupted");
        if (!announced && progress != nullptr)
            progress->note(fmt::format("waiting for another build or pull of {} to finish", alias));
        announced = true;
    }
}

void append_log(int fd, const std::string& line) {
    std::string text = line + "\n";
    (void)!::write(fd, text.data(), text.size());
}

MirrorSet explicit_mirrors(const std::vector<std::string>& lines) {
    MirrorSet set;
    set.lines = lines;
    for (const auto& l : lines) {
        auto w = split(l, ' ');
        set.uris.push_back(w.size() > 1 && w[0] == "deb" ? w[1] : l);
    }
    return set;
}

} // namespace

Status check_image_name(std::string_view alias) {
    bool ok = !alias.empty() && alias.size() <= 64 && alias[0] != '.';
    for (char c : alias)
        ok =
            ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
    if (ok)
        return {};
    return fail(ErrorKind::InvalidArgument, fmt::format("image name \"{}\"", alias),
                "use letters, digits, '.', '_' and '-' (not starting with '.')");
}

ImageCache::ImageCache(std::string images_dir) : dir_(absolute(images_dir)) {}

std::string ImageCache::entry_dir(std::string_view alias) const {
    return dir_ + "/" + std::string(alias);
}
std::string ImageCache::lock_path(std::string_view alias) const {
    return fmt::format("{}/.{}.lock", dir_, alias);
}
std::string ImageCache::log_path(std::string_view alias) const {
    return fmt::format("{}/.logs/{}-build.log", dir_, alias);
}

ImageInfo ImageCache::info_for(std::string_view alias, Manifest manifest) const {
    ImageInfo info;
    info.alias = std::string(alias);
    info.dir = entry_dir(alias);
    info.disk_path = info.dir + "/" + kDiskName;
    if (!manifest.boot.firmware()) {
        info.kernel_path = info.dir + "/" + kKernelName;
        info.initrd_path = info.dir + "/" + kInitrdName;
    }
    info.manifest = std::move(manifest);
    if (auto entry = find_alias(alias); entry && !info.manifest.pulled())
        info.outdated = info.manifest.recipe != recipe_fingerprint(**entry);
    // A stock image whose catalog pin has moved on since it was pulled.
    if (const auto* cloud = find_cloud_image(alias); cloud && info.manifest.pulled())
        if (auto file = cloud->for_arch(host_arch()))
            info.outdated = info.manifest.origin.digest != (*file)->digest.to_string();
    return info;
}

Result<std::optional<ImageInfo>> ImageCache::lookup(std::string_view alias) const {
    FBX_CHECK(check_image_name(alias));
    std::string dir = entry_dir(alias);
    if (!is_directory(dir))
        return std::optional<ImageInfo>{};
    auto manifest = load_manifest(dir);
    if (!manifest) {
        if (manifest.error().kind == ErrorKind::Corrupt || manifest.error().err_no == ENOENT)
            return std::optional<ImageInfo>{}; // incomplete: rebuilt by the next ensure()
        return fail(std::move(manifest).error());
    }
    auto info = info_for(alias, *std::move(manifest));
    info.reused = true;
    return std::optional<ImageInfo>(std::move(info));
}

Result<ImageInfo> ImageCache::ensure(std::string_view alias, const BuildOptions& options) {
    const auto* entry = FBX_TRY(find_alias(alias));
    // A cached entry serves unless a build is forced, or it is outdated and the caller wants
    // this binary's recipe.
    auto serves = [&](const std::optional<ImageInfo>& hit) {
        return hit && !options.force && !(options.replace_outdated && hit->outdated);
    };
    if (auto hit = FBX_TRY(lookup(alias)); serves(hit))
        return *hit;
    FBX_CHECK(ensure_dir(dir_, 0700));
    Progress progress(options.progress, "image " + std::string(alias), options.progress_out);
    auto lock = FBX_TRY(lock_alias(lock_path(alias), std::string(alias), &progress));
    if (auto hit = FBX_TRY(lookup(alias)); serves(hit)) {
        progress.note("reusing the image another build just finished");
        return *hit;
    }
    // Asked whenever an entry directory exists, complete or not: overlays name its disk by path.
    if (options.may_replace && is_directory(entry_dir(alias)))
        FBX_CHECK(options.may_replace());
    // The log, as the user; then from here to the end of the build this process is root (see
    // the top of this file): leftovers of a killed build are root's, so the sweep needs it too.
    FBX_CHECK(ensure_dir(dir_ + "/.logs", 0700));
    FBX_CHECK(give_away(dir_ + "/.logs", {}, result_owner(nullptr)));
    Fd log = FBX_TRY(open_build_log(log_path(alias))); // a fresh log per build
    if (auto owner = result_owner(nullptr);
        owner && ::fchown(log.get(), owner->first, owner->second) != 0)
        return fail_errno("chown " + log_path(alias), errno);
    FBX_CHECK(sweep_stale(alias)); // as the user: only what the user owns
    std::optional<ScopedRoot> root;
    if (options.require_root && can_regain_root())
        root.emplace(FBX_TRY(ScopedRoot::enter("build image " + std::string(alias))));
    FBX_CHECK(sweep_scratch(kDefaultTmpfs, scratch_prefix(dir_, alias)));
    if (!options.scratch_dir.empty() && options.scratch_dir != "staging")
        FBX_CHECK(sweep_scratch(options.scratch_dir, scratch_prefix(dir_, alias)));
    return build_locked(*entry, options, progress, std::move(log), root);
}

Result<ImageInfo> ImageCache::build(std::string_view alias, const BuildOptions& options) {
    BuildOptions forced = options;
    forced.force = true;
    return ensure(alias, forced);
}

Result<ImageInfo> ImageCache::build_locked(const CatalogEntry& entry, const BuildOptions& options,
                                           Progress& progress, Fd log,
                                           std::optional<ScopedRoot>& root) {
    FBX_CHECK(check_tools());
    if (options.require_root)
        FBX_CHECK(check_root());
    const bool elevated = root && root->elevated();
    FBX_CHECK(check_free_space(dir_, options.min_free_bytes));
    if (elevated)
        FBX_CHECK(check_free_space(kRootStagingParent, options.min_free_bytes));
    BuildPlan plan;
    plan.entry = &entry;
    plan.mirrors = options.mirrors.empty() ? FBX_TRY(mirrors_for(entry, options.apt_dir))
                                           : explicit_mirrors(options.mirrors);
    const auto owner = result_owner(root ? &*root : nullptr);
    plan.log_path = log_path(entry.alias);
    plan.log_fd = log.get();
    auto staging = FBX_TRY(
        elevated ? TempDir::create(kRootStagingParent, ".fleetbox-build-" + entry.alias + "-")
                 : TempDir::create(dir_, ".build-" + entry.alias + "-"));
    plan.staging_dir = staging.path();
    auto place = choose_scratch(options.scratch_dir);
    std::optional<TempDir> scratch; // removed on every return path, like the staging dir
    if (!place.parent.empty()) {
        FBX_CHECK(ensure_dir(place.parent));
        scratch = FBX_TRY(TempDir::create(place.parent, scratch_prefix(dir_, entry.alias)));
    }
    plan.work_dir = scratch ? scratch->path() : staging.path();
    append_log(plan.log_fd, fmt::format("fleetbox: staging in {}", plan.staging_dir));
    append_log(plan.log_fd,
               fmt::format("fleetbox: intermediates in {} ({})", plan.work_dir, place.reason));

    auto manifest = build_image(plan, progress);
    if (!manifest) {
        progress.failed(manifest.error().kind == ErrorKind::Interrupted ? "interrupted" : "failed");
        return fail(std::move(manifest).error());
    }
    std::vector<std::string> files{kManifestName};
    for (const auto& f : manifest->files)
        files.push_back(f.name);
    const std::string target = entry_dir(entry.alias);
    if (!elevated) {
        // Handed over while still in the staging directory, before it is published.
        FBX_CHECK(give_away(staging.path(), files, owner));
        FBX_CHECK(publish(staging.path(), target));
        staging.release();
        return info_for(entry.alias, *std::move(manifest));
    }
    // Root's part ends here: open the results, remove root's directories, become the user.
    auto results = FBX_TRY(open_results(staging.path(), files));
    FBX_CHECK(staging.remove());
    scratch.reset();
    root.reset();
    auto mine = FBX_TRY(TempDir::create(dir_, ".build-" + entry.alias + "-"));
    for (const auto& result : results)
        FBX_CHECK(copy_into(mine.path(), result.name, result.fd.get()));
    FBX_CHECK(fsync_dir(mine.path()));
    FBX_CHECK(publish(mine.path(), target));
    mine.release();
    return info_for(entry.alias, *std::move(manifest));
}

Status ImageCache::publish(const std::string& staging, const std::string& target) const {
    if (::rename(staging.c_str(), target.c_str()) == 0)
        return fsync_dir(dir_);
    if (errno != EEXIST && errno != ENOTEMPTY)
        return fail_errno(fmt::format("rename {} to {}", staging, target), errno);
    // An entry exists (forced rebuild, or a damaged one): swap, then delete the old one.
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0)
        return fail_errno(fmt::format("replace {} with {}", target, staging), errno);
    FBX_CHECK(fsync_dir(dir_));
    return remove_tree(staging); // now holds the old entry
}

Result<std::vector<ImageInfo>> ImageCache::list() const {
    std::vector<ImageInfo> out;
    auto names = FBX_TRY(list_dir(dir_));
    for (const auto& n : names) {
        if (!check_image_name(n))
            continue; // dot entries: locks, logs, staging dirs
        if (auto hit = FBX_TRY(lookup(n)))
            out.push_back(*std::move(hit));
    }
    return out;
}

Result<FileLock> ImageCache::lock_entry(std::string_view name, Progress* progress,
                                        FileLock::Mode mode) const {
    return lock_alias(lock_path(name), std::string(name), progress, mode);
}

Result<ImageLease> ImageCache::lease(std::string_view alias, const BuildOptions& options) {
    return lease(FBX_TRY(parse_image_source(alias)), options);
}

Result<ImageLease> ImageCache::lease(const ImageSource& source, const BuildOptions& options) {
    constexpr int kAttempts = 3;
    const std::string& alias = source.name;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        auto info = FBX_TRY(ensure(source, options));
        auto lock = FBX_TRY(
            lock_alias(lock_path(alias), std::string(alias), nullptr, FileLock::Mode::Shared));
        if (auto hit = FBX_TRY(lookup(alias))) {
            hit->reused = info.reused;
            return ImageLease{*std::move(hit), std::move(lock)};
        }
    }
    return fail(ErrorKind::Busy, fmt::format("use image {}", alias),
                fmt::format("it was removed again each of {} times it was built", kAttempts),
                "stop the other fleetbox command that removes it (fleetbox image rm)");
}

} // namespace fleetbox::image
