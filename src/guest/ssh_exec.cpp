// SshSession::exec: one "session" channel per command on the shared connection.
//
// Output is taken with libssh channel callbacks (stdout and stderr arrive as separate
// SSH_MSG_CHANNEL_DATA / _EXTENDED_DATA packets; a callback that consumes every byte keeps
// libssh's per-channel buffers empty, so libssh re-opens the flow-control window by itself
// and a command flooding one stream can never stall the other). The wait is an ssh_event
// polled in short slices, so a deadline or Ctrl-C is noticed within ~200 ms. The channel is
// done when the server closes it (OpenSSH sends exit-status or exit-signal, then EOF, then
// CLOSE). An exit signal is reported as 128+N, as a shell does (names from sigabbrev_np).
//
// Stopping a command (timeout, ExecIo::cancel, Ctrl-C): with ExecIo::process_group the
// command was started in its own process group (remote_command.hpp); its pgid marker is
// awaited (bounded), the group is SIGKILLed from a second channel on the same connection, and
// the channel's close is awaited (bounded), so the call returns only once the remote command
// and its children are gone (ADR 0018). In every case the top process is then sent SIGKILL
// and the channel closed; the connection stays usable.
#include "guest/libssh_handles.hpp"
#include "guest/remote_command.hpp"
#include "guest/ssh_session.hpp"
#include "sys/interrupt.hpp"
#include "util/strings.hpp"

#include <csignal>
#include <cstring>
#include <exception>
#include <libssh/callbacks.h>

namespace fleetbox::guest {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace detail;

constexpr milliseconds kPollSlice{200};
// Bounds each step of stopping a command: its pgid marker arriving, its channel closing.
constexpr milliseconds kStopGrace{10000};
constexpr std::size_t kWriteChunk = 32 * 1024;

int signal_number(std::string_view name) {
    if (name.substr(0, 3) == "SIG")
        name.remove_prefix(3);
    for (int n = 1; n < NSIG; ++n) {
        const char* abbrev = ::sigabbrev_np(n);
        if (abbrev != nullptr && name == abbrev)
            return n;
    }
    return 0;
}

struct ExecState {
    const ExecIo* io = nullptr;
    PgidMarker* marker = nullptr; // set for a process_group command: stdout's first line
    ExecResult result;
    std::string callback_error; // an exception thrown by a caller's stream callback
};

void deliver(ExecState& st, std::string_view chunk, bool is_stderr) {
    const auto& sink = is_stderr ? st.io->on_stderr : st.io->on_stdout;
    if (sink)
        sink(chunk);
    else
        (is_stderr ? st.result.err : st.result.out).append(chunk);
}

int on_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* user) {
    auto& st = *static_cast<ExecState*>(user);
    if (!st.callback_error.empty())
        return static_cast<int>(len);
    try { // never let an exception unwind through libssh's C frames
        std::string_view chunk(static_cast<const char*>(data), len);
        if (is_stderr == 0 && st.marker != nullptr)
            st.marker->feed(chunk, [&](std::string_view rest) { deliver(st, rest, false); });
        else
            deliver(st, chunk, is_stderr != 0);
    } catch (const std::exception& e) {
        st.callback_error = e.what();
    } catch (...) {
        st.callback_error = "unknown exception";
    }
    return static_cast<int>(len);
}

void on_exit_status(ssh_session, ssh_channel, int status, void* user) {
    static_cast<ExecState*>(user)->result.exit_code = status;
}

void on_exit_signal(ssh_session, ssh_channel, const char* sig, int, const char*, const char*,
                    void* user) {
    int n = sig != nullptr ? signal_number(sig) : 0;
    static_cast<ExecState*>(user)->result.exit_code = n > 0 ? 128 + n : -1;
}

// Detaches the callbacks before the channel is freed: libssh keeps a locally freed channel
// until the server's CLOSE arrives and would otherwise call into a dead stack frame.
struct CallbackGuard {
    ssh_channel channel;
    ssh_channel_callbacks callbacks;
    ~CallbackGuard() { ssh_remove_channel_callbacks(channel, callbacks); }
};

// Hands the session's socket to an ssh_event for the wait, and back on scope exit (blocking
// libssh calls must not run while the socket sits in the event).
class EventScope {
public:
    explicit EventScope(ssh_session s) : session_(s), event_(ssh_event_new()) { acquire(); }
    ~EventScope() { release(); }
    EventScope(const EventScope&) = delete;
    EventScope& operator=(const EventScope&) = delete;
    [[nodiscard]] bool ok() const { return added_; }
    bool acquire() {
        if (!added_)
            added_ = event_ && ssh_event_add_session(event_.get(), session_) == SSH_OK;
        return added_;
    }
    int poll(milliseconds slice) {
        if (!acquire())
            return SSH_ERROR;
        return ssh_event_dopoll(event_.get(), static_cast<int>(slice.count()));
    }
    void release() {
        if (added_)
            ssh_event_remove_session(event_.get(), session_);
        added_ = false;
    }

private:
    ssh_session session_;
    EventPtr event_;
    bool added_ = false;
};

std::string summarize(const std::string& command) {
    std::string one_line = command.substr(0, command.find('\n'));
    if (one_line.size() > 60 || one_line.size() < command.size()) {
        one_line = one_line.substr(0, 60) + "...";
    }
    return one_line;
}

bool connected(ssh_session s) {
    return ssh_is_connected(s) != 0 && (ssh_get_status(s) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0;
}

// Polls until `done()` or `grace` has passed (or the session broke).
template <typename Done>
void poll_until(ssh_session session, EventScope& event, milliseconds grace, Done done) {
    const auto until = Clock::now() + grace;
    while (!done() && Clock::now() < until && connected(session)) {
        if (event.poll(kPollSlice) == SSH_ERROR && !event.ok())
            return;
    }
}

// Stops the command running on `ch`; returns what became of it, for the error message.
// kill_group(pgid) kills the group from a second channel: "" on success, else why not.
template <typename KillGroup>
std::string terminate(ssh_session session, ssh_channel ch, const PgidMarker* marker,
                      EventScope& event, KillGroup kill_group) {
    auto closed = [&] { return ssh_channel_is_closed(ch) != 0; };
    std::string outcome;
    if (marker != nullptr) {
        poll_until(session, event, kStopGrace, [&] { return marker->decided() || closed(); });
        event.release();
        if (closed()) {
            outcome = "; it had just ended";
        } else if (auto pgid = marker->pgid()) {
            std::string failed = kill_group(*pgid);
            EventScope again(session);
            poll_until(session, again, kStopGrace, closed);
            if (!closed()) {
                outcome = "; it is still running after SIGKILL to its process group " +
                          std::to_string(*pgid) + (failed.empty() ? "" : " (" + failed + ")");
            } else {
                outcome = failed.empty() ? "; its process group was killed" : "; it ended";
            }
        } else {
            outcome = "; only its top process was signalled (it announced no process group)";
        }
    }
    event.release();
    if (!closed()) {
        ssh_channel_request_send_signal(ch, "KILL");
        ssh_channel_close(ch);
    }
    return outcome;
}

} // namespace

Result<ExecResult> SshSession::exec(const std::string& command,
                                    std::optional<milliseconds> timeout) {
    return exec(command, ExecIo{}, timeout);
}

Result<ExecResult> SshSession::exec(const std::string& command, const ExecIo& io,
                                    std::optional<milliseconds> timeout) {
    auto attempt = run(command, io, timeout);
    if (!attempt)
        return tl::unexpected(std::move(attempt).error().error);
    return std::move(attempt).value();
}

SshSession::Attempt SshSession::run(const std::string& command, const ExecIo& io,
                                    std::optional<milliseconds> timeout, bool cleanup) {
    const std::string op = "run `" + summarize(command) + "` on " + vm_label(target_);
    auto failure = [&](ErrorKind kind, std::string why, bool started, std::string hint = {}) {
        return tl::unexpected(
            ExecFailure{Error{kind, 0, op, std::move(why), std::move(hint)}, started});
    };
    if (!alive())
        return failure(ErrorKind::Network, "not connected", false);
    if (io.cancel.stop_requested())
        return failure(ErrorKind::Interrupted, "cancelled by the caller before it started", false);
    const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
    const std::string request = wrap_command(command, {io.as_root, io.process_group});

    ExecState state;
    state.io = &io;
    PgidMarker marker;
    if (io.process_group)
        state.marker = &marker;
    ssh_channel_callbacks_struct callbacks{};
    callbacks.userdata = &state;
    callbacks.channel_data_function = on_data;
    callbacks.channel_exit_status_function = on_exit_status;
    callbacks.channel_exit_signal_function = on_exit_signal;
    ssh_callbacks_init(&callbacks);

    ChannelPtr channel(ssh_channel_new(session_));
    if (!channel || ssh_channel_open_session(channel.get()) != SSH_OK) {
        return failure(ErrorKind::Network, "cannot open a channel: " + last_error(session_), false);
    }
    ssh_set_channel_callbacks(channel.get(), &callbacks);
    CallbackGuard guard{channel.get(), &callbacks};
    if (ssh_channel_request_exec(channel.get(), request.c_str()) != SSH_OK) {
        bool lost = !alive(); // refused by a live server: it did not start
        return failure(ErrorKind::Network,
                       (lost ? "connection lost: " : "the server refused to run it: ") +
                           last_error(session_),
                       lost);
    }

    EventScope event(session_);
    if (!event.ok())
        return failure(ErrorKind::Internal, "cannot poll the session", true);
    auto stop = [&](std::string why) {
        return why + terminate(session_, channel.get(), state.marker, event, [&](long pgid) {
                   auto killed = run(group_kill_command(pgid, io.as_root), ExecIo{}, kStopGrace,
                                     /*cleanup=*/true);
                   if (!killed)
                       return killed.error().error.message();
                   if (killed->exit_code != 0)
                       return "kill: exit " + std::to_string(killed->exit_code) + ": " +
                              last_line(killed->err);
                   return std::string();
               });
    };
    // Why the wait must end now (checked between poll slices), or nullopt.
    auto should_stop = [&]() -> std::optional<ExecFailure> {
        if (!cleanup && interrupted())
            return ExecFailure{Error{ErrorKind::Interrupted, 0, op, stop("interrupted"), {}}, true};
        if (io.cancel.stop_requested()) {
            return ExecFailure{
                Error{ErrorKind::Interrupted, 0, op, stop("cancelled by the caller"), {}}, true};
        }
        if (Clock::now() >= deadline) {
            return ExecFailure{
                Error{ErrorKind::Timeout, 0, op,
                      stop("did not finish within " + std::to_string(timeout->count()) + " ms"),
                      "raise the timeout if it needs longer"},
                true};
        }
        return std::nullopt;
    };
    auto slice = [&] {
        return std::min(kPollSlice, std::max(milliseconds(1), std::chrono::ceil<milliseconds>(
                                                                  deadline - Clock::now())));
    };

    // stdin: the input, then EOF, written no faster than the channel's window allows (so a
    // command that does not read its stdin cannot block us past a deadline or a cancel).
    // Output arriving meanwhile is taken by the callbacks.
    for (std::size_t off = 0; off < io.input.size() && !ssh_channel_is_closed(channel.get());) {
        if (auto why = should_stop())
            return tl::unexpected(std::move(*why));
        auto window = ssh_channel_window_size(channel.get());
        if (window == 0) {
            event.poll(slice());
            continue;
        }
        event.release(); // a blocking write must not run with the socket in the event
        auto n = static_cast<uint32_t>(
            std::min({kWriteChunk, io.input.size() - off, static_cast<std::size_t>(window)}));
        int w = ssh_channel_write(channel.get(), io.input.data() + off, n);
        if (w == SSH_ERROR)
            break; // closed by the command, or a lost connection (seen below)
        off += static_cast<std::size_t>(w);
    }
    event.release();
    if (!ssh_channel_is_closed(channel.get()))
        ssh_channel_send_eof(channel.get());

    while (!ssh_channel_is_closed(channel.get())) {
        if (!alive()) {
            return failure(ErrorKind::Network, "connection lost: " + last_error(session_), true,
                           "the VM may have stopped or rebooted");
        }
        if (!state.callback_error.empty()) {
            return failure(ErrorKind::Internal,
                           stop("output callback failed: " + state.callback_error), true);
        }
        if (auto why = should_stop())
            return tl::unexpected(std::move(*why));
        event.poll(slice()); // SSH_ERROR here is EINTR or a broken socket: checked above
    }
    if (auto rest = marker.flush(); !rest.empty() && state.callback_error.empty())
        deliver(state, rest, false);
    if (!state.callback_error.empty()) {
        return failure(ErrorKind::Internal, "output callback failed: " + state.callback_error,
                       true);
    }
    // ssh_channel_is_closed is also true when the whole connection broke.
    if (!alive() && state.result.exit_code == -1) {
        return failure(ErrorKind::Network, "connection lost: " + last_error(session_), true,
                       "the VM may have stopped or rebooted");
    }
    return std::move(state.result);
}

} // namespace fleetbox::guest
