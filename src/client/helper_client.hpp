// HelperClient: the client's side of the control protocol, as calls on a fleetbox-helper.
//
// Why its own type (not the helper's backend::Backend interface): the client and the helper
// need different things. The helper's backend owns live objects; the client needs the
// protocol's own concerns too (handshake and capabilities, bind, list, release), and must
// link no QEMU, netlink or nftables code. Each call is one request and one reply on the
// member's unix socket (docs/protocol.md).
//
// Connections: calls may run concurrently (stop while another thread waits in boot), so the
// proxy keeps a small pool: a call takes an idle connection or opens a new one (connect +
// hello), and returns it only when the exchange completed cleanly. A timed-out connection is
// dropped, never reused, so a late reply can never be read as the answer to the next call.
// bind() uses a dedicated connection that stays open for the object's lifetime: it is the
// bound helper's lifeline, and closing it (this object's destructor, or the process dying,
// even by SIGKILL) makes the helper stop its VMs and exit.
//
// Trust: a socket in run/ is only a file name; whoever listens on it answers. Every
// connection is accepted only when its peer (SO_PEERCRED) is root or the store's owner: the
// helper runs as one of them. Anything else (another local user's process) is refused with a
// Permission error naming the uid and the socket, and nothing is sent to it. The first
// connection's peer is also held as a process handle (pidfd), the only way this client ever
// signals a helper: never kill(2) on a pid number read from a socket or file.
//
// What a failed dial means (the status mapping depends on it): NotFound exactly when no
// helper answers (no socket file: ENOENT; nobody listening: ECONNREFUSED). A socket we may
// not connect to (EACCES/EPERM: a helper of root, reached without sudo) is Permission with
// the hint "run with sudo"; anything else (an untrusted peer, a timeout, a bad handshake)
// keeps its own kind. Only NotFound may be read as "the VM is not running".
#pragma once

#include "proto/messages.hpp"
#include "store/store.hpp"
#include "sys/fd.hpp"
#include "sys/peer_process.hpp"
#include "sys/unix_socket.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fleetbox::client {

struct HelperClientOptions {
    std::chrono::milliseconds connect_timeout{0};   // retry window for ECONNREFUSED/ENOENT
    std::chrono::milliseconds rpc_timeout{30000};   // every call but boot and stop
    std::chrono::milliseconds stop_timeout{180000}; // powerdown, then quit/SIGTERM/SIGKILL
    std::chrono::seconds boot_margin{60};           // added to spec.boot_timeout_s
    // A uid trusted besides root and the store's owner: the user a helper this client started
    // was told to run as (`--user`), so that helper's sockets are accepted.
    std::optional<uid_t> started_as{};
};

class HelperClient final {
public:
    // dial() + handshake().
    static Result<std::unique_ptr<HelperClient>>
    connect(const Store& store, const std::string& member, HelperClientOptions options = {});
    // Opens the first connection without the handshake, so a caller can look at peer_pid()
    // first. A socket file with nothing behind it gives NotFound:
    //   no fleetbox helper is running for web (stale socket run/0123456789abcdef.sock)
    // A socket served by a uid other than root's or the store owner's gives Permission:
    //   the socket run/0123456789abcdef.sock of web is served by uid 65534, ...
    static Result<std::unique_ptr<HelperClient>> dial(const Store& store, const std::string& member,
                                                      HelperClientOptions options = {});
    // hello on the first connection. On a protocol mismatch the error is the helper's
    // "fleetbox-helper speaks protocol N, this fleetbox speaks 2 (stale FLEETBOX_HELPER?)"
    // and version_mismatch() turns true. The helper's capabilities are kept (has()).
    Status handshake();
    // Sends bind on a dedicated connection kept open until this object is destroyed.
    Status bind();

    ~HelperClient();
    HelperClient(const HelperClient&) = delete;
    HelperClient& operator=(const HelperClient&) = delete;

    // pid of the process listening on the socket (SO_PEERCRED of the first connection): the
    // helper, even when the handshake failed. For display and for comparing with a child's
    // pid; to signal it use signal_helper().
    [[nodiscard]] pid_t peer_pid() const { return peer_.credentials.pid; }
    [[nodiscard]] uid_t peer_uid() const { return peer_.credentials.uid; }
    // Signals the helper through the pidfd taken on the first connection (a helper that
    // already exited is success: the signal cannot reach another process).
    Status signal_helper(int sig) const;
    // pid the helper reported in its hello reply (0 before a successful handshake).
    [[nodiscard]] int helper_pid() const { return helper_pid_; }
    [[nodiscard]] bool version_mismatch() const { return version_mismatch_; }
    // The helper's lifetime as it announced it ("bound" or "detached"; "" before hello).
    [[nodiscard]] std::string helper_mode() const;
    // Whether the helper announced a capability (proto::kCap*) in its hello reply.
    [[nodiscard]] bool has(std::string_view capability) const;
    [[nodiscard]] const std::string& member() const { return member_; }
    [[nodiscard]] const std::string& socket_path() const { return socket_path_; }

    // The protocol's requests (docs/protocol.md), each bounded by its timeout in the options.
    Result<proto::NetworkInfo> create_network(const proto::CreateNetwork& request = {});
    Result<proto::Reservation> reserve(const std::string& name, const std::string& ip_hint);
    Result<proto::Booted> boot(const proto::BootSpec& spec);
    Result<proto::StatusInfo> status(const std::string& name);
    Status stop(const std::string& name);
    Status release(const std::string& name);
    Result<proto::MemberList> list();
    // Bound: closes the bind connection, which makes the helper stop every member, remove
    // its network and exit (HelperHandle::close waits for that). Without bind:
    // InvalidArgument (a detached helper exits when its last member is stopped).
    Status shutdown();
    // The `detach` request (needs the helper's kCapDetach, else InvalidArgument): the helper
    // turns detached and outlives this client (Vm::keep).
    Status detach();

private:
    struct Connection {
        Fd fd;
        LineReader reader;
        explicit Connection(Fd f) : fd(std::move(f)), reader(fd.get()) {}
    };

    HelperClient(std::string member, std::string socket_path, std::string display,
                 std::string helper_log, HelperClientOptions options, uid_t owner_uid,
                 uid_t root_uid)
        : member_(std::move(member)), socket_path_(std::move(socket_path)),
          display_path_(std::move(display)), helper_log_(std::move(helper_log)), options_(options),
          owner_uid_(owner_uid), root_uid_(root_uid) {}

    // Connects and checks the peer (see the trust paragraph above).
    Result<std::unique_ptr<Connection>> open_connection() const;
    // Permission error unless the peer of `fd` is root, the invoking user, the owner of the
    // store's root directory, this process's uid or options_.started_as.
    Status check_peer(int fd) const;
    Result<proto::Reply> exchange(Connection& conn, const proto::Request& request,
                                  std::chrono::milliseconds timeout) const;
    Status hello(Connection& conn);
    Result<proto::Reply> call(const proto::Request& request, std::chrono::milliseconds timeout);

    std::string member_;
    std::string socket_path_;
    std::string display_path_; // "run/<hash>.sock", for messages
    std::string helper_log_;   // <member>/helper.log, named when the helper dies mid-call
    HelperClientOptions options_;
    uid_t owner_uid_;  // the invoking user: a helper runs as root or as this uid
    uid_t root_uid_;   // who owns the store's root directory (the same user, normally)
    PeerProcess peer_; // of the first connection
    std::atomic<int> helper_pid_{0}; // set by every hello (same helper, same value)
    std::atomic<bool> version_mismatch_{false};
    std::vector<std::string> capabilities_; // from the first successful hello
    std::string helper_mode_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::unique_ptr<Connection> lifeline_;
};

// True when `error` (from HelperClient::dial/connect or HelperLauncher::attach) means that no
// helper answers on the member's socket: the one case that means "not running".
[[nodiscard]] inline bool no_helper_answers(const Error& error) {
    return error.kind == ErrorKind::NotFound;
}

} // namespace fleetbox::client
