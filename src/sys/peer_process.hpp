// PeerProcess: the process at the other end of a connected unix socket, as a process handle.
//
// Why: a pid read from a socket (SO_PEERCRED) or a file is only a number; by the time it is
// used the process may be gone and the number reused, so kill(2) on it could hit anything.
// A pidfd names one process for its whole life: signals sent through it reach that process or
// fail with ESRCH, never a successor. The kernel hands one out for the socket's peer directly
// (SO_PEERPIDFD, Linux 6.5); on an older kernel we open one for the peer's pid and then check
// that the peer still holds its end of the connection, so the pid cannot have been reused in
// between (a process that still holds the socket is alive).
#pragma once

#include "sys/fd.hpp"
#include "sys/unix_socket.hpp"
#include "util/error.hpp"

namespace fleetbox {

struct PeerProcess {
    PeerCredentials credentials; // at connect time (SO_PEERCRED)
    Fd pidfd;                    // a handle on exactly that process
};

// The peer of the connected unix socket `fd`.
Result<PeerProcess> peer_process(int fd);

// pidfd_send_signal(2): signals the process `pidfd` names. A process that already exited is
// success (there is nothing left to signal).
Status signal_process(int pidfd, int sig);

} // namespace fleetbox
