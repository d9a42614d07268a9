// PartFile (see part_file.hpp).
#include "fetch/part_file.hpp"

#include "sys/fs.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::fetch {

PartFile::PartFile(std::string dest, Fd fd, std::uint64_t size, std::string what)
    : dest_(std::move(dest)), path_(dest_ + ".part"), validator_path_(dest_ + ".part.validator"),
      what_(std::move(what)), fd_(std::move(fd)), size_(size) {}

Result<PartFile> PartFile::open(const std::string& dest, const std::string& what) {
    const std::string path = dest + ".part";
    // A few rounds: each lost race (the holder renamed or removed the file between our
    // open and our flock) means the next open finds the new state.
    for (int round = 0; round < 5; ++round) {
        Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644));
        if (!fd)
            return tl::unexpected(errno_error("open " + path, errno).wrap(what));
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK)
                return fail(ErrorKind::Busy, what,
                            "another download is writing " + path + " right now",
                            "wait for it to finish, then run again");
            return tl::unexpected(errno_error("lock " + path, errno).wrap(what));
        }
        struct stat held {};
        struct stat named {};
        if (::fstat(fd.get(), &held) != 0)
            return tl::unexpected(errno_error("stat " + path, errno).wrap(what));
        if (!S_ISREG(held.st_mode))
            return fail(ErrorKind::InvalidArgument, what, path + " is not a regular file",
                        "remove it and run again");
        if (::lstat(path.c_str(), &named) != 0 || named.st_ino != held.st_ino ||
            named.st_dev != held.st_dev)
            continue;
        int flags = ::fcntl(fd.get(), F_GETFL);
        if (flags >= 0)
            ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
        return PartFile(dest, std::move(fd), static_cast<std::uint64_t>(held.st_size), what);
    }
    return fail(ErrorKind::Busy, what, "another download keeps replacing " + path,
                "wait for it to finish, then run again");
}

Status PartFile::truncate() {
    if (::ftruncate(fd_.get(), 0) != 0)
        return tl::unexpected(errno_error("truncate " + path_, errno).wrap(what_));
    size_ = 0;
    flushed_ = 0;
    return set_validator("");
}

int PartFile::append(const char* data, std::size_t size, std::size_t& written) {
    written = 0;
    while (written < size) {
        ssize_t n = ::pwrite(fd_.get(), data + written, size - written,
                             static_cast<off_t>(size_ + written));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            size_ += written;
            return err;
        }
        written += static_cast<std::size_t>(n);
    }
    size_ += written;
    constexpr std::uint64_t kFlushStep = std::uint64_t{16} << 20;
    if (size_ - flushed_ >= kFlushStep) {
        ::sync_file_range(fd_.get(), static_cast<off_t>(flushed_),
                          static_cast<off_t>(size_ - flushed_), SYNC_FILE_RANGE_WRITE);
        flushed_ = size_;
    }
    return 0;
}

std::string PartFile::validator() const {
    auto text = read_file(validator_path_);
    if (!text)
        return {};
    std::string value = *text;
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
        value.pop_back();
    // One header value; anything else (a damaged file) is treated as no validator.
    if (value.find_first_of("\r\n") != std::string::npos || value.size() > 1024)
        return {};
    return value;
}

Status PartFile::set_validator(const std::string& value) {
    if (value.empty()) {
        if (::unlink(validator_path_.c_str()) != 0 && errno != ENOENT)
            return tl::unexpected(errno_error("remove " + validator_path_, errno).wrap(what_));
        return {};
    }
    Fd fd(::open(validator_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                 0644));
    if (!fd)
        return tl::unexpected(errno_error("write " + validator_path_, errno).wrap(what_));
    std::string line = value + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return tl::unexpected(errno_error("write " + validator_path_, errno).wrap(what_));
    return {};
}

Status PartFile::commit() {
    if (::fsync(fd_.get()) != 0)
        return tl::unexpected(errno_error("fsync " + path_, errno).wrap(what_));
    if (::rename(path_.c_str(), dest_.c_str()) != 0)
        return tl::unexpected(errno_error("rename " + path_ + " to " + dest_, errno).wrap(what_));
    FBX_CHECK(fsync_dir(parent_dir(dest_)));
    (void)set_validator("");
    return {};
}

void PartFile::discard() {
    ::unlink(path_.c_str());
    ::unlink(validator_path_.c_str());
    size_ = 0;
}

} // namespace fleetbox::fetch
