// PeerProcess over SO_PEERCRED + SO_PEERPIDFD (fallback: pidfd_open(2) and a check that the
// peer still holds the connection), and pidfd_send_signal(2) for signals. Debian 12's headers
// predate SO_PEERPIDFD, so its value (77 on every architecture but alpha, mips, parisc, sparc)
// is spelled out here; a kernel without it answers ENOPROTOOPT.
#include "sys/peer_process.hpp"

#include <cerrno>
#include <csignal>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

namespace fleetbox {

namespace {

// True while the peer still holds its end: no hang-up and no EOF pending on the socket.
bool peer_connected(int fd) {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) < 0)
        return false;
    if ((p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0)
        return false;
    if ((p.revents & POLLIN) != 0) { // data or EOF: a zero-length peek is EOF
        char c;
        return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
    }
    return true;
}

Result<Fd> pidfd_of_peer(int fd, pid_t pid) {
    int pidfd = -1;
    socklen_t len = sizeof pidfd;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0)
        return Fd(pidfd);
    if (errno != ENOPROTOOPT && errno != EINVAL)
        return fail_errno("take a process handle on the socket's peer", errno);
    Fd opened(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!opened)
        return fail_errno("take a process handle on pid " + std::to_string(pid), errno);
    if (!peer_connected(fd))
        return fail(ErrorKind::Io, "take a process handle on pid " + std::to_string(pid),
                    "the peer closed the connection (its pid may have been reused)");
    return opened;
}

} // namespace

Result<PeerProcess> peer_process(int fd) {
    PeerProcess peer;
    peer.credentials = FBX_TRY(peer_credentials(fd));
    peer.pidfd = FBX_TRY(pidfd_of_peer(fd, peer.credentials.pid));
    return peer;
}

Status signal_process(int pidfd, int sig) {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0 && errno != ESRCH)
        return fail_errno("signal a process through its pidfd", errno);
    return {};
}

} // namespace fleetbox
