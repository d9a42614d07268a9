// The host side of a download's atomicity: a scratch directory next to the destination, and
// the final rename into place.
//
// Why: no partial file may ever sit under the final name, so the archive is extracted into
// <parent>/.fleetbox-copy-XXXXXX (same file system: the rename is atomic) and moved into
// place only once complete. A file replaces a file (rename(2)); a directory replaces a
// directory by exchanging the two (renameat2 RENAME_EXCHANGE), so the old tree lands in the
// scratch directory and goes with it; a type mismatch is refused. The scratch directory is
// removed on every path, even when it holds read-only directories.
#pragma once

#include "sys/fd.hpp"
#include "sys/temp_dir.hpp"
#include "util/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fleetbox::copy {

class Scratch {
public:
    // Checks the destination's parent (the nearest existing ancestor must be a directory:
    // InvalidArgument "<path> is not a directory" otherwise), creates the missing parents, then
    // the scratch directory (mode 0700) inside it. Parents it made are removed again when the
    // copy does not land.
    static Result<Scratch> next_to(const std::string& destination);
    Scratch(Scratch&&) noexcept = default;
    Scratch& operator=(Scratch&&) noexcept = default;
    ~Scratch();

    [[nodiscard]] int fd() const { return fd_.get(); }
    [[nodiscard]] const std::string& path() const { return dir_->path(); }
    // Moves <scratch>/<name> to the destination (see above).
    Status commit(const std::string& name, bool is_dir);

private:
    Scratch(std::string destination, TempDir dir, Fd fd)
        : destination_(std::move(destination)), dir_(std::move(dir)), fd_(std::move(fd)) {}
    std::string destination_;
    std::optional<TempDir> dir_;
    Fd fd_;
    std::vector<std::string> created_; // parents this scratch made, deepest first
    bool committed_ = false;
};

// Makes every directory below `path` (not following symlinks) writable by its owner, so the
// tree can be removed.
void make_tree_removable(const std::string& path);

} // namespace fleetbox::copy
