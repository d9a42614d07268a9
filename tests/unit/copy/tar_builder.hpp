// Crafted tar streams for the copy tests: members exactly as a (possibly hostile) guest
// could send them, written with libarchive into a string, and a ByteSource reading it back.
#pragma once

#include "copy/tar_extract.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cstring>
#include <memory>
#include <string>
#include <sys/sysmacros.h>
#include <vector>

namespace fleetbox::copy::testing {

struct Member {
    std::string name;
    unsigned type = AE_IFREG;
    mode_t perm = 0644;
    std::string data;
    std::string symlink;  // AE_IFLNK target
    std::string hardlink; // hard link to this earlier member
};

inline Member dir(std::string name, mode_t perm = 0755) {
    return {std::move(name), AE_IFDIR, perm, {}, {}, {}};
}
inline Member file(std::string name, std::string data = "x", mode_t perm = 0644) {
    return {std::move(name), AE_IFREG, perm, std::move(data), {}, {}};
}
inline Member link(std::string name, std::string target) {
    return {std::move(name), AE_IFLNK, 0777, {}, std::move(target), {}};
}
inline Member hardlink(std::string name, std::string target) {
    return {std::move(name), AE_IFREG, 0644, {}, {}, std::move(target)};
}

inline la_ssize_t append(archive*, void* user, const void* buf, size_t len) {
    static_cast<std::string*>(user)->append(static_cast<const char*>(buf), len);
    return static_cast<la_ssize_t>(len);
}

inline std::string make_tar(const std::vector<Member>& members) {
    std::string out;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open(a, &out, nullptr, append, nullptr);
    for (const auto& m : members) {
        archive_entry* e = archive_entry_new();
        archive_entry_copy_pathname(e, m.name.c_str());
        archive_entry_set_filetype(e, m.type);
        archive_entry_set_perm(e, m.perm);
        archive_entry_set_mtime(e, 1700000000, 0);
        if (!m.symlink.empty())
            archive_entry_copy_symlink(e, m.symlink.c_str());
        if (!m.hardlink.empty())
            archive_entry_copy_hardlink(e, m.hardlink.c_str());
        if (m.type == AE_IFCHR)
            archive_entry_set_rdev(e, makedev(1, 3));
        bool has_data = m.type == AE_IFREG && m.hardlink.empty();
        archive_entry_set_size(e, has_data ? static_cast<la_int64_t>(m.data.size()) : 0);
        archive_write_header(a, e);
        if (has_data && !m.data.empty())
            archive_write_data(a, m.data.data(), m.data.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

// Reads `bytes` in small pieces (as a channel would deliver them).
inline ByteSource source_of(std::shared_ptr<std::string> bytes) {
    auto offset = std::make_shared<std::size_t>(0);
    return [bytes, offset](char* buf, std::size_t size) -> Result<std::size_t> {
        std::size_t n = std::min({size, bytes->size() - *offset, std::size_t{7000}});
        std::memcpy(buf, bytes->data() + *offset, n);
        *offset += n;
        return n;
    };
}

} // namespace fleetbox::copy::testing
