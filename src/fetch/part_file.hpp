// PartFile: the dest + ".part" file a download writes into, locked for the whole transfer.
//
// Why: the bytes of an unfinished download must never be mistaken for the file (only a
// complete, verified .part is renamed to dest), must survive an interruption so the next run
// resumes, and must never be written by two downloads at once. The lock is a non-blocking
// flock on the .part itself; after locking, the path is checked to still name the locked
// file (a concurrent run may have renamed it to dest or removed it in between).
// The validator (ETag or Last-Modified of the response the .part started with) lives in
// dest + ".part.validator": the next run sends it as If-Range, so a changed file restarts
// from 0 instead of being spliced.
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <string>

namespace fleetbox::fetch {

class PartFile {
public:
    // Creates or opens dest.part and locks it: Busy when another download holds it.
    // `what` names the download in messages ("download https://host/x").
    static Result<PartFile> open(const std::string& dest, const std::string& what);

    [[nodiscard]] std::uint64_t size() const { return size_; }
    [[nodiscard]] const std::string& path() const { return path_; }

    [[nodiscard]] int fd() const { return fd_.get(); }
    // Empties the .part and forgets its validator (a restart from byte 0).
    Status truncate();
    // Appends; on failure returns the errno, with `written` bytes appended before it. Starts
    // the disk writeback of every 16 MiB as it fills (sync_file_range), so the fsync of
    // commit() waits only for the tail instead of the whole file.
    int append(const char* data, std::size_t size, std::size_t& written);

    [[nodiscard]] std::string validator() const;    // "" when none was recorded
    Status set_validator(const std::string& value); // "" removes it

    // fsync, rename to dest, fsync the directory, drop the validator.
    Status commit();
    // Removes the .part and its validator (a hash mismatch, or nothing was downloaded).
    void discard();

private:
    PartFile(std::string dest, Fd fd, std::uint64_t size, std::string what);

    std::string dest_;
    std::string path_;
    std::string validator_path_;
    std::string what_;
    Fd fd_;
    std::uint64_t size_ = 0;
    std::uint64_t flushed_ = 0; // writeback started up to here
};

} // namespace fleetbox::fetch
