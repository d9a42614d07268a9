// Non-blocking connect(2), then poll(2) for POLLOUT within the timeout, then SO_ERROR for the
// outcome (the classic way to bound a TCP connect; a blocking connect would wait out the
// kernel's SYN retries, about two minutes). getaddrinfo with AI_NUMERICHOST only parses the
// literal address (never a DNS query).
#include "sys/tcp_connect.hpp"

#include <cerrno>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

namespace fleetbox {

namespace {

using Clock = std::chrono::steady_clock;
using AddrInfoPtr = std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)>;

Result<AddrInfoPtr> resolve(const std::string& host, int port, const std::string& what) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
    addrinfo* list = nullptr;
    int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
    if (rc != 0 || list == nullptr) {
        return fail(ErrorKind::InvalidArgument,
                    "connect to " + what + " at " + endpoint(host, port),
                    std::string("not a numeric IP address: ") + ::gai_strerror(rc));
    }
    return AddrInfoPtr(list, &::freeaddrinfo);
}

// errno of the connect (0 = connected), ETIMEDOUT when poll ran out.
Result<int> await_connect(int fd, Clock::time_point deadline) {
    for (;;) {
        auto now = Clock::now();
        if (now >= deadline)
            return ETIMEDOUT;
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
        pollfd p{fd, POLLOUT, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail_errno("poll", errno);
        if (r == 0)
            return ETIMEDOUT;
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            return fail_errno("getsockopt SO_ERROR", errno);
        }
        return err;
    }
}

// One address: the connected socket, or the errno that stopped it.
Result<Fd> connect_one(const addrinfo& ai, Clock::time_point deadline, int& err_out) {
    Fd fd(::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol));
    if (!fd)
        return fail_errno("socket", errno);
    int err = 0;
    if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS || err == EINTR)
            err = FBX_TRY(await_connect(fd.get(), deadline));
    }
    err_out = err;
    if (err != 0)
        return Fd{};
    // SSH sends many small packets (channel open, exec, EOF) that each wait for an answer:
    // without TCP_NODELAY, Nagle + delayed ACK can add ~40 ms to each.
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

Error connect_error(int err, const std::string& operation, std::chrono::milliseconds timeout) {
    if (err == ETIMEDOUT) {
        return Error{ErrorKind::Timeout,
                     0,
                     operation,
                     "no answer within " + std::to_string(timeout.count()) + " ms",
                     {}};
    }
    return Error{ErrorKind::Network, err, operation, {}, {}};
}

} // namespace

std::string endpoint(const std::string& host, int port) {
    if (host.find(':') != std::string::npos)
        return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

Result<Fd> tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout,
                       const std::string& what) {
    std::string operation = "connect to " + what + " at " + endpoint(host, port);
    if (port <= 0 || port > 65535) {
        return fail(ErrorKind::InvalidArgument, operation, "port out of range");
    }
    auto list = FBX_TRY(resolve(host, port, what));
    auto deadline = Clock::now() + timeout;
    int err = ETIMEDOUT;
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        auto fd = FBX_TRY(connect_one(*ai, deadline, err));
        if (fd)
            return fd;
        if (err == ETIMEDOUT)
            break; // the deadline is shared: nothing left for the next one
    }
    return tl::unexpected(connect_error(err, operation, timeout));
}

Status tcp_probe(const std::string& host, int port, std::chrono::milliseconds timeout,
                 const std::string& what) {
    FBX_TRY(tcp_connect(host, port, timeout, what));
    return {};
}

} // namespace fleetbox
