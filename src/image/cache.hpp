// ImageCache: the images/ directory of the store — lookup, build-once, list, remove.
//
// Layout (only complete images are visible under their alias):
//   images/<alias>/{disk.qcow2,vmlinuz,initrd.img,manifest.json}  a complete image
//   images/.<alias>.lock                                           flock: exclusive while building
//   or
//                                                                  removing, shared while leased
//   images/.build-<alias>-XXXXXX/                                  a build in progress (staging)
//   images/.logs/<alias>-build.log                                 output of the last build
// Why: an entry is complete iff its manifest parses and every file it names has its recorded
// size; the manifest is written last in a staging directory that is renamed into place only
// when complete, so a failed, killed or interrupted build never leaves anything that looks
// like an image. Builds of one alias are serialized by an exclusive flock: a second builder
// waits, then finds the finished entry and reuses it. Staging directories of a killed build
// (.build-<alias>-*) are swept by the next holder of the alias lock, which proves no build
// of that alias is running.
//
// Downloads (pull.cpp, removal.cpp): images/.downloads/<name>[-<pin16>].download[.part]
// holds what a pull is fetching, and what a failed pull kept for the next one to resume or
// reuse; `image rm NAME` removes it with (or without) the entry.
//
// A lease is the shared side of that lock: `up` holds one from the moment it has the image
// until the new VM's config (which names the image) exists, so a concurrent `image rm` or
// `build --force` either runs before (and `up` then builds afresh) or after (and sees the VM
// in its may_remove / may_replace check): a base is never swapped under a new overlay.
//
// Privileges: an image build is the one place where fleetbox, run through sudo as the
// invoking user, becomes root again (ScopedRoot, sys/privileges.hpp): mmdebstrap can give the
// guest's files their real owners only as root. Root builds outside the store and the user
// copies the result in; see cache.cpp.
#pragma once

#include "image/builder.hpp"
#include "image/manifest.hpp"
#include "image/source.hpp"
#include "sys/fd.hpp"
#include "sys/file_lock.hpp"
#include "sys/privileges.hpp"
#include "util/error.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::image {

struct ImageInfo {
    std::string alias;
    std::string dir;         // absolute
    std::string disk_path;   // <dir>/disk.qcow2
    std::string kernel_path; // <dir>/vmlinuz ("" for an image booted through firmware)
    std::string initrd_path; // <dir>/initrd.img ("" likewise)
    Manifest manifest;
    bool reused = false; // ensure(): true when no build ran in this call
    // Built by another recipe than this binary's (an older fleetbox): still usable (VMs may
    // be overlays on it), but `image build --force` would give a different image.
    bool outdated = false;
};

// A download kept in images/.downloads/ for the next pull of an image: a .part to resume (a
// transport fault or Ctrl-C cut it) or a whole pinned download a later step failed on.
struct KeptDownload {
    std::string name; // the image it is for
    std::string path; // the .part or .download file
    unsigned long long bytes = 0;
    bool complete = false; // a whole pinned download (else a .part)
};

// What ImageCache::remove took away.
struct Removed {
    bool image = false;                    // the entry
    unsigned long long download_bytes = 0; // kept downloads of it
    int downloads = 0;
};

// A cached image plus the shared alias lock that keeps it from being removed or replaced.
struct ImageLease {
    ImageInfo info;
    FileLock lock;
};

class ImageCache {
public:
    explicit ImageCache(std::string images_dir);

    [[nodiscard]] const std::string& dir() const { return dir_; }
    [[nodiscard]] std::string entry_dir(std::string_view alias) const;
    [[nodiscard]] std::string lock_path(std::string_view alias) const;
    [[nodiscard]] std::string log_path(std::string_view alias) const;

    // The complete entry, or nullopt (absent, or incomplete/corrupt: not considered cached).
    Result<std::optional<ImageInfo>> lookup(std::string_view alias) const;
    // The cached image, building it first when absent (options.force: always rebuild).
    Result<ImageInfo> ensure(std::string_view alias, const BuildOptions& options = {});
    // Rebuild unconditionally (ensure with force).
    Result<ImageInfo> build(std::string_view alias, const BuildOptions& options = {});
    // ensure(), then the shared alias lock with the entry re-checked under it (an entry removed
    // in between is built again). Waits while a build or removal holds the lock. `text` is
    // anything --image takes (parse_image_source): an alias, a URL, a path or a cached name.
    Result<ImageLease> lease(std::string_view text, const BuildOptions& options = {});
    // The image any source names (source.hpp): a built alias as ensure(alias); a stock alias,
    // URL or file pulled once (pull.cpp; options.force pulls again); a cached name looked
    // up (NotFound listing the known images when absent).
    Result<ImageInfo> ensure(const ImageSource& source, const BuildOptions& options = {});
    // ensure(source) plus the shared lock, as lease(alias).
    Result<ImageLease> lease(const ImageSource& source, const BuildOptions& options = {});
    // Re-hash every file of an entry against its manifest: Corrupt naming the first file
    // that differs, NotFound when not cached. Holds the shared lock while it reads.
    Status verify(std::string_view name) const;
    // Every complete entry, sorted by alias.
    Result<std::vector<ImageInfo>> list() const;
    // Delete an entry and the downloads kept for it (waits for a build, pull or lease of it
    // to end). NotFound when neither exists. `may_remove`, when given, is asked under the
    // exclusive lock when the entry exists; its error keeps everything.
    Result<Removed> remove(std::string_view alias, const std::function<Status()>& may_remove = {});
    // The downloads kept in .downloads/ (of all images, or of `name`), in file-name order.
    Result<std::vector<KeptDownload>> kept_downloads(std::string_view name = {}) const;

private:
    Result<ImageInfo> build_locked(const CatalogEntry& entry, const BuildOptions& options,
                                   Progress& progress, Fd log, std::optional<ScopedRoot>& root);
    Result<ImageInfo> pull(const ImageSource& source, const BuildOptions& options);
    Result<ImageInfo> import_input(const ImageSource& source, const std::string& input,
                                   bool downloaded, Manifest manifest, Progress& progress,
                                   std::chrono::steady_clock::time_point started);
    Result<FileLock> lock_entry(std::string_view name, Progress* progress,
                                FileLock::Mode mode = FileLock::Mode::Exclusive) const;
    [[nodiscard]] std::string download_path(const ImageSource& source) const;
    Status sweep_stale(std::string_view alias) const;
    // Removes `name`'s downloads except `keep` (and its .part): those of another pin.
    Result<Removed> remove_downloads(std::string_view name, const std::string& keep = {}) const;
    Status publish(const std::string& staging, const std::string& target) const;
    [[nodiscard]] ImageInfo info_for(std::string_view alias, Manifest manifest) const;

    std::string dir_;
};

// Valid cache names: [A-Za-z0-9._-], not starting with '.', at most 64 characters.
Status check_image_name(std::string_view alias);

} // namespace fleetbox::image
