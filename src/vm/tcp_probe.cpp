// Non-blocking connect(2) + poll(2) for POLLOUT, then SO_ERROR for the outcome. Only literal
// addresses are accepted (no resolver: guests are reached by their assigned IP).
#include "vm/tcp_probe.hpp"

#include "sys/fd.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

namespace fleetbox {

namespace {

struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = AF_INET;
};

Result<Address> parse_address(const std::string& ip, std::uint16_t port) {
    Address a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.length = sizeof(sockaddr_in);
        return a;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.length = sizeof(sockaddr_in6);
        a.family = AF_INET6;
        return a;
    }
    return fail(ErrorKind::InvalidArgument, "probe " + ip, "not an IP address");
}

// Waits for the connect to finish; the connect's errno (0 = connected), or ETIMEDOUT.
Result<int> finish_connect(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLOUT, 0};
    int r;
    do {
        r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return fail_errno("poll", errno);
    if (r == 0)
        return ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return fail_errno("getsockopt", errno);
    return err;
}

} // namespace

Result<bool> tcp_port_open(const std::string& ip, std::uint16_t port,
                           std::chrono::milliseconds timeout) {
    auto address = FBX_TRY(parse_address(ip, port));
    Fd fd(::socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        return fail_errno("socket", errno);
    int r =
        ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length);
    if (r == 0)
        return true;
    if (errno != EINPROGRESS)
        return false; // refused, unreachable, no route: not yet
    return FBX_TRY(finish_connect(fd.get(), timeout)) == 0;
}

} // namespace fleetbox
