// HashFollower (see hash_follower.hpp). The thread waits for written_ > hashed_, reads a
// block outside the lock and hashes it; finish() sets finishing_ and joins once the thread
// has caught up.
#include "fetch/hash_follower.hpp"

#include <cerrno>
#include <unistd.h>
#include <vector>

namespace fleetbox::fetch {

HashFollower::HashFollower(int fd, std::string path, Hasher& hasher)
    : fd_(fd), path_(std::move(path)), hasher_(hasher) {}

HashFollower::~HashFollower() {
    stop();
}

void HashFollower::start(std::uint64_t written) {
    stop();
    {
        std::lock_guard lock(mu_);
        written_ = written;
        hashed_ = 0;
        stopping_ = false;
        finishing_ = false;
        read_errno_ = 0;
    }
    hasher_.reset();
    thread_ = std::thread([this] { run(); });
}

void HashFollower::advance(std::uint64_t written) {
    {
        std::lock_guard lock(mu_);
        written_ = written;
    }
    cv_.notify_one();
}

void HashFollower::restart() {
    start(0);
}

void HashFollower::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable())
        thread_.join();
}

Status HashFollower::finish() {
    {
        std::lock_guard lock(mu_);
        finishing_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable())
        thread_.join();
    if (read_errno_ != 0)
        return fail_errno("read back " + path_ + " to hash it", read_errno_);
    return {};
}

void HashFollower::run() {
    std::vector<char> buf(std::size_t{1} << 20);
    while (true) {
        std::uint64_t from = 0;
        std::size_t want = 0;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [&] { return stopping_ || finishing_ || written_ > hashed_; });
            if (stopping_ || (finishing_ && hashed_ >= written_))
                return;
            from = hashed_;
            want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), written_ - from));
        }
        ssize_t n = ::pread(fd_, buf.data(), want, static_cast<off_t>(from));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            std::lock_guard lock(mu_);
            read_errno_ = n < 0 ? errno : EIO;
            return;
        }
        hasher_.update(buf.data(), static_cast<std::size_t>(n));
        std::lock_guard lock(mu_);
        hashed_ += static_cast<std::uint64_t>(n);
    }
}

} // namespace fleetbox::fetch
