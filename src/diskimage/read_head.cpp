// Image file opening and bounded reads (see read_head.hpp).
#include "diskimage/read_head.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::diskimage {

Result<Fd> open_image(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) {
        int e = errno;
        auto err = errno_error("open image " + path, e);
        if (e == ENOENT)
            err.hint = "check the path (a local image is given as ./file.qcow2 or /abs/path)";
        return fail(std::move(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail_errno("stat image " + path, errno);
    if (!S_ISREG(st.st_mode))
        return fail(ErrorKind::InvalidArgument, "", fmt::format("{} is not a regular file", path),
                    "give the path of a qcow2 or raw disk image file");
    return fd;
}

Result<std::string> read_at(int fd, std::uint64_t offset, std::size_t max) {
    std::string buf(max, '\0');
    std::size_t got = 0;
    while (got < max) {
        ssize_t n = ::pread(fd, buf.data() + got, max - got, static_cast<off_t>(offset + got));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("read image", errno);
        }
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    buf.resize(got);
    return buf;
}

Result<std::string> read_head(const std::string& path, std::size_t max) {
    Fd fd = FBX_TRY(open_image(path));
    auto head = read_at(fd.get(), 0, max);
    if (!head)
        return fail(std::move(head).error().wrap(path));
    return head;
}

} // namespace fleetbox::diskimage
