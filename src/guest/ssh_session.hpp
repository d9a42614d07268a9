// One authenticated SSH connection to a VM (libssh, blocking API with timeouts), running one
// command per channel.
//
// Why: each new login costs ~0.9 s under TCG (reference/boot-tcg.md), so a VM handle keeps one
// connection and opens a cheap channel per command. Host keys are checked strictly against
// the VM's own known_hosts file: the key must be listed there and match, anything else
// (unknown host, changed key, other key type, missing file) refuses the connection.
// ~/.ssh/config, ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts are never read or written.
//
// Thread-safety: an SshSession is used by one thread at a time (libssh sessions are not
// thread-safe). GuestShell adds the lock for a handle shared between threads.
#pragma once

#include "guest/ssh_target.hpp"
#include "util/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <tl/expected.hpp>

struct ssh_session_struct;

namespace fleetbox::guest {

class GuestShell;

class SshSession {
public:
    // TCP connect, SSH handshake, strict host-key check, public-key auth with
    // target.identity_path. `timeout` bounds the whole connect; it also bounds each later
    // protocol step (opening a channel, sending a request) on this session.
    // Errors (all name the VM): refused/unreachable → Network; no answer → Timeout; not an SSH
    // server → Network; host key not listed / different / file missing → Permission or NotFound
    // ("refusing to connect"); key file missing → NotFound, unreadable → Corrupt; key rejected →
    // Permission.
    static Result<SshSession> connect(const SshTarget& target, std::chrono::milliseconds timeout);

    // The same, also saying which step failed, so a poller (wait_for_ssh) can tell a VM that
    // is still booting (Tcp, Handshake, and Auth: sshd refuses logins while /run/nologin
    // exists early in boot) from a setup or host-key problem that waiting cannot fix.
    enum class Stage { Setup, Tcp, Handshake, HostKey, Auth };
    struct ConnectFailure {
        Error error;
        Stage stage = Stage::Setup;
    };
    static tl::expected<SshSession, ConnectFailure>
    connect_staged(const SshTarget& target, std::chrono::milliseconds timeout);

    SshSession(SshSession&& other) noexcept;
    SshSession& operator=(SshSession&& other) noexcept;
    SshSession(const SshSession&) = delete;
    SshSession& operator=(const SshSession&) = delete;
    ~SshSession();

    // Runs `command` through the login shell of the remote user on a new channel and waits
    // for it to finish. A non-zero exit status is not an error (see ExecResult::exit_code).
    // `timeout` (nullopt = none) bounds the command; on expiry the command is sent SIGKILL
    // (with ExecIo::process_group: its whole process group, and the call waits, bounded, for
    // it to end), its channel closed and Timeout returned (the session stays usable). A lost
    // connection is Network; Ctrl-C (sys/interrupt) or ExecIo::cancel is Interrupted.
    Result<ExecResult> exec(const std::string& command,
                            std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    Result<ExecResult> exec(const std::string& command, const ExecIo& io,
                            std::optional<std::chrono::milliseconds> timeout);

    // False once the connection is known to be closed or broken (no I/O is done to find out:
    // a silently dead peer is only noticed by the next exec).
    [[nodiscard]] bool alive() const;
    [[nodiscard]] const SshTarget& target() const { return target_; }
    // Sends SSH disconnect and closes the socket; alive() is false afterwards.
    void disconnect();

private:
    friend class GuestShell;
    friend class ExecChannel;

    // An exec failure, and whether the command may have started (its exec request was sent).
    struct ExecFailure {
        Error error;
        bool may_have_started = false;
    };
    using Attempt = tl::expected<ExecResult, ExecFailure>;

    SshSession(SshTarget target, ssh_session_struct* session, std::chrono::milliseconds step);
    // `cleanup`: a command that stops another one (ignores Ctrl-C, which set that off).
    Attempt run(const std::string& command, const ExecIo& io,
                std::optional<std::chrono::milliseconds> timeout, bool cleanup = false);

    SshTarget target_;
    ssh_session_struct* session_ = nullptr;
    std::chrono::milliseconds step_timeout_;
};

} // namespace fleetbox::guest
