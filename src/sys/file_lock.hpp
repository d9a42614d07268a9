// FileLock: an flock(2) on a lock file, released when dropped (or when the process dies).
//
// Why flock: the kernel drops it when the holder dies, even on kill -9, so a crashed fleetbox
// never leaves a lock that needs manual cleanup.
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace fleetbox {

class FileLock {
public:
    enum class Mode { Shared, Exclusive };
    // Blocks until the lock is granted (or the timeout passes: ErrorKind::Timeout).
    static Result<FileLock>
    acquire(const std::string& path, Mode mode = Mode::Exclusive,
            std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    // Never blocks: ErrorKind::Busy when someone else holds it.
    static Result<FileLock> try_acquire(const std::string& path, Mode mode = Mode::Exclusive);

    FileLock(FileLock&&) noexcept = default;
    FileLock& operator=(FileLock&&) noexcept = default;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock() = default; // closing the fd releases the lock

    [[nodiscard]] const std::string& path() const { return path_; }

private:
    FileLock(std::string path, Fd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    Fd fd_;
};

} // namespace fleetbox
