// Directory and file creation for the store: exact modes, ownership under sudo, and a
// create-only-if-absent write.
//
// Why: mkdir(2) applies the umask, so a 0700 run/ could come out 0700 or not at all as asked;
// the store sets the mode it wants with chmod. Under sudo the store belongs to the invoking
// user, so every directory and file it creates is handed to that user (lchown), or the next
// `fleetbox ls` without sudo could not read it.
#pragma once

#include "sys/user.hpp"
#include "util/error.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace fleetbox {

// mkdir -p. Each directory it creates gets exactly `mode` and belongs to `user` (under sudo);
// existing ones are left alone. When `created` is given, the created paths are appended,
// outermost first, so a caller can undo exactly what it made.
Status ensure_owned_dir(const std::string& path, mode_t mode, const InvokingUser& user,
                        std::vector<std::string>* created = nullptr);

// Writes `data` to a temporary file in the same directory, fsyncs it, then link(2)s it to
// `path`, which fails with AlreadyExists when `path` is present: a file that appears is always
// complete, and of two racing writers exactly one wins. The temporary file never remains.
Status write_file_exclusive(const std::string& path, std::string_view data, mode_t mode);

} // namespace fleetbox
