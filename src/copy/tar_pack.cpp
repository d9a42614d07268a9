// pack_tree: archive_read_disk (physical walk, no xattr/ACL/flags/sparse lookups) feeding a
// pax-restricted archive_write whose output callback is the sink. 64 KiB blocks, with the
// last block padded only to 512 bytes.
#include "copy/tar_pack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <memory>
#include <optional>

namespace fleetbox::copy {

namespace {

constexpr int kBlock = 64 * 1024;

struct ReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

struct Out {
    const ByteSink* sink = nullptr;
    std::optional<Error> error;
};

la_ssize_t out_write(archive* a, void* user, const void* buf, size_t len) {
    auto& out = *static_cast<Out*>(user);
    auto ok = (*out.sink)(std::string_view(static_cast<const char*>(buf), len));
    if (!ok) {
        out.error = std::move(ok).error();
        archive_set_error(a, EIO, "%s", out.error->message().c_str());
        return -1;
    }
    return static_cast<la_ssize_t>(len);
}

tl::unexpected<Error> write_error(archive* w, const Out& out) {
    if (out.error)
        return tl::unexpected(*out.error);
    const char* why = archive_error_string(w);
    return fail(ErrorKind::Internal, "write the tar stream", why ? why : "libarchive error");
}

tl::unexpected<Error> read_error(archive* disk, const std::string& path) {
    const char* why = archive_error_string(disk);
    Error e = errno_error("read " + path, archive_errno(disk));
    e.err_no = 0;
    e.context = why ? why : "libarchive error";
    return tl::unexpected(std::move(e));
}

// Renames the member below the top and drops what must not travel.
void normalize(archive_entry* e, const std::string& root, const std::string& top) {
    std::string path = archive_entry_pathname(e);
    archive_entry_copy_pathname(e, (top + path.substr(std::min(root.size(), path.size()))).c_str());
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_copy_uname(e, nullptr);
    archive_entry_copy_gname(e, nullptr);
    archive_entry_unset_atime(e);
    archive_entry_unset_ctime(e);
    archive_entry_unset_birthtime(e);
    archive_entry_set_mtime(e, archive_entry_mtime(e), 0);
}

Status copy_data(archive* disk, archive* w, const Out& out, const std::string& path) {
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t offset = 0;
    for (;;) {
        int r = archive_read_data_block(disk, &buf, &len, &offset);
        if (r == ARCHIVE_EOF)
            return {};
        if (r < ARCHIVE_WARN)
            return read_error(disk, path);
        if (len > 0 && archive_write_data(w, buf, len) < 0)
            return write_error(w, out);
    }
}

Status add_sentinel(archive* w, const Out& out, const std::string& name) {
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0600);
    archive_entry_set_size(e.get(), 0);
    if (archive_write_header(w, e.get()) != ARCHIVE_OK)
        return write_error(w, out);
    return {};
}

} // namespace

Status pack_tree(const std::string& host_path, const std::string& top, const std::string& sentinel,
                 const ByteSink& sink) {
    std::string root = host_path;
    while (root.size() > 1 && root.back() == '/')
        root.pop_back();
    std::unique_ptr<archive, ReadFree> disk(archive_read_disk_new());
    std::unique_ptr<archive, WriteFree> w(archive_write_new());
    if (!disk || !w)
        return fail(ErrorKind::Internal, "write the tar stream", "out of memory");
    archive_read_disk_set_symlink_physical(disk.get());
    archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
                                                   ARCHIVE_READDISK_NO_FFLAGS |
                                                   ARCHIVE_READDISK_NO_SPARSE);
    archive_write_set_format_pax_restricted(w.get());
    archive_write_set_bytes_per_block(w.get(), kBlock);
    archive_write_set_bytes_in_last_block(w.get(), 1);
    Out out;
    out.sink = &sink;
    if (archive_write_open(w.get(), &out, nullptr, out_write, nullptr) != ARCHIVE_OK)
        return write_error(w.get(), out);
    if (archive_read_disk_open(disk.get(), root.c_str()) != ARCHIVE_OK)
        return read_error(disk.get(), root);
    for (;;) {
        std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
        int r = archive_read_next_header2(disk.get(), e.get());
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return read_error(disk.get(), root);
        std::string path = archive_entry_pathname(e.get());
        auto type = archive_entry_filetype(e.get());
        if (type == AE_IFCHR || type == AE_IFBLK)
            return fail(ErrorKind::InvalidArgument, "copy " + path,
                        "it is a device node: refusing to copy it");
        if (archive_read_disk_can_descend(disk.get()))
            archive_read_disk_descend(disk.get());
        if (type == AE_IFSOCK)
            continue;
        normalize(e.get(), root, top);
        if (archive_write_header(w.get(), e.get()) < ARCHIVE_WARN)
            return write_error(w.get(), out);
        if (type == AE_IFREG && archive_entry_size(e.get()) > 0)
            FBX_CHECK(copy_data(disk.get(), w.get(), out, path));
    }
    if (!sentinel.empty())
        FBX_CHECK(add_sentinel(w.get(), out, sentinel));
    if (archive_write_close(w.get()) != ARCHIVE_OK)
        return write_error(w.get(), out);
    return {};
}

} // namespace fleetbox::copy
