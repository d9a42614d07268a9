// The image build phases (see builder.hpp). External programs: mmdebstrap (root tree),
// mkfs.ext4 -d (populates an ext4 image from a directory without mounting it; e2fsprogs
// >= 1.43 copies ownership, modes, xattrs and hard links) and qemu-img convert.
#include "image/builder.hpp"

#include "image/guest_files.hpp"
#include "image/recipe.hpp"
#include "image/step.hpp"
#include "sys/atomic_file.hpp"
#include "sys/fs.hpp"
#include "sys/interrupt.hpp"
#include "sys/sha256.hpp"
#include "util/clock.hpp"
#include "util/provisioning_methods.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <ftw.h>
#include <mutex>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <utility>

namespace fleetbox::image {

namespace {

constexpr std::uint64_t kMiB = 1024ULL * 1024ULL;
constexpr std::uint64_t kBlock = 4096;
constexpr const char* kFsLabel = "fleetbox-root";

struct TreeUsage {
    std::uint64_t data = 0;
    std::uint64_t inodes = 0;
};

// nftw has no user pointer; the walk is single-threaded per build and guarded by a mutex.
std::mutex g_walk_mu;
TreeUsage* g_usage = nullptr;
std::set<std::pair<dev_t, ino_t>>* g_seen = nullptr;

int count_entry(const char*, const struct stat* st, int, FTW*) {
    if (!g_seen->insert({st->st_dev, st->st_ino}).second)
        return 0; // a hard link counted once
    ++g_usage->inodes;
    if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) || (S_ISLNK(st->st_mode) && st->st_size >= 60))
        g_usage->data += (static_cast<std::uint64_t>(st->st_size) + kBlock - 1) / kBlock * kBlock;
    return 0;
}

Result<TreeUsage> measure_tree(const std::string& root) {
    std::lock_guard lock(g_walk_mu);
    TreeUsage usage;
    std::set<std::pair<dev_t, ino_t>> seen;
    g_usage = &usage;
    g_seen = &seen;
    int rc = ::nftw(root.c_str(), count_entry, 64, FTW_PHYS | FTW_MOUNT);
    g_usage = nullptr;
    g_seen = nullptr;
    if (rc != 0)
        return fail_errno("measure " + root, errno);
    return usage;
}

Status check_interrupt(const BuildPlan& plan) {
    if (!interrupted())
        return {};
    return fail(ErrorKind::Interrupted, "build image " + plan.entry->alias, "interrupted");
}

StepSpec step(const BuildPlan& plan, std::vector<std::string> argv, std::string package) {
    StepSpec s;
    s.alias = plan.entry->alias;
    s.argv = std::move(argv);
    s.package = std::move(package);
    s.log_path = plan.log_path;
    s.log_fd = plan.log_fd;
    s.mirrors = &plan.mirrors;
    return s;
}

// The kernel version both boot/vmlinuz-<v> and boot/initrd.img-<v> exist for, newest first.
Result<std::string> newest_kernel(const std::string& boot_dir) {
    auto names = FBX_TRY(list_dir(boot_dir));
    std::vector<std::string> versions;
    for (const auto& n : names) {
        if (!starts_with(n, "vmlinuz-"))
            continue;
        std::string v = n.substr(8);
        if (std::find(names.begin(), names.end(), "initrd.img-" + v) != names.end())
            versions.push_back(v);
    }
    if (versions.empty())
        return fail(ErrorKind::ExternalCommand, "find the kernel in " + boot_dir,
                    "no vmlinuz-<version> with a matching initrd.img-<version>",
                    "the package set must include a kernel (linux-image-*) and initramfs-tools");
    std::sort(versions.begin(), versions.end(), [](const std::string& a, const std::string& b) {
        return ::strverscmp(a.c_str(), b.c_str()) > 0;
    });
    return versions.front();
}

Status copy_out(const std::string& from, const std::string& to) {
    std::error_code ec;
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec)
        return fail(ErrorKind::Io, fmt::format("copy {} to {}", from, to), ec.message());
    ::chmod(to.c_str(), 0600); // the store is its owner's alone
    return {};
}

Status run_mkfs(const BuildPlan& plan, const std::string& rootfs, const std::string& raw,
                std::uint64_t size) {
    // -T default -b 4096: below 512 MiB mke2fs would pick the "small" profile (1 KiB blocks),
    // bad for a filesystem that cloud-init grows to 20 GiB at first boot. -m 1: 1% reserved.
    std::vector<std::string> argv = {"mkfs.ext4",
                                     "-q",
                                     "-F",
                                     "-L",
                                     kFsLabel,
                                     "-T",
                                     "default",
                                     "-b",
                                     "4096",
                                     "-i",
                                     "16384",
                                     "-m",
                                     "1",
                                     "-d",
                                     rootfs,
                                     raw,
                                     std::to_string(size / 1024) + "k"};
    return run_step(step(plan, argv, "e2fsprogs"));
}

// mkfs.ext4 with the estimated size; if the tree did not fit after all ("Could not allocate
// block/inode", "No free space in the filesystem"), once more with half as much again.
Result<std::uint64_t> make_filesystem(const BuildPlan& plan, const std::string& rootfs,
                                      const std::string& raw, std::uint64_t size) {
    auto st = run_mkfs(plan, rootfs, raw, size);
    if (st)
        return size;
    const std::string& why = st.error().context;
    bool too_small = why.find("Could not allocate") != std::string::npos ||
                     why.find("No free space in the filesystem") != std::string::npos;
    if (!too_small)
        return fail(std::move(st).error());
    FBX_CHECK(remove_tree(raw));
    size = (size + size / 2 + 64 * kMiB - 1) / (64 * kMiB) * (64 * kMiB);
    FBX_CHECK(run_mkfs(plan, rootfs, raw, size));
    return size;
}

Result<std::vector<ManifestFile>> hash_files(const std::string& dir) {
    std::vector<ManifestFile> files;
    for (const char* name : {kDiskName, kKernelName, kInitrdName}) {
        std::string path = dir + "/" + name;
        auto size = FBX_TRY(file_size(path));
        auto sum = FBX_TRY(sha256_file_hex(path));
        files.push_back({name, size, sum});
    }
    return files;
}

// Times the phases of one build (for the manifest) and announces them (progress).
class PhaseClock {
public:
    explicit PhaseClock(Progress& progress) : progress_(progress) {}
    void begin(std::string key, const std::string& title) {
        close();
        key_ = std::move(key);
        started_ = std::chrono::steady_clock::now();
        progress_.begin(title);
    }
    std::vector<PhaseTime> finish() {
        close();
        progress_.done();
        return std::move(times_);
    }

private:
    void close() {
        if (key_.empty())
            return;
        times_.push_back({key_, seconds_since(started_)});
        key_.clear();
    }
    Progress& progress_;
    std::string key_;
    std::chrono::steady_clock::time_point started_;
    std::vector<PhaseTime> times_;
};

} // namespace

std::uint64_t filesystem_size(std::uint64_t data_bytes, std::uint64_t inode_count,
                              std::uint64_t headroom_bytes) {
    std::uint64_t by_data =
        data_bytes + data_bytes / 10 + headroom_bytes + 64 * kMiB; // + journal, tables
    std::uint64_t by_inodes = (inode_count + inode_count / 4) * 16384;
    std::uint64_t size = std::max(by_data, by_inodes);
    return (size + 64 * kMiB - 1) / (64 * kMiB) * (64 * kMiB);
}

Result<Manifest> build_image(const BuildPlan& plan, Progress& progress) {
    const CatalogEntry& entry = *plan.entry;
    auto started = std::chrono::steady_clock::now();
    const std::string work = plan.work_dir.empty() ? plan.staging_dir : plan.work_dir;
    const std::string rootfs = work + "/rootfs";
    const std::string raw = work + "/disk.raw";
    const std::string disk = plan.staging_dir + "/" + kDiskName;
    PhaseClock phases(progress);

    phases.begin("bootstrap", "bootstrap Debian packages (mmdebstrap " + entry.suite + ")");
    auto boot = step(plan, mmdebstrap_argv(entry, rootfs, plan.mirrors.lines), "mmdebstrap");
    boot.progress = &progress;
    FBX_CHECK(run_step(boot));

    phases.begin("kernel", "copy out kernel and initrd");
    auto version = FBX_TRY(newest_kernel(rootfs + "/boot"));
    FBX_CHECK(copy_out(rootfs + "/boot/vmlinuz-" + version, plan.staging_dir + "/" + kKernelName));
    FBX_CHECK(
        copy_out(rootfs + "/boot/initrd.img-" + version, plan.staging_dir + "/" + kInitrdName));
    FBX_CHECK(check_interrupt(plan));

    phases.begin("mkfs", "make ext4 root filesystem");
    auto usage = FBX_TRY(measure_tree(rootfs));
    std::uint64_t fs_size = FBX_TRY(
        make_filesystem(plan, rootfs, raw,
                        filesystem_size(usage.data, usage.inodes, entry.fs_headroom_mib * kMiB)));

    phases.begin("convert", "convert to qcow2");
    // The tree is no longer needed: delete it while qemu-img converts (on disk, removing
    // ~15k files takes seconds to tens of seconds of metadata I/O; on tmpfs, milliseconds).
    Status removed;
    std::thread remover([&] { removed = remove_tree(rootfs); });
    auto converted = run_step(
        step(plan, {"qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, disk}, "qemu-utils"));
    remover.join();
    FBX_CHECK(converted);
    FBX_CHECK(removed);
    FBX_CHECK(remove_tree(raw));

    phases.begin("manifest", "write manifest");
    Manifest m;
    m.alias = entry.alias;
    m.description = entry.description;
    m.built_at = now_rfc3339();
    m.virtual_size = fs_size;
    m.kernel_version = version;
    m.kernel_cmdline = entry.kernel_cmdline;
    m.root_device = entry.root_device;
    m.suite = entry.suite;
    m.packages = entry.packages;
    m.mirrors = plan.mirrors.lines;
    m.recipe = recipe_fingerprint(entry);
    m.boot_markers = {kMarkerInitramfs, kMarkerSwitchRoot, kMarkerSystemd, kMarkerSeed,
                      kMarkerSshd};
    // The seed is the second virtio disk (after the root overlay): /dev/vdb.
    m.provisioning = {{kMethodFleetboxSeed, fast_path_cmdline("/dev/vdb")},
                      {kMethodNoCloud, nocloud_cmdline()}};
    m.files = FBX_TRY(hash_files(plan.staging_dir));
    m.phases = phases.finish();
    m.build_seconds = seconds_since(started);
    FBX_CHECK(write_file_atomic(plan.staging_dir + "/" + kManifestName, manifest_to_json(m), 0600));
    return m;
}

} // namespace fleetbox::image
