// Unix socket helpers over socket(2)/poll(2). sun_path is 108 bytes on Linux; callers keep
// paths short (the store hashes member names into run/<16 hex>.sock).
#include "sys/unix_socket.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace fleetbox {

namespace {

Result<sockaddr_un> make_address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return fail(ErrorKind::InvalidArgument, "socket " + path,
                    "path is longer than the 107 bytes a unix socket allows",
                    "use a shorter FLEETBOX_HOME");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

// poll one fd for `events`; false when the timeout passed.
Result<bool> wait_for(int fd, short events, std::optional<std::chrono::milliseconds> timeout) {
    auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                            : std::chrono::steady_clock::time_point::max();
    while (true) {
        int ms = -1;
        if (timeout) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            ms = static_cast<int>(std::max<long long>(0, left.count()));
        }
        pollfd p{fd, events, 0};
        int r = ::poll(&p, 1, ms);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("poll", errno);
        }
        return r > 0;
    }
}

} // namespace

Result<Fd> listen_unix(const std::string& path, mode_t mode, int backlog) {
    auto addr = FBX_TRY(make_address(path));
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        return fail_errno("socket", errno);
    ::unlink(path.c_str());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return fail_errno("bind " + path, errno);
    if (::chmod(path.c_str(), mode) != 0)
        return fail_errno("chmod " + path, errno);
    if (::listen(fd.get(), backlog) != 0)
        return fail_errno("listen " + path, errno);
    return fd;
}

Result<Fd> connect_unix(const std::string& path, std::chrono::milliseconds timeout) {
    auto addr = FBX_TRY(make_address(path));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd)
            return fail_errno("socket", errno);
        if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
            return fd;
        int e = errno;
        bool retry = e == ECONNREFUSED || e == ENOENT || e == EAGAIN || e == EINTR;
        if (!retry || std::chrono::steady_clock::now() >= deadline)
            return fail_errno("connect " + path, e);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

Result<std::optional<Fd>> accept_unix(int listen_fd,
                                      std::optional<std::chrono::milliseconds> timeout) {
    if (!FBX_TRY(wait_for(listen_fd, POLLIN, timeout)))
        return std::optional<Fd>{};
    Fd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) {
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
            return std::optional<Fd>{};
        return fail_errno("accept", errno);
    }
    return std::optional<Fd>(std::move(fd));
}

Result<PeerCredentials> peer_credentials(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return fail_errno("read peer credentials", errno);
    return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

Result<std::optional<std::string>>
LineReader::read_line(std::optional<std::chrono::milliseconds> timeout) {
    auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                            : std::chrono::steady_clock::time_point::max();
    while (true) {
        if (auto pos = buffer_.find('\n'); pos != std::string::npos) {
            std::string line = buffer_.substr(0, pos);
            buffer_.erase(0, pos + 1);
            return std::optional<std::string>(std::move(line));
        }
        if (buffer_.size() > kMaxLine)
            return fail(ErrorKind::Corrupt, "read control message", "line longer than 1 MiB");
        std::optional<std::chrono::milliseconds> left;
        if (timeout)
            left = std::max(std::chrono::milliseconds(0),
                            std::chrono::duration_cast<std::chrono::milliseconds>(
                                deadline - std::chrono::steady_clock::now()));
        if (!FBX_TRY(wait_for(fd_, POLLIN, left)))
            return fail(ErrorKind::Timeout, "read control message", "no reply in time");
        char chunk[4096];
        ssize_t n = ::read(fd_, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return fail_errno("read control message", errno);
        }
        if (n == 0) {
            if (buffer_.empty())
                return std::optional<std::string>{};
            return fail(ErrorKind::Corrupt, "read control message", "connection closed mid-line");
        }
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

Status write_line(int fd, const std::string& line) {
    std::string data = line + "\n";
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("write control message", errno);
        }
        off += static_cast<size_t>(n);
    }
    return {};
}

} // namespace fleetbox
