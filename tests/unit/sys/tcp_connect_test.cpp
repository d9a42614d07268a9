// sys/tcp_connect against loopback listeners: connected, refused (Network, naming the peer),
// IPv6, and anything but a numeric address refused without a DNS query.
#include "support/loopback_port.hpp"
#include "sys/fd.hpp"
#include "sys/tcp_connect.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using namespace std::chrono_literals;

using test::closed_loopback_port;
using test::LoopbackPort;

TEST(TcpConnect, ConnectedSocketIsNonBlockingCloexecNodelay) {
    LoopbackPort l(LoopbackPort::Mode::Listening);
    ASSERT_NE(l.port(), 0);
    auto fd = tcp_connect("127.0.0.1", l.port(), 2s, "VM web");
    ASSERT_TRUE(fd) << fd.error().message();
    EXPECT_TRUE(::fcntl(fd->get(), F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
    int nodelay = 0;
    socklen_t len = sizeof nodelay;
    ASSERT_EQ(::getsockopt(fd->get(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
    EXPECT_NE(nodelay, 0);
}

TEST(TcpConnect, ProbeOfAnAcceptingPortSucceeds) {
    LoopbackPort l(LoopbackPort::Mode::Listening);
    ASSERT_NE(l.port(), 0);
    auto r = tcp_probe("127.0.0.1", l.port(), 2s);
    EXPECT_TRUE(r) << r.error().message();
}

TEST(TcpConnect, ClosedPortIsNetworkErrorNamingThePeer) {
    auto r = tcp_probe("127.0.0.1", closed_loopback_port(), 2s, "VM web");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Network);
    EXPECT_EQ(r.error().err_no, ECONNREFUSED);
    EXPECT_NE(r.error().message().find("VM web at 127.0.0.1:"), std::string::npos)
        << r.error().message();
}

TEST(TcpConnect, Ipv6Loopback) {
    Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    socklen_t len = sizeof a;
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0)
        GTEST_SKIP() << "no IPv6 loopback here";
    ASSERT_EQ(::listen(fd.get(), 1), 0);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    auto r = tcp_probe("::1", ntohs(a.sin6_port), 2s);
    EXPECT_TRUE(r) << r.error().message();
}

TEST(TcpConnect, NamesAndGarbageAreInvalidArgument) {
    for (const char* host : {"vm1.example", "localhost", "not an address", ""}) {
        auto r = tcp_probe(host, 22, 1s);
        ASSERT_FALSE(r) << host;
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument) << host;
    }
    EXPECT_EQ(tcp_probe("127.0.0.1", 0, 1s).error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(tcp_probe("127.0.0.1", 65536, 1s).error().kind, ErrorKind::InvalidArgument);
}

TEST(TcpConnect, EndpointBracketsIpv6) {
    EXPECT_EQ(endpoint("192.168.5.2", 22), "192.168.5.2:22");
    EXPECT_EQ(endpoint("fd00::2", 2222), "[fd00::2]:2222");
}

} // namespace
} // namespace fleetbox
