// ExecChannel: one remote command whose stdin and stdout are byte streams the caller pumps.
//
// Why a separate object from SshSession::exec: a copy streams gigabytes through one channel
// (a tar archive into `tar -x`, or out of `tar -c`), so nothing may be collected in memory.
// The caller writes stdin in pieces (each write waits while the guest's SSH window is full)
// and reads stdout in pieces (libssh keeps at most its receive window, ~1.3 MB, buffered);
// stderr is kept, capped, for the error message. Every wait is a short poll slice, so the
// deadline, the caller's stop_token and Ctrl-C (sys/interrupt) are noticed within ~100 ms.
//
// Thread-safety: one thread at a time, while nothing else uses the session (GuestShell::stream
// holds the shell's lock for the channel's whole life).
#pragma once

#include "guest/ssh_target.hpp"
#include "util/error.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace fleetbox::guest {

class SshSession;

struct StreamLimits {
    std::optional<std::chrono::milliseconds> timeout; // the whole command; nullopt = none
    std::stop_token cancel;                           // stop requested => Interrupted
};

class ExecChannel {
public:
    // Opens a session channel on `session` and starts `command` through the login shell.
    // Errors: Network when the channel cannot be opened or the exec request is refused.
    static Result<ExecChannel> start(SshSession& session, const std::string& command,
                                     const StreamLimits& limits);

    ExecChannel(ExecChannel&&) noexcept;
    ExecChannel& operator=(ExecChannel&&) noexcept;
    ExecChannel(const ExecChannel&) = delete;
    ExecChannel& operator=(const ExecChannel&) = delete;
    // A command that did not finish is abandoned (abort()).
    ~ExecChannel();

    // Sends all of `data` to the command's stdin; blocks while the remote window is full.
    // Errors: Io "the guest command stopped reading its input" when the command closed its
    // side (finish() then tells why), Network, Timeout, Interrupted.
    Status write(std::string_view data);
    // Ends the command's stdin.
    Status send_eof();
    // Up to `size` bytes of the command's stdout into `buf`; 0 once stdout ended.
    Result<std::size_t> read(char* buf, std::size_t size);
    // Discards the rest of stdout, then waits for the exit status. The result's `err` holds
    // the first 64 KiB of stderr; `out` is empty.
    Result<ExecResult> finish();
    // Gives up on the command: sends EOF and closes the channel without waiting (the guest
    // side sees its input end and its output pipe close).
    void abort();

    // stderr received so far (capped).
    [[nodiscard]] const std::string& stderr_text() const;

private:
    struct State;
    explicit ExecChannel(std::unique_ptr<State> state);
    std::unique_ptr<State> st_;
};

} // namespace fleetbox::guest
