// Unit tests for vm/tcp_probe against loopback listeners: open, refused, bad address.
#include "sys/fd.hpp"
#include "vm/tcp_probe.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using namespace std::chrono_literals;

// A listening loopback socket on an ephemeral port.
struct Listener {
    Fd fd;
    std::uint16_t port = 0;
    Listener() {
        fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0)
            return;
        if (::listen(fd.get(), 4) != 0)
            return;
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
};

TEST(TcpProbe, OpenPortIsReported) {
    Listener l;
    ASSERT_NE(l.port, 0);
    auto open = tcp_port_open("127.0.0.1", l.port, 2s);
    ASSERT_TRUE(open) << open.error().message();
    EXPECT_TRUE(*open);
}

TEST(TcpProbe, ClosedPortIsNotOpen) {
    std::uint16_t port;
    {
        Listener l;
        ASSERT_NE(l.port, 0);
        port = l.port;
    } // closed again: nothing listens there now
    auto open = tcp_port_open("127.0.0.1", port, 2s);
    ASSERT_TRUE(open) << open.error().message();
    EXPECT_FALSE(*open);
}

TEST(TcpProbe, Ipv6Loopback) {
    Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    socklen_t len = sizeof a;
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0)
        GTEST_SKIP() << "no IPv6 loopback here";
    ASSERT_EQ(::listen(fd.get(), 1), 0);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    auto open = tcp_port_open("::1", ntohs(a.sin6_port), 2s);
    ASSERT_TRUE(open) << open.error().message();
    EXPECT_TRUE(*open);
}

TEST(TcpProbe, NonAddressIsInvalidArgument) {
    auto open = tcp_port_open("vm1.example", 22, 1s);
    ASSERT_FALSE(open);
    EXPECT_EQ(open.error().kind, ErrorKind::InvalidArgument);
}

} // namespace
} // namespace fleetbox
