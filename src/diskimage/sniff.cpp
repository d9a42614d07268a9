// Content sniffing (see diskimage.hpp): qcow2 by its magic and version; raw when the first
// sector carries the 0x55AA boot signature (an MBR or a GPT's protective MBR) or libblkid
// finds a filesystem at offset 0 (a whole-disk ext4). Everything else is refused, naming
// what it looks like when the magic is known, because "not a disk image" alone leaves the
// user guessing (the usual mistake is passing the .xz or .tar.gz a cloud image ships in).
#include "diskimage/diskimage.hpp"
#include "diskimage/qcow2_header.hpp"
#include "diskimage/read_head.hpp"

#include <array>
#include <blkid.h>
#include <fmt/format.h>
#include <memory>
#include <string_view>

namespace fleetbox::diskimage {

namespace {

// ISO 9660's volume descriptor sits at 32 KiB + 1: read that far.
constexpr std::size_t kHeadBytes = 36 * 1024;

bool at(std::string_view head, std::size_t offset, std::string_view magic) {
    return head.size() >= offset + magic.size() && head.substr(offset, magic.size()) == magic;
}

struct Known {
    std::size_t offset;
    std::string_view magic;
    const char* what;
    const char* hint;
};

constexpr const char* kDecompress =
    "decompress it first (e.g. xz -dk, gunzip -k, zstd -d, bunzip2 -k) and use the .qcow2 or "
    ".raw file inside";
constexpr const char* kConvert = "convert it first: qemu-img convert -O qcow2 <file> <file>.qcow2";

const std::array<Known, 12>& known_formats() {
    using namespace std::string_view_literals;
    static const std::array<Known, 12> known = {{
        {0,
         "\xfd"
         "7zXZ\x00"sv,
         "xz-compressed data", kDecompress},
        {0, "\x1f\x8b"sv, "gzip-compressed data", kDecompress},
        {0, "\x28\xb5\x2f\xfd"sv, "zstd-compressed data", kDecompress},
        {0, "BZh"sv, "bzip2-compressed data", kDecompress},
        {0, "PK\x03\x04"sv, "a zip archive", "unpack it first and use the disk image inside"},
        {257, "ustar"sv, "a tar archive",
         "unpack it first (tar -xf) and use the disk image inside (e.g. disk.raw)"},
        {0x8001, "CD001"sv, "an ISO 9660 (CD/DVD) image",
         "an installer ISO is not a disk image: use a cloud image (.qcow2 or .raw)"},
        {0, "KDMV"sv, "a VMDK image", kConvert},
        {0, "# Disk DescriptorFile"sv, "a VMDK descriptor", kConvert},
        {0, "vhdxfile"sv, "a VHDX image", kConvert},
        {0, "conectix"sv, "a VHD image", kConvert},
        {0x40, "\x7f\x10\xda\xbe"sv, "a VirtualBox VDI image", kConvert},
    }};
    return known;
}

struct ProbeDeleter {
    void operator()(blkid_struct_probe* p) const { blkid_free_probe(p); }
};

// True when libblkid recognises a filesystem starting at offset 0.
bool filesystem_at_start(int fd) {
    std::unique_ptr<blkid_struct_probe, ProbeDeleter> pr(blkid_new_probe());
    if (!pr || blkid_probe_set_device(pr.get(), fd, 0, 0) != 0)
        return false;
    blkid_probe_enable_partitions(pr.get(), 0);
    blkid_probe_enable_superblocks(pr.get(), 1);
    blkid_probe_set_superblocks_flags(pr.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
    blkid_probe_filter_superblocks_usage(pr.get(), BLKID_FLTR_ONLYIN, BLKID_USAGE_FILESYSTEM);
    int rc = blkid_do_safeprobe(pr.get());
    return rc == 0 || rc == -2; // -2: more than one filesystem signature (still a disk)
}

} // namespace

const char* format_name(Format format) {
    return format == Format::Qcow2 ? "qcow2" : "raw";
}

Result<Format> sniff_format(const std::string& path) {
    Fd fd = FBX_TRY(open_image(path));
    auto read = read_at(fd.get(), 0, kHeadBytes);
    if (!read)
        return fail(std::move(read).error().wrap(path));
    const std::string& head = *read;
    const std::string use = "use a qcow2 or raw disk image (a cloud image's .qcow2, .raw or .img)";
    if (head.empty())
        return fail(ErrorKind::InvalidArgument, "", fmt::format("{} is empty", path), use);

    if (at(head, 0, std::string_view("QFI\xfb", 4))) {
        auto header = parse_qcow2_header(head);
        if (!header)
            return fail(ErrorKind::InvalidArgument, "",
                        fmt::format("{} is a truncated qcow2 image", path),
                        "download or copy it again");
        if (header->version == 2 || header->version == 3)
            return Format::Qcow2;
        return fail(ErrorKind::InvalidArgument, "",
                    fmt::format("{} is a qcow version {} image (only qcow2 versions 2 and 3 "
                                "are supported)",
                                path, header->version),
                    kConvert);
    }
    if (at(head, 0, std::string_view("QED\0", 4)))
        return fail(ErrorKind::InvalidArgument, "", fmt::format("{} is a QED image", path),
                    kConvert);
    for (const auto& k : known_formats())
        if (at(head, k.offset, k.magic))
            return fail(ErrorKind::InvalidArgument, "",
                        fmt::format("{} is {}, not a disk image", path, k.what), k.hint);

    if (head.size() >= 512 && static_cast<unsigned char>(head[510]) == 0x55 &&
        static_cast<unsigned char>(head[511]) == 0xAA)
        return Format::Raw;
    if (filesystem_at_start(fd.get()))
        return Format::Raw;
    return fail(ErrorKind::InvalidArgument, "",
                fmt::format("{} is neither a qcow2 nor a raw disk image", path),
                use + "; a raw image starts with a partition table or a filesystem");
}

} // namespace fleetbox::diskimage
