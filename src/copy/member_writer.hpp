// MemberWriter: creates archive members below a directory descriptor, never following a
// symlink (internal to extract_tree; see tar_extract.hpp for the rules it implements).
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <ctime>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fleetbox::copy {

struct MemberMeta {
    std::string name;             // as in the archive (for messages)
    std::vector<std::string> rel; // components below the top (empty: the top itself)
    mode_t mode = 0;
    timespec mtime{};
};

class MemberWriter {
public:
    MemberWriter(int dir_fd, std::string out_name)
        : dir_fd_(dir_fd), out_name_(std::move(out_name)) {}

    Status make_dir(const MemberMeta& m);
    // Creates an empty regular file (replacing an earlier non-directory member of that name);
    // returns its descriptor, open for writing.
    Result<Fd> make_file(const MemberMeta& m);
    // Applies the member's mode and time to a file written through make_file's descriptor.
    Status finish_file(const MemberMeta& m, int fd);
    Status make_symlink(const MemberMeta& m, const std::string& target);
    Status make_hardlink(const MemberMeta& m, const MemberMeta& target);
    Status make_fifo(const MemberMeta& m);
    // Directory modes and times, deepest first.
    Status finish_dirs();

private:
    // The directory holding member `rel` (its first `rel.size() - 1` components below the top),
    // reached without following symlinks; the member's own name in `leaf`.
    Result<int> parent_of(const MemberMeta& m, std::string& leaf);
    // Removes a non-directory in the way of a new member (a later member replaces an earlier).
    Status clear_slot(const MemberMeta& m, int parent, const std::string& leaf);

    int dir_fd_;
    std::string out_name_;
    std::string cached_key_{"\x01"};
    Fd cached_fd_;
    std::vector<MemberMeta> dirs_;
};

} // namespace fleetbox::copy
