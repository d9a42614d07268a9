// Partition table and superblock probing with libblkid (see volumes.hpp). One probe reads
// the table; each partition then gets its own probe limited to the partition's byte range,
// so a superblock is only ever looked for inside the partition it belongs to.
#include "diskimage/volumes.hpp"

#include <algorithm>
#include <blkid.h>
#include <cctype>
#include <fmt/format.h>
#include <memory>

namespace fleetbox::diskimage {

namespace {

struct ProbeDeleter {
    void operator()(blkid_struct_probe* p) const { blkid_free_probe(p); }
};
using Probe = std::unique_ptr<blkid_struct_probe, ProbeDeleter>;

constexpr std::size_t kMaxPartitions = 128;

std::string lookup(blkid_probe pr, const char* name) {
    const char* value = nullptr;
    std::size_t len = 0;
    if (blkid_probe_lookup_value(pr, name, &value, &len) != 0 || value == nullptr)
        return {};
    std::string s(value, strnlen(value, len));
    // Values come from the image: keep them printable and short.
    if (s.size() > 64)
        s.resize(64);
    for (char& c : s)
        if (c < 0x20 || c >= 0x7f)
            c = '?';
    return s;
}

// Filesystem type and UUID of the byte range [offset, offset+size).
void probe_filesystem(int fd, Volume& v) {
    Probe pr(blkid_new_probe());
    if (!pr || blkid_probe_set_device(pr.get(), fd, static_cast<blkid_loff_t>(v.offset),
                                      static_cast<blkid_loff_t>(v.size)) != 0)
        return;
    blkid_probe_enable_partitions(pr.get(), 0);
    blkid_probe_enable_superblocks(pr.get(), 1);
    blkid_probe_set_superblocks_flags(pr.get(),
                                      BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_USAGE);
    if (blkid_do_safeprobe(pr.get()) != 0)
        return;
    v.fs_type = lookup(pr.get(), "TYPE");
    v.fs_uuid = lookup(pr.get(), "UUID");
}

std::string lower(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

bool is_safe_uuid(const std::string& uuid) {
    return !uuid.empty() && uuid.size() <= 64 && std::all_of(uuid.begin(), uuid.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
    });
}

Result<DiskLayout> probe_layout(int fd, std::uint64_t disk_size) {
    DiskLayout layout;
    Probe pr(blkid_new_probe());
    if (!pr)
        return fail(ErrorKind::Internal, "probe disk layout", "blkid_new_probe failed");
    if (blkid_probe_set_device(pr.get(), fd, 0, static_cast<blkid_loff_t>(disk_size)) != 0)
        return fail(ErrorKind::Io, "probe disk layout", "libblkid cannot read the image");
    blkid_probe_enable_superblocks(pr.get(), 0);
    blkid_probe_enable_partitions(pr.get(), 1);
    blkid_probe_set_partitions_flags(pr.get(), BLKID_PARTS_ENTRY_DETAILS);
    blkid_partlist list = blkid_probe_get_partitions(pr.get());
    blkid_parttable table = list != nullptr ? blkid_partlist_get_table(list) : nullptr;
    if (table != nullptr) {
        const char* type = blkid_parttable_get_type(table);
        layout.table = type != nullptr ? type : "";
        if (layout.table != "gpt" && layout.table != "dos")
            layout.table = lower(layout.table).substr(0, 16);
        int n = blkid_partlist_numof_partitions(list);
        for (int i = 0; i < n && layout.volumes.size() < kMaxPartitions; ++i) {
            blkid_partition part = blkid_partlist_get_partition(list, i);
            if (part == nullptr)
                continue;
            // Start and size are in 512-byte sectors (libblkid's unit, whatever the table).
            blkid_loff_t start = blkid_partition_get_start(part);
            blkid_loff_t size = blkid_partition_get_size(part);
            if (start < 0 || size <= 0)
                continue;
            auto ustart = static_cast<std::uint64_t>(start);
            auto usize = static_cast<std::uint64_t>(size);
            if (ustart > disk_size / 512 || usize > disk_size / 512 - ustart)
                continue; // beyond the end of the disk
            Volume v;
            v.number = blkid_partition_get_partno(part);
            v.offset = ustart * 512;
            v.size = usize * 512;
            if (layout.table == "gpt") {
                const char* guid = blkid_partition_get_type_string(part);
                v.part_type = guid != nullptr ? lower(std::string(guid).substr(0, 36)) : "";
                if (v.part_type == kBiosBootGuid)
                    layout.bios_boot_partition = true;
            } else {
                v.part_type = fmt::format("{:#x}", blkid_partition_get_type(part));
                if (blkid_partition_is_extended(part) != 0)
                    continue; // the container of the logical partitions
            }
            probe_filesystem(fd, v);
            layout.volumes.push_back(std::move(v));
        }
        return layout;
    }
    Volume whole;
    whole.size = disk_size;
    probe_filesystem(fd, whole);
    if (!whole.fs_type.empty())
        layout.volumes.push_back(std::move(whole));
    return layout;
}

} // namespace fleetbox::diskimage
