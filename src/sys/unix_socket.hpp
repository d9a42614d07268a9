// Unix stream sockets for the control protocol: listen, connect, accept with peer
// credentials, and newline-delimited message I/O with timeouts.
//
// Why here: both the helper (server) and the client dial these sockets; timeouts are
// explicit parameters because a TCG boot takes minutes while a status call takes
// milliseconds. SO_PEERCRED gives the connecting process's uid so the helper can refuse
// other users.
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>

namespace fleetbox {

struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

// Binds and listens on path (replacing a stale socket file), then chmods it to mode.
Result<Fd> listen_unix(const std::string& path, mode_t mode = 0600, int backlog = 16);
// Connects, retrying ECONNREFUSED/ENOENT until the timeout (the server may still be starting).
Result<Fd> connect_unix(const std::string& path, std::chrono::milliseconds timeout);
// Accepts one connection (CLOEXEC), or nothing when the timeout passes (nullopt).
Result<std::optional<Fd>> accept_unix(int listen_fd,
                                      std::optional<std::chrono::milliseconds> timeout);
Result<PeerCredentials> peer_credentials(int fd);

// Buffered line reader over a stream fd.
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}
    // One line without its '\n'. nullopt on clean EOF before any byte. Timeout ->
    // ErrorKind::Timeout.
    Result<std::optional<std::string>> read_line(std::optional<std::chrono::milliseconds> timeout);

private:
    int fd_;
    std::string buffer_;
    static constexpr size_t kMaxLine = 1 << 20;
};

// Writes the whole line plus '\n' (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
Status write_line(int fd, const std::string& line);

} // namespace fleetbox
