// AtomicFile: write a file so readers see either the old content or the complete new one.
//
// Why: a crash, a full disk or Ctrl-C in the middle of writing config.json or a manifest must
// never leave a half-written file that a later run trusts. Data goes to a temporary file in the
// same directory; commit() fsyncs it, renames it over the target and fsyncs the directory.
// Dropping an uncommitted AtomicFile deletes the temporary file.
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>

namespace fleetbox {

class AtomicFile {
public:
    static Result<AtomicFile> open(const std::string& path, mode_t mode = 0644);
    AtomicFile(AtomicFile&& other) noexcept;
    AtomicFile& operator=(AtomicFile&& other) noexcept;
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();

    Status write(std::string_view data);
    Status commit();
    [[nodiscard]] const std::string& temp_path() const { return temp_path_; }
    [[nodiscard]] int fd() const { return fd_.get(); }

private:
    void discard();
    AtomicFile(std::string path, std::string temp, Fd fd)
        : path_(std::move(path)), temp_path_(std::move(temp)), fd_(std::move(fd)) {}
    std::string path_;
    std::string temp_path_;
    Fd fd_;
    bool committed_ = false;
};

// One-shot helper: open, write, commit.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);

} // namespace fleetbox
