// Filesystem helpers that return Result instead of throwing (std::filesystem throws).
#pragma once

#include "util/error.hpp"

#include <string>
#include <sys/types.h>
#include <vector>

namespace fleetbox {

Result<std::string> read_file(const std::string& path);
// mkdir -p with the given mode for directories it creates.
Status ensure_dir(const std::string& path, mode_t mode = 0755);
// fsync a directory so a rename inside it is durable.
Status fsync_dir(const std::string& dir);
bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
// Recursive removal; a missing path is success.
Status remove_tree(const std::string& path);
// Sorted names of the entries of a directory (no "." or ".."); missing dir = empty list.
Result<std::vector<std::string>> list_dir(const std::string& path);
Result<unsigned long long> file_size(const std::string& path);
// Bytes actually allocated on disk (sparse files count only written blocks).
Result<unsigned long long> allocated_size(const std::string& path);
// Bytes available to an unprivileged writer on the filesystem holding path.
Result<unsigned long long> free_space(const std::string& path);
std::string parent_dir(const std::string& path);
std::string base_name(const std::string& path);
// Find an executable on PATH; empty when absent.
std::string find_program(const std::string& name);
// Absolute path of the running executable (/proc/self/exe).
std::string self_exe();

} // namespace fleetbox
