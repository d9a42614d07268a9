// A TCP port on 127.0.0.1 for tests of connects and probes: listening (a connect succeeds,
// nobody accepts unless the test does) or only bound (a connect is refused).
//
// Header-only and free of fleetbox types, so every test tier can use it without linking a
// layer. Loopback only: tests never send traffic anywhere else.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace fleetbox::test {

class LoopbackPort {
public:
    enum class Mode { Listening, Refusing };

    explicit LoopbackPort(Mode mode) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0)
            return;
        if (mode == Mode::Listening && ::listen(fd_, 8) != 0)
            return;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
    }
    ~LoopbackPort() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    LoopbackPort(const LoopbackPort&) = delete;
    LoopbackPort& operator=(const LoopbackPort&) = delete;

    [[nodiscard]] int fd() const { return fd_; }
    // 0 when the socket could not be set up (tests ASSERT_NE(port(), 0)).
    [[nodiscard]] std::uint16_t port() const { return port_; }

private:
    int fd_;
    std::uint16_t port_ = 0;
};

// A port nothing listens on any more (bound, then closed again): connects are refused.
inline std::uint16_t closed_loopback_port() {
    LoopbackPort p(LoopbackPort::Mode::Refusing);
    return p.port();
}

} // namespace fleetbox::test
