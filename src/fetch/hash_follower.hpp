// HashFollower: hashes the .part on a second thread, following the writer.
//
// Why: SHA-256 of a fast download costs about as much CPU as receiving it (nettle with
// SHA-NI hashes ~0.8-1.5 GiB/s; loopback and LAN transfers run at hundreds of MiB/s), so
// hashing inline in libcurl's write callback roughly halves the throughput. The follower
// reads back the bytes the writer just put into the page cache and hashes them while the next
// ones arrive; a resumed download's existing bytes are hashed the same way, during the
// transfer instead of before it. The writer only publishes how many bytes the file holds.
#pragma once

#include "fetch/hasher.hpp"
#include "util/error.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace fleetbox::fetch {

class HashFollower {
public:
    // `fd` is the .part (read with pread); `path` names it in errors.
    HashFollower(int fd, std::string path, Hasher& hasher);
    ~HashFollower();
    HashFollower(const HashFollower&) = delete;
    HashFollower& operator=(const HashFollower&) = delete;

    // Starts hashing from byte 0; the file already holds `written` bytes.
    void start(std::uint64_t written);
    // The file now holds `written` bytes.
    void advance(std::uint64_t written);
    // The file was truncated to 0: the hash starts over.
    void restart();
    // Waits until all `written` bytes are hashed, then stops the thread. The hasher is then
    // ready for finish(). Io when the .part could not be read back.
    Status finish();

private:
    void run();
    void stop();

    int fd_;
    std::string path_;
    Hasher& hasher_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::uint64_t written_ = 0;
    std::uint64_t hashed_ = 0;
    bool stopping_ = false;
    bool finishing_ = false;
    int read_errno_ = 0;
    std::thread thread_;
};

} // namespace fleetbox::fetch
