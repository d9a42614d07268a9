// TempDir: a uniquely named directory removed (recursively, never across mounts) on drop.
#pragma once

#include "util/error.hpp"

#include <string>

namespace fleetbox {

class TempDir {
public:
    // Creates <parent>/<prefix>XXXXXX with mode 0700.
    static Result<TempDir> create(const std::string& parent, const std::string& prefix);
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    [[nodiscard]] const std::string& path() const { return path_; }
    // Keep the directory (e.g. after it was renamed into place); returns its path.
    std::string release();
    Status remove();

private:
    explicit TempDir(std::string path) : path_(std::move(path)) {}
    std::string path_;
};

} // namespace fleetbox
