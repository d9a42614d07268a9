// write_tar_image: libarchive's ustar writer on the AtomicFile's descriptor. Entries are
// regular files owned by root:root with the current time; names are checked before anything
// is written, so a bad name never produces a partial archive.
#include "seed/tar_image.hpp"

#include "sys/atomic_file.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <ctime>
#include <memory>

namespace fleetbox::seed {

namespace {

struct ArchiveFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;
using EntryPtr = std::unique_ptr<archive_entry, EntryFree>;

Status check_name(const std::string& name) {
    bool bad = name.empty() || name.front() == '/' || name.size() > 99 || name == ".." ||
               name.rfind("../", 0) == 0 || name.find("/../") != std::string::npos ||
               (name.size() >= 3 && name.compare(name.size() - 3, 3, "/..") == 0);
    if (bad)
        return fail(ErrorKind::InvalidArgument, "write tar image",
                    "unsafe entry name \"" + name + "\"");
    return {};
}

tl::unexpected<Error> archive_fail(archive* a, const std::string& op) {
    const char* why = archive_error_string(a);
    return fail(ErrorKind::Io, op, why ? why : "libarchive error");
}

Status add_entry(archive* a, const TarEntry& entry, const std::string& op) {
    EntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), entry.name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), entry.mode & 07777);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(entry.content.size()));
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_uname(e.get(), "root");
    archive_entry_set_gname(e.get(), "root");
    archive_entry_set_mtime(e.get(), std::time(nullptr), 0);
    if (archive_write_header(a, e.get()) != ARCHIVE_OK)
        return archive_fail(a, op);
    if (!entry.content.empty() &&
        archive_write_data(a, entry.content.data(), entry.content.size()) !=
            static_cast<la_ssize_t>(entry.content.size()))
        return archive_fail(a, op);
    return {};
}

} // namespace

Status write_tar_image(const std::vector<TarEntry>& entries, const std::string& out_path,
                       mode_t file_mode) {
    const std::string op = "write tar image " + out_path;
    for (const auto& entry : entries)
        FBX_CHECK(check_name(entry.name).map_error([&](Error e) { return e.wrap(op); }));
    auto out = FBX_TRY(AtomicFile::open(out_path, file_mode));
    ArchivePtr a(archive_write_new());
    if (!a)
        return fail(ErrorKind::Internal, op, "libarchive: out of memory");
    if (archive_write_set_format_ustar(a.get()) != ARCHIVE_OK ||
        archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
        archive_write_open_fd(a.get(), out.fd()) != ARCHIVE_OK)
        return archive_fail(a.get(), op);
    for (const auto& entry : entries)
        FBX_CHECK(add_entry(a.get(), entry, op));
    if (archive_write_close(a.get()) != ARCHIVE_OK)
        return archive_fail(a.get(), op);
    return out.commit();
}

} // namespace fleetbox::seed
