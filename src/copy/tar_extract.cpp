// extract_tree: libarchive's tar reader fed by a callback, each member checked (entry_rules)
// and then made by MemberWriter. File data comes through archive_read_data_block, whose
// offsets also carry sparse holes (written with pwrite, the size fixed with ftruncate).
#include "copy/tar_extract.hpp"

#include "copy/entry_rules.hpp"
#include "copy/member_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <memory>
#include <optional>
#include <unistd.h>

namespace fleetbox::copy {

namespace {

constexpr std::size_t kReadBuffer = 64 * 1024;

struct ReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};

struct Feed {
    const ByteSource* source = nullptr;
    std::unique_ptr<char[]> buf = std::make_unique<char[]>(kReadBuffer);
    std::optional<Error> error;
};

la_ssize_t feed_read(archive* a, void* user, const void** out) {
    auto& feed = *static_cast<Feed*>(user);
    auto n = (*feed.source)(feed.buf.get(), kReadBuffer);
    if (!n) {
        feed.error = std::move(n).error();
        archive_set_error(a, EIO, "%s", feed.error->message().c_str());
        return -1;
    }
    *out = feed.buf.get();
    return static_cast<la_ssize_t>(*n);
}

tl::unexpected<Error> stream_error(archive* a, const Feed& feed) {
    if (feed.error)
        return tl::unexpected(*feed.error);
    const char* why = archive_error_string(a);
    return fail(ErrorKind::Corrupt, "read the guest's tar stream",
                why != nullptr ? why : "unreadable archive");
}

Status write_data(archive* a, const Feed& feed, MemberWriter& writer, const MemberMeta& m,
                  la_int64_t size) {
    auto fd = FBX_TRY(writer.make_file(m));
    const void* block = nullptr;
    size_t len = 0;
    la_int64_t offset = 0;
    for (;;) {
        int r = archive_read_data_block(a, &block, &len, &offset);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return stream_error(a, feed);
        const char* p = static_cast<const char*>(block);
        while (len > 0) {
            ssize_t w = ::pwrite(fd.get(), p, len, offset);
            if (w < 0)
                return fail_errno("write " + m.name, errno);
            p += w;
            len -= static_cast<size_t>(w);
            offset += w;
        }
    }
    if (size > 0 && ::ftruncate(fd.get(), size) != 0)
        return fail_errno("write " + m.name, errno);
    return writer.finish_file(m, fd.get());
}

Status extract_member(archive* a, const Feed& feed, archive_entry* e, MemberWriter& writer,
                      const std::string& top) {
    const char* raw = archive_entry_pathname(e);
    MemberMeta m;
    m.name = raw != nullptr ? raw : "";
    m.rel = FBX_TRY(member_components(m.name, top));
    m.mode = archive_entry_perm(e);
    m.mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    if (const char* link = archive_entry_hardlink(e)) {
        MemberMeta target;
        target.name = link;
        target.rel = FBX_TRY(member_components(target.name, top));
        return writer.make_hardlink(m, target);
    }
    switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
        return writer.make_dir(m);
    case AE_IFREG:
        return write_data(a, feed, writer, m, archive_entry_size(e));
    case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        std::string t = target != nullptr ? target : "";
        FBX_CHECK(check_symlink_target(m.name, m.rel, t));
        return writer.make_symlink(m, t);
    }
    case AE_IFIFO:
        return writer.make_fifo(m);
    case AE_IFCHR:
    case AE_IFBLK:
        return unsafe_entry(m.name, "device node");
    default:
        return unsafe_entry(m.name, "unsupported file type");
    }
}

} // namespace

Result<Extracted> extract_tree(int dir_fd, const std::string& out_name, const std::string& top,
                               const ByteSource& source) {
    std::unique_ptr<archive, ReadFree> a(archive_read_new());
    if (!a)
        return fail(ErrorKind::Internal, "read the guest's tar stream", "out of memory");
    archive_read_support_format_tar(a.get());
    Feed feed;
    feed.source = &source;
    if (archive_read_open(a.get(), &feed, nullptr, feed_read, nullptr) != ARCHIVE_OK)
        return stream_error(a.get(), feed);
    MemberWriter writer(dir_fd, out_name);
    Extracted out;
    for (;;) {
        archive_entry* e = nullptr;
        int r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return stream_error(a.get(), feed);
        FBX_CHECK(extract_member(a.get(), feed, e, writer, top));
        if (out.members++ == 0)
            out.top_is_dir = archive_entry_filetype(e) == AE_IFDIR;
    }
    FBX_CHECK(writer.finish_dirs());
    return out;
}

} // namespace fleetbox::copy
