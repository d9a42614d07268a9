// GuestShell: the reusable SSH connection of one VM handle.
//
// Why: each login costs ~0.9 s under TCG, so a VM handle logs in once (lazily, or by keeping
// the connection wait_ready proved) and runs every later command on that connection.
// A connection can go stale (the VM rebooted, or was restarted by its helper): then exec logs
// in once more and retries, but only when the command cannot have started (the failure came
// before its exec request was sent), so a command never runs twice.
//
// Thread-safety: all calls on one GuestShell are serialized by an internal mutex; commands
// from several threads on the same VM run one after another. Use one GuestShell per thread
// for parallel commands on one VM (sshd allows 10 sessions per connection, but libssh
// sessions are single-threaded).
#pragma once

#include "guest/exec_channel.hpp"
#include "guest/ssh_session.hpp"
#include "guest/ssh_target.hpp"
#include "guest/wait_for_ssh.hpp"
#include "util/error.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace fleetbox::guest {

class GuestShell {
public:
    // connect_timeout bounds each login and each protocol step (see SshSession::connect).
    GuestShell(SshTarget target, std::chrono::milliseconds connect_timeout);
    ~GuestShell();
    GuestShell(GuestShell&&) noexcept;
    GuestShell& operator=(GuestShell&&) noexcept;
    GuestShell(const GuestShell&) = delete;
    GuestShell& operator=(const GuestShell&) = delete;

    // SshSession::exec on the shared connection (connecting first when there is none).
    Result<ExecResult> exec(const std::string& command,
                            std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    Result<ExecResult> exec(const std::string& command, const ExecIo& io,
                            std::optional<std::chrono::milliseconds> timeout);

    // Runs `command` on a streaming channel of the shared connection and hands it to `body`,
    // holding the shell's lock until body returns (the channel is abandoned if body did not
    // finish it). A reused connection found stale when the channel is opened is replaced once.
    // Returns body's result, or the connect/open error.
    Status stream(const std::string& command, const StreamLimits& limits,
                  const std::function<Status(ExecChannel&)>& body);

    // wait_for_ssh_session, keeping the connection that proved the VM ready. Returns seconds.
    Result<double> wait_ready(std::chrono::milliseconds timeout,
                              const WaitForSshOptions& options = {});

    // Use an already connected session (to the same target) from now on.
    void adopt(SshSession session);
    // Close the connection (the next exec logs in again).
    void disconnect();

    [[nodiscard]] bool connected() const;
    [[nodiscard]] const SshTarget& target() const;
    // Logins made so far (lazy connects, reconnects, and the one kept by wait_ready).
    [[nodiscard]] int logins() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace fleetbox::guest
