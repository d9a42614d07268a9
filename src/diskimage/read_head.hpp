// Opening an image file and reading its first bytes, for the content checks.
//
// Why one place: the image path comes from the user (or a download); it must be a regular
// file (a FIFO would block the read forever, a directory has no content) and is opened
// read-only, close-on-exec, non-blocking.
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace fleetbox::diskimage {

// Opens `path` read-only; InvalidArgument unless it is a regular file, NotFound when absent.
Result<Fd> open_image(const std::string& path);

// Up to `max` bytes from offset 0 (fewer when the file is shorter).
Result<std::string> read_head(const std::string& path, std::size_t max);
Result<std::string> read_at(int fd, std::uint64_t offset, std::size_t max);

} // namespace fleetbox::diskimage
