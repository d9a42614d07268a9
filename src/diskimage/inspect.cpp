// inspect (see diskimage.hpp): convert a qcow2 to a temporary sparse raw file, read the
// layout with libblkid, open each ext2/3/4 volume with libext2fs, find the root (holds
// /etc/os-release) and the boot directory (holds vmlinuz*), and copy the chosen kernel and
// initrd out. Only the two fixed names in out_dir are ever written; every path followed is
// a path inside the image (ext_volume.hpp).
#include "diskimage/boot_files.hpp"
#include "diskimage/diskimage.hpp"
#include "diskimage/ext_volume.hpp"
#include "diskimage/qcow2_header.hpp"
#include "diskimage/qemu_img.hpp"
#include "diskimage/read_head.hpp"
#include "diskimage/volumes.hpp"
#include "sys/atomic_file.hpp"
#include "sys/fs.hpp"
#include "sys/temp_dir.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>

namespace fleetbox::diskimage {

namespace {

constexpr std::uint64_t kMaxBootFile = 256ULL << 20;

// qemu-img convert to a sparse raw file (holes for zero runs of 4 KiB and more).
Status convert_to_raw(const std::string& path, const std::string& raw,
                      const std::string& work_dir) {
    ChildSpec spec;
    spec.argv = {
        "qemu-img", "convert", "-O", "raw", "-S", "4k", qemu_img_source(path, Format::Qcow2), raw};
    spec.out = Stream::Null;
    spec.missing_hint = kQemuImgHint;
    auto ran = run_command(spec, std::chrono::minutes(30));
    if (!ran)
        return fail(std::move(ran).error());
    if (ran->status.ok())
        return {};
    if (ran->err.find("No space left on device") != std::string::npos ||
        ran->err.find("Disk quota exceeded") != std::string::npos)
        return fail(ErrorKind::NoSpace, "convert " + path + " to raw", "disk full while converting",
                    fmt::format("free space in {} (the raw copy needs up to the image's "
                                "virtual size)",
                                work_dir));
    return fail(ErrorKind::Corrupt, "convert " + path + " to raw",
                fmt::format("qemu-img failed: {}", last_line(ran->err)),
                "download or copy the image again");
}

bool is_ext(const Volume& v) {
    return v.fs_type == "ext2" || v.fs_type == "ext3" || v.fs_type == "ext4";
}

std::string describe(const Volume& v) {
    std::string type = v.fs_type.empty() ? "unknown" : v.fs_type;
    return v.number == 0 ? "whole disk " + type : fmt::format("{} {}", v.number, type);
}

struct Opened {
    const Volume* volume;
    ExtVolume fs;
};

struct Found {
    std::string kernel_path; // inside the volume
    std::string initrd_path;
    std::string version;
    const Opened* where = nullptr;
};

bool is_file(const ExtVolume& fs, const std::string& path) {
    auto node = fs.resolve(path);
    return node && node->regular;
}

std::string join_path(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

// The kernel in one boot directory: the unversioned vmlinuz + initrd.img first (in `dir`,
// then at the filesystem's top level), else the newest versioned pair.
std::optional<Found> find_kernel(const Opened& vol, const std::string& dir, std::string& note) {
    auto node = vol.fs.resolve(dir);
    if (!node || !node->directory)
        return std::nullopt;
    std::vector<std::string> names = vol.fs.list(*node);
    bool any = false;
    for (const auto& n : names)
        any = any || n.rfind("vmlinuz", 0) == 0;
    if (!any)
        return std::nullopt;
    for (const std::string& where : {dir, std::string("/")}) {
        std::string k = join_path(where, "vmlinuz");
        std::string i = join_path(where, "initrd.img");
        if (is_file(vol.fs, k) && is_file(vol.fs, i))
            return Found{k, i, version_from_kernel_name(vol.fs.link_target(k)), &vol};
    }
    std::vector<std::string> files;
    for (const auto& n : names)
        if ((n.rfind("vmlinuz-", 0) == 0 || n.rfind("initrd.img-", 0) == 0 ||
             n.rfind("initramfs-", 0) == 0) &&
            is_file(vol.fs, join_path(dir, n)))
            files.push_back(n);
    if (auto pair = choose_versioned(files))
        return Found{join_path(dir, pair->kernel), join_path(dir, pair->initrd), pair->version,
                     &vol};
    if (note.empty()) // the first directory looked at says most
        note = fmt::format("{} has vmlinuz* but no matching initrd.img", dir);
    return std::nullopt;
}

Status extract(const ExtVolume& fs, const std::string& inner, const std::string& dest) {
    auto node = fs.resolve(inner);
    if (!node || !node->regular)
        return fail(ErrorKind::Corrupt, "read " + inner + " from image", "not a regular file");
    auto out = FBX_TRY(AtomicFile::open(dest, 0644));
    auto copied = fs.copy(*node, kMaxBootFile,
                          [&out](std::string_view chunk) -> Status { return out.write(chunk); });
    if (!copied)
        return fail(std::move(copied).error().wrap("extract " + inner + " from image"));
    return out.commit();
}

// The program, or one of its systemd units (cloud-init.service was split into
// cloud-init-main/-network.service in cloud-init 24.3); /lib is a symlink on merged-/usr
// systems and resolved inside the image like any other.
bool has_cloud_init(const ExtVolume& fs) {
    if (is_file(fs, "/usr/bin/cloud-init"))
        return true;
    for (const char* dir : {"/lib/systemd/system/", "/usr/lib/systemd/system/"})
        for (const char* unit :
             {"cloud-init.service", "cloud-init-main.service", "cloud-init-network.service"})
            if (is_file(fs, std::string(dir) + unit))
                return true;
    return false;
}

Result<Inspection> inspect_raw(const std::string& raw, const std::string& out_dir) {
    Fd fd = FBX_TRY(open_image(raw));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail_errno("stat " + raw, errno);
    auto disk_size = static_cast<std::uint64_t>(st.st_size);
    std::string first_sector = FBX_TRY(read_at(fd.get(), 0, 512));

    Inspection ins;
    DiskLayout layout = FBX_TRY(probe_layout(fd.get(), disk_size));
    ins.partition_table = layout.table;
    ins.firmware_bootable = has_mbr_boot_code(first_sector) || layout.bios_boot_partition;

    std::vector<std::string> seen;
    std::vector<Opened> ext;
    for (const auto& v : layout.volumes) {
        std::string d = describe(v);
        if (is_ext(v)) {
            // Through our descriptor: libext2fs reads the very file libblkid probed.
            auto opened =
                ExtVolume::open(fmt::format("/proc/self/fd/{}", fd.get()), v.offset, v.size);
            if (!opened)
                d += " (unreadable: " + opened.error().context + ")";
            else
                ext.push_back(Opened{&v, std::move(*opened)});
        }
        seen.push_back(d);
    }

    const Opened* root = nullptr;
    for (const auto& o : ext) {
        auto release = o.fs.resolve("/etc/os-release");
        if (!release || !release->regular)
            continue;
        root = &o;
        auto text = o.fs.read(*release, 64 * 1024);
        ins.os_name = text ? pretty_name(*text) : "";
        ins.has_cloud_init = has_cloud_init(o.fs);
        break;
    }

    std::string note;
    std::optional<Found> found;
    if (root != nullptr)
        found = find_kernel(*root, "/boot", note);
    for (const auto& o : ext) {
        if (found)
            break;
        if (&o != root)
            found = find_kernel(o, "/", note);
    }
    if (!found && root != nullptr)
        found = find_kernel(*root, "/", note);

    const std::string looked_at =
        seen.empty() ? "no filesystem found"
                     : (layout.table.empty() ? "" : "partitions: ") + join(seen, ", ");
    if (!found) {
        ins.why_no_kernel = note.empty()
                                ? fmt::format("no ext2/3/4 filesystem with /boot/vmlinuz* or a "
                                              "top-level vmlinuz* ({})",
                                              looked_at)
                                : fmt::format("{} ({})", note, looked_at);
        return ins;
    }
    if (root == nullptr || !is_safe_uuid(root->volume->fs_uuid)) {
        ins.why_no_kernel = fmt::format(
            "a kernel is in {} but no root filesystem (ext2/3/4 with /etc/os-release and a "
            "UUID) was found ({})",
            found->kernel_path, looked_at);
        return ins;
    }
    for (const std::string& inner : {found->kernel_path, found->initrd_path}) {
        auto node = found->where->fs.resolve(inner);
        if (node && node->size > kMaxBootFile) {
            ins.why_no_kernel = fmt::format("{} is larger than {} ({})", inner,
                                            format_bytes(kMaxBootFile), looked_at);
            return ins;
        }
    }
    FBX_CHECK(ensure_dir(out_dir, 0755));
    FBX_CHECK(extract(found->where->fs, found->kernel_path, out_dir + "/vmlinuz"));
    FBX_CHECK(extract(found->where->fs, found->initrd_path, out_dir + "/initrd.img"));
    KernelFiles files;
    files.kernel_version = found->version;
    if (files.kernel_version.empty()) {
        auto head = read_head(out_dir + "/vmlinuz", 64 * 1024);
        if (head)
            files.kernel_version = version_from_bzimage(*head);
    }
    if (files.kernel_version.empty())
        files.kernel_version = "unknown";
    files.root_arg = "UUID=" + root->volume->fs_uuid;
    ins.kernel = std::move(files);
    return ins;
}

} // namespace

Result<Inspection> inspect(const std::string& path, Format format, const std::string& work_dir,
                           const std::string& out_dir) {
    const std::string op = "inspect image " + path;
    if (format == Format::Raw) {
        auto ins = inspect_raw(path, out_dir);
        if (!ins)
            return fail(std::move(ins).error().wrap(op));
        return ins;
    }
    FBX_TRY(read_safe_qcow2_header(path));
    auto dir = TempDir::create(work_dir, ".inspect-");
    if (!dir)
        return fail(std::move(dir).error().wrap(op));
    // Absolute: qemu-img would read "a:b/disk.raw" as protocol "a".
    std::error_code ec;
    const std::string raw =
        std::filesystem::absolute(dir->path() + "/disk.raw", ec).lexically_normal().string();
    if (ec)
        return fail(ErrorKind::Io, op, "cannot make the work directory's path absolute");
    auto converted = convert_to_raw(path, raw, work_dir);
    if (!converted) {
        (void)dir->remove();
        return fail(std::move(converted).error());
    }
    auto ins = inspect_raw(raw, out_dir);
    auto removed = dir->remove();
    if (!ins)
        return fail(std::move(ins).error().wrap(op));
    if (!removed)
        return fail(std::move(removed).error().wrap(op));
    return ins;
}

} // namespace fleetbox::diskimage
