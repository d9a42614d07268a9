// Reads a tar file back with libarchive's reader for the seed tests (the archive's entries in
// order: name, content, permission bits, owner).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fleetbox::seed::testing {

struct ReadEntry {
    std::string name;
    std::string content;
    mode_t perm = 0;
    la_int64_t uid = -1;
    la_int64_t gid = -1;
    bool regular = false;
};

// Every entry of the archive at `path`; an unreadable archive is a test failure (and empty).
inline std::vector<ReadEntry> read_tar(const std::string& path) {
    std::vector<ReadEntry> out;
    archive* a = archive_read_new();
    archive_read_support_format_all(a);
    archive_read_support_filter_all(a);
    int rc = archive_read_open_filename(a, path.c_str(), 10240);
    EXPECT_EQ(rc, ARCHIVE_OK) << (archive_error_string(a) ? archive_error_string(a) : "");
    if (rc == ARCHIVE_OK) {
        archive_entry* e = nullptr;
        while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
            ReadEntry r;
            r.name = archive_entry_pathname(e);
            r.perm = archive_entry_perm(e);
            r.uid = archive_entry_uid(e);
            r.gid = archive_entry_gid(e);
            r.regular = archive_entry_filetype(e) == AE_IFREG;
            char buf[4096];
            la_ssize_t n = 0;
            while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
                r.content.append(buf, static_cast<size_t>(n));
            EXPECT_GE(n, 0) << r.name;
            out.push_back(std::move(r));
        }
        EXPECT_EQ(rc, ARCHIVE_EOF) << (archive_error_string(a) ? archive_error_string(a) : "");
    }
    archive_read_free(a);
    return out;
}

inline const ReadEntry* find_entry(const std::vector<ReadEntry>& entries, const std::string& name) {
    for (const auto& e : entries)
        if (e.name == name)
            return &e;
    return nullptr;
}

inline std::vector<std::string> entry_names(const std::vector<ReadEntry>& entries) {
    std::vector<std::string> names;
    for (const auto& e : entries)
        names.push_back(e.name);
    return names;
}

} // namespace fleetbox::seed::testing
