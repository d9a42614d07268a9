// peer_process: the other end of a unix socket as a pidfd (SO_PEERPIDFD, or pidfd_open plus
// a still-connected check), and signal_process through it.
#include "support/test_support.hpp"
#include "sys/peer_process.hpp"

#include <chrono>
#include <csignal>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox {
namespace {

TEST(PeerProcess, NamesThePeerWithItsCredentialsAndAProcessHandle) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    Fd a(fds[0]);
    Fd b(fds[1]);
    auto peer = peer_process(a.get());
    ASSERT_TRUE(peer) << peer.error().message();
    EXPECT_EQ(peer->credentials.pid, ::getpid());
    EXPECT_EQ(peer->credentials.uid, ::geteuid());
    ASSERT_TRUE(peer->pidfd);
    EXPECT_TRUE(signal_process(peer->pidfd.get(), 0)); // signal 0: "may I", sends nothing
}

TEST(PeerProcess, ASignalThroughThePidfdReachesTheListenerAndNoLaterProcess) {
    test::ScratchDir dir;
    const std::string path = dir.file("s.sock");
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    if (child == 0) {
        ::close(ready[0]);
        auto listening = listen_unix(path);
        (void)!::write(ready[1], listening ? "r" : "x", 1);
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ASSERT_EQ(c, 'r');
    auto conn = connect_unix(path, std::chrono::milliseconds(1000));
    ASSERT_TRUE(conn) << conn.error().message();
    auto peer = peer_process(conn->get());
    ASSERT_TRUE(peer) << peer.error().message();
    EXPECT_EQ(peer->credentials.pid, child);
    ASSERT_TRUE(signal_process(peer->pidfd.get(), SIGTERM));
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    // Reaped: its pid may be reused, its pidfd still names only it.
    EXPECT_TRUE(signal_process(peer->pidfd.get(), SIGTERM));
}

} // namespace
} // namespace fleetbox
