// The hand-over between a build's root part and its user (image cache, ADR 0016): an image
// build is the one place a sudo CLI becomes root again (mmdebstrap needs it), and root must
// never work in the user's store. So root stages in a directory of its own, opens the
// results, and the user copies them in; a build that stays root (plain root) hands its
// staging directory over in place.
#pragma once

#include "sys/fd.hpp"
#include "sys/privileges.hpp"
#include "util/error.hpp"

#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace fleetbox::image {

// Where an elevated build stages its result: root's own, outside any user's store.
inline constexpr const char* kRootStagingParent = "/var/tmp";

// Who a build's results are handed to: the user an elevated scope was entered from; nobody
// (the process keeps them) otherwise.
std::optional<std::pair<uid_t, gid_t>> result_owner(const ScopedRoot* root);

// Makes `dir` 0700 and its `files` 0600 and chowns them to `owner` (when set), through a
// descriptor of `dir` opened with O_NOFOLLOW; no symlink inside is followed.
Status give_away(const std::string& dir, const std::vector<std::string>& files,
                 const std::optional<std::pair<uid_t, gid_t>>& owner);

// The build log, truncated for this build, opened with O_NOFOLLOW by the user before any
// elevation; root only writes to this descriptor.
Result<Fd> open_build_log(const std::string& path);

struct OpenResult {
    std::string name;
    Fd fd;
};

// Opens the build's results in `dir` without following symlinks, to copy them after the
// elevation ends (an open descriptor stays readable when root's directory is gone).
Result<std::vector<OpenResult>> open_results(const std::string& dir,
                                             const std::vector<std::string>& files);

// Copies `from` (from its start) into a new 0600 file `dir/name`, fsynced.
Status copy_into(const std::string& dir, const std::string& name, int from);

} // namespace fleetbox::image
