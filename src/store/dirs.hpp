// Directory and file creation for the store: exact modes, no symlink following when a store
// directory is checked or tightened, and a create-only-if-absent write.
//
// Why: the store holds guest disks, seeds with the guests' private host keys and the user's
// SSH key, so every directory is 0700 and every file 0600 (issue 9): other local users must
// not read them. mkdir(2) applies the umask, so the store sets the mode it wants explicitly;
// stores made by older versions (0755 directories, 0644 files) are tightened when they are
// used. Every chmod goes through a descriptor opened with O_NOFOLLOW, so a symlink planted in
// the store can never make fleetbox change the mode of a file outside it.
// Whoever runs this is the store's owner (the CLI drops root under sudo first,
// sys/privileges.hpp), so what it creates is the owner's without a chown.
#pragma once

#include "sys/fd.hpp"
#include "sys/user.hpp"
#include "util/error.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace fleetbox {

// Mode of every store directory, and of every file in it.
inline constexpr mode_t kStoreDirMode = 0700;
inline constexpr mode_t kStoreFileMode = 0600;

// mkdir -p. Each directory it creates gets exactly `mode`; existing ones are left alone. When
// `created` is given, the created paths are appended, outermost first, so a caller can undo exactly
// what it made.
Status make_dirs(const std::string& path, mode_t mode, std::vector<std::string>* created = nullptr);

// `path` opened as a directory without following a final symlink. A symlink is refused with
// one line that says so (Permission), a non-directory with AlreadyExists.
Result<Fd> open_dir_nofollow(const std::string& path);

// make_dirs, then the directory is opened with open_dir_nofollow and tightened to
// kStoreDirMode: what every store directory goes through when it is used.
Status ensure_store_dir(const std::string& path, const InvokingUser& user);

// chmod through `fd` to `mode` when the permission bits differ. Only what this process owns,
// or (as root) what belongs to `owner`, is changed: a file of a third party that turns up in
// the store is never touched.
Status tighten_fd(int fd, const std::string& path, mode_t mode, uid_t owner);

// Tightens the entries of the directory `dir` (never following symlinks): regular files lose
// their group/other bits, directories become kStoreDirMode, down to `depth` levels below
// `dir` (1: its direct entries only). Sockets, FIFOs and symlinks are left alone. Entries that
// vanish meanwhile are skipped. `dir` itself is tightened too. `owner` as for tighten_fd.
Status tighten_tree(const std::string& dir, int depth, uid_t owner);

// Writes `data` to a temporary file in the same directory, fsyncs it, then link(2)s it to
// `path`, which fails with AlreadyExists when `path` is present: a file that appears is always
// complete, and of two racing writers exactly one wins. The temporary file never remains.
Status write_file_exclusive(const std::string& path, std::string_view data, mode_t mode);

} // namespace fleetbox
