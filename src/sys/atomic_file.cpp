// AtomicFile: temp file (mkostemp) + fsync + rename(2) + fsync of the directory.
#include "sys/atomic_file.hpp"

#include "sys/fs.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace fleetbox {

Result<AtomicFile> AtomicFile::open(const std::string& path, mode_t mode) {
    std::string temp = parent_dir(path) + "/." + base_name(path) + ".tmp-XXXXXX";
    Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd)
        return fail_errno("create " + path, errno);
    if (::fchmod(fd.get(), mode) != 0) {
        int e = errno;
        ::unlink(temp.c_str());
        return fail_errno("chmod " + temp, e);
    }
    return AtomicFile(path, temp, std::move(fd));
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::exchange(other.path_, {})), temp_path_(std::exchange(other.temp_path_, {})),
      fd_(std::move(other.fd_)), committed_(std::exchange(other.committed_, false)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
    if (this != &other) {
        discard();
        path_ = std::exchange(other.path_, {});
        temp_path_ = std::exchange(other.temp_path_, {});
        fd_ = std::move(other.fd_);
        committed_ = std::exchange(other.committed_, false);
    }
    return *this;
}

AtomicFile::~AtomicFile() {
    discard();
}

void AtomicFile::discard() {
    if (!committed_ && !temp_path_.empty())
        ::unlink(temp_path_.c_str());
    temp_path_.clear();
}

Status AtomicFile::write(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd_.get(), data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("write " + path_, errno);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Status AtomicFile::commit() {
    if (committed_)
        return {};
    if (::fsync(fd_.get()) != 0)
        return fail_errno("fsync " + path_, errno);
    fd_.reset();
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
        return fail_errno("rename into " + path_, errno);
    committed_ = true;
    return fsync_dir(parent_dir(path_));
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
    auto file = FBX_TRY(AtomicFile::open(path, mode));
    FBX_CHECK(file.write(data));
    return file.commit();
}

} // namespace fleetbox
