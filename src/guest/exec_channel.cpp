// ExecChannel: libssh's non-blocking channel reads, and ssh_event polls to wait.
//
// libssh 0.10 facts relied on: with no data callback set, incoming channel data is kept in
// the channel's stdout/stderr buffers and the receive window is re-opened only as those
// buffers are read (ssh_channel_read_nonblocking), so an unread stdout never holds more than
// one window (flow control, not memory, stops a fast guest). ssh_channel_read_nonblocking
// processes whatever packets the socket has without waiting, so "drain stderr" doubles as the
// pump that takes in window adjustments. ssh_channel_write never waits for the window when it
// is asked for no more than ssh_channel_window_size(); it only flushes the socket. Waiting is
// an ssh_event poll slice, which processes every packet that arrives. The exit
// status arrives in a channel callback (OpenSSH sends exit-status or exit-signal, then EOF and
// CLOSE); an exit signal reads as 128+N, as a shell reports it.
#include "guest/exec_channel.hpp"

#include "guest/libssh_handles.hpp"
#include "guest/ssh_session.hpp"
#include "sys/interrupt.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <libssh/callbacks.h>
#include <poll.h>

namespace fleetbox::guest {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace detail;

constexpr int kPollSliceMs = 100;
constexpr std::size_t kStderrCap = 64 * 1024;
constexpr std::size_t kMaxWrite = 256 * 1024;

int exit_code_of_signal(const char* sig) {
    std::string_view name = sig != nullptr ? sig : "";
    if (name.substr(0, 3) == "SIG")
        name.remove_prefix(3);
    for (int n = 1; n < NSIG; ++n) {
        const char* abbrev = ::sigabbrev_np(n);
        if (abbrev != nullptr && name == abbrev)
            return 128 + n;
    }
    return -1;
}

} // namespace

struct ExecChannel::State {
    ssh_session session = nullptr;
    ChannelPtr channel;
    ssh_channel_callbacks_struct callbacks{};
    bool callbacks_set = false;
    std::string op;
    std::optional<milliseconds> timeout;
    Clock::time_point deadline = Clock::time_point::max();
    std::stop_token cancel;
    int exit_code = -1;
    bool exit_known = false;
    bool eof_sent = false;
    bool done = false;
    std::string err;

    ~State() {
        if (callbacks_set && channel)
            ssh_remove_channel_callbacks(channel.get(), &callbacks);
    }

    [[nodiscard]] bool alive() const {
        return ssh_is_connected(session) != 0 &&
               (ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0;
    }

    tl::unexpected<Error> error(ErrorKind kind, std::string why, std::string hint = {}) const {
        return fail(kind, op, std::move(why), std::move(hint));
    }

    // Takes in whatever the socket holds (window adjustments, data, exit status) and keeps
    // the stderr it carried.
    Status pump() {
        char buf[4096];
        for (;;) {
            int n = ssh_channel_read_nonblocking(channel.get(), buf, sizeof buf, 1);
            if (n > 0) {
                auto room = kStderrCap - std::min(kStderrCap, err.size());
                err.append(buf, std::min(room, static_cast<std::size_t>(n)));
                continue;
            }
            if (n == SSH_ERROR && !alive())
                return lost();
            return {};
        }
    }

    tl::unexpected<Error> lost() const {
        return error(ErrorKind::Network, "connection lost: " + last_error(session),
                     "the VM may have stopped or rebooted");
    }

    Status check_stop() const {
        if (!alive())
            return lost();
        if (interrupted())
            return error(ErrorKind::Interrupted, "interrupted");
        if (cancel.stop_requested())
            return error(ErrorKind::Interrupted, "cancelled");
        if (Clock::now() >= deadline)
            return error(ErrorKind::Timeout,
                         "did not finish within " + std::to_string(timeout->count()) + " ms",
                         "raise the timeout if it needs longer");
        return {};
    }

    static void on_exit_status(ssh_session, ssh_channel, int status, void* user) {
        auto& s = *static_cast<State*>(user);
        s.exit_code = status;
        s.exit_known = true;
    }

    static void on_exit_signal(ssh_session, ssh_channel, const char* sig, int, const char*,
                               const char*, void* user) {
        auto& s = *static_cast<State*>(user);
        s.exit_code = exit_code_of_signal(sig);
        s.exit_known = true;
    }

    // Waits at most one poll slice for the socket, handling whatever arrives (data, window
    // adjustments, exit status, EOF, CLOSE). An ssh_event processes packets whatever the
    // channel's state (the non-blocking reads stop doing so once the peer sent EOF); the
    // session sits in the event only for the wait (blocking libssh calls must not run while
    // it is there).
    Status wait_io() {
        FBX_CHECK(check_stop());
        EventPtr event(ssh_event_new());
        if (!event || ssh_event_add_session(event.get(), session) != SSH_OK) {
            pollfd p{ssh_get_fd(session), POLLIN, 0};
            ::poll(&p, 1, kPollSliceMs);
            return {};
        }
        ssh_event_dopoll(event.get(), kPollSliceMs);
        ssh_event_remove_session(event.get(), session);
        return {};
    }
};

Result<ExecChannel> ExecChannel::start(SshSession& session, const std::string& command,
                                       const StreamLimits& limits) {
    auto st = std::make_unique<State>();
    st->session = session.session_;
    st->op = ssh_operation(session.target());
    st->timeout = limits.timeout;
    if (limits.timeout)
        st->deadline = Clock::now() + *limits.timeout;
    st->cancel = limits.cancel;
    if (!session.alive())
        return st->error(ErrorKind::Network, "not connected");
    st->channel.reset(ssh_channel_new(st->session));
    if (!st->channel || ssh_channel_open_session(st->channel.get()) != SSH_OK)
        return st->error(ErrorKind::Network, "cannot open a channel: " + last_error(st->session));
    st->callbacks.userdata = st.get();
    st->callbacks.channel_exit_status_function = State::on_exit_status;
    st->callbacks.channel_exit_signal_function = State::on_exit_signal;
    ssh_callbacks_init(&st->callbacks);
    ssh_set_channel_callbacks(st->channel.get(), &st->callbacks);
    st->callbacks_set = true;
    if (ssh_channel_request_exec(st->channel.get(), command.c_str()) != SSH_OK) {
        return st->error(ErrorKind::Network, (session.alive() ? "the server refused to run it: "
                                                              : "connection lost: ") +
                                                 last_error(st->session));
    }
    return ExecChannel(std::move(st));
}

ExecChannel::ExecChannel(std::unique_ptr<State> state) : st_(std::move(state)) {}
ExecChannel::ExecChannel(ExecChannel&&) noexcept = default;
ExecChannel& ExecChannel::operator=(ExecChannel&&) noexcept = default;

ExecChannel::~ExecChannel() {
    if (st_)
        abort();
}

Status ExecChannel::write(std::string_view data) {
    auto& s = *st_;
    while (!data.empty()) {
        FBX_CHECK(s.pump());
        if (ssh_channel_is_closed(s.channel.get()) || ssh_channel_is_eof(s.channel.get()) != 0) {
            if (!s.alive())
                return s.lost();
            return s.error(ErrorKind::Io, "the guest command stopped reading its input");
        }
        auto window = static_cast<std::size_t>(ssh_channel_window_size(s.channel.get()));
        if (window == 0) {
            FBX_CHECK(s.wait_io());
            continue;
        }
        auto n = static_cast<uint32_t>(std::min({window, data.size(), kMaxWrite}));
        int w = ssh_channel_write(s.channel.get(), data.data(), n);
        if (w == SSH_ERROR) {
            if (!s.alive())
                return s.lost();
            return s.error(ErrorKind::Io, "the guest command stopped reading its input");
        }
        data.remove_prefix(static_cast<std::size_t>(w));
        FBX_CHECK(s.check_stop());
    }
    return {};
}

Status ExecChannel::send_eof() {
    auto& s = *st_;
    if (s.eof_sent || ssh_channel_is_closed(s.channel.get()))
        return {};
    s.eof_sent = true;
    if (ssh_channel_send_eof(s.channel.get()) != SSH_OK && !s.alive())
        return s.lost();
    return {};
}

Result<std::size_t> ExecChannel::read(char* buf, std::size_t size) {
    auto& s = *st_;
    auto want = static_cast<uint32_t>(std::min<std::size_t>(size, 1U << 20));
    FBX_CHECK(s.check_stop());
    for (;;) {
        int n = ssh_channel_read_nonblocking(s.channel.get(), buf, want, 0);
        if (n > 0)
            return static_cast<std::size_t>(n);
        if (n == SSH_EOF)
            return 0;
        if (n == SSH_ERROR) {
            if (!s.alive())
                return s.lost();
            return 0; // the channel is closed and its buffers are empty
        }
        FBX_CHECK(s.pump());
        if (ssh_channel_is_closed(s.channel.get()) || ssh_channel_is_eof(s.channel.get()) != 0)
            continue; // one more read takes what the closing packets left, then ends
        FBX_CHECK(s.wait_io());
    }
}

Result<ExecResult> ExecChannel::finish() {
    auto& s = *st_;
    FBX_CHECK(send_eof());
    char scratch[16 * 1024];
    for (;;) {
        auto n = read(scratch, sizeof scratch);
        if (!n) {
            abort();
            return tl::unexpected(std::move(n).error());
        }
        if (*n == 0)
            break;
    }
    while (!ssh_channel_is_closed(s.channel.get()) &&
           !(s.exit_known && ssh_channel_is_eof(s.channel.get()) != 0)) {
        if (auto ok = s.pump().and_then([&] { return s.wait_io(); }); !ok) {
            abort();
            return tl::unexpected(std::move(ok).error());
        }
    }
    FBX_CHECK(s.pump());
    if (!s.exit_known && !s.alive())
        return s.lost();
    ssh_channel_close(s.channel.get());
    s.done = true;
    ExecResult result;
    result.exit_code = s.exit_code;
    result.err = s.err;
    return result;
}

void ExecChannel::abort() {
    auto& s = *st_;
    if (s.done)
        return;
    s.done = true;
    if (!s.alive() || ssh_channel_is_closed(s.channel.get()))
        return;
    if (!s.eof_sent)
        ssh_channel_send_eof(s.channel.get());
    s.eof_sent = true;
    ssh_channel_close(s.channel.get());
}

const std::string& ExecChannel::stderr_text() const {
    return st_->err;
}

} // namespace fleetbox::guest
