// PeerNetns: a second network namespace a test makes (`ip netns add fbxt-<pid>-<tag>`) to
// stand for something outside the host's namespace: the "internet" behind an uplink, or a
// machine on a bridge. It is joined to the test's own (private) namespace by a veth pair and
// deleted, with everything in it, by the destructor. Sockets can be made inside it, so a
// test can prove what traffic passes between namespaces it made, never touching the host's.
#pragma once

#include "component/net/netns_fixture.hpp"
#include "sys/fd.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace fleetbox::test {

class PeerNetns {
public:
    explicit PeerNetns(const std::string& tag)
        : name_("fbxt-" + std::to_string(::getpid()) + "-" + tag) {
        run_out({"ip", "netns", "add", name_});
    }
    ~PeerNetns() {
        ChildSpec spec;
        spec.argv = {"ip", "netns", "del", name_};
        (void)run_command(spec);
    }
    PeerNetns(const PeerNetns&) = delete;
    PeerNetns& operator=(const PeerNetns&) = delete;

    [[nodiscard]] const std::string& name() const { return name_; }

    // Run a command inside the peer namespace.
    std::string exec(std::vector<std::string> argv) const {
        argv.insert(argv.begin(), {"ip", "netns", "exec", name_});
        return run_out(std::move(argv));
    }

    // A veth pair: `local` stays in the test's namespace, `remote` goes into the peer, which
    // gets `remote_cidr` on it (up, with lo up) and a default route via `gateway` if given.
    void attach(const std::string& local, const std::string& remote, const std::string& remote_cidr,
                const std::string& gateway = "") const {
        run_out(
            {"ip", "link", "add", local, "type", "veth", "peer", "name", remote, "netns", name_});
        run_out({"ip", "link", "set", local, "up"});
        exec({"ip", "link", "set", "lo", "up"});
        exec({"ip", "addr", "add", remote_cidr, "dev", remote});
        exec({"ip", "link", "set", remote, "up"});
        if (!gateway.empty())
            exec({"ip", "route", "add", "default", "via", gateway});
    }

    // A socket created inside the peer namespace (a socket keeps the namespace it was made in).
    [[nodiscard]] Fd socket_inside(int type) const {
        Fd self(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        Fd peer(::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC));
        EXPECT_TRUE(self && peer) << std::strerror(errno);
        if (!self || !peer)
            return Fd();
        EXPECT_EQ(::setns(peer.get(), CLONE_NEWNET), 0) << std::strerror(errno);
        Fd sock(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
        EXPECT_EQ(::setns(self.get(), CLONE_NEWNET), 0) << std::strerror(errno);
        return sock;
    }

    // A TCP listener on 0.0.0.0:port inside the peer.
    [[nodiscard]] Fd listen_tcp(uint16_t port) const {
        Fd sock = socket_inside(SOCK_STREAM);
        const int one = 1;
        ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        EXPECT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
            << std::strerror(errno);
        EXPECT_EQ(::listen(sock.get(), 8), 0) << std::strerror(errno);
        return sock;
    }

    // Does a TCP connection from inside the peer to ip:port complete within the timeout?
    [[nodiscard]] bool can_connect(const std::string& ip, uint16_t port,
                                   int timeout_ms = 1500) const {
        Fd sock = socket_inside(SOCK_STREAM | SOCK_NONBLOCK);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
        if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
            return true;
        if (errno != EINPROGRESS)
            return false;
        pollfd pfd{sock.get(), POLLOUT, 0};
        if (::poll(&pfd, 1, timeout_ms) != 1)
            return false;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        return err == 0;
    }

private:
    std::string name_;
};

} // namespace fleetbox::test
