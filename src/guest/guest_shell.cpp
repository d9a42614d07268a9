// GuestShell: one optional SshSession behind a mutex. exec() reuses a live session; a session
// libssh already knows to be closed is replaced before use; a reused session that fails
// before the command's exec request was sent (SshSession::ExecFailure::may_have_started ==
// false, e.g. channel open answered by RST after a reboot) with a Network error is replaced
// once and the command retried on the new one (a cancel before the start is not retried).
#include "guest/guest_shell.hpp"

#include <mutex>

namespace fleetbox::guest {

struct GuestShell::State {
    SshTarget target;
    std::chrono::milliseconds connect_timeout;
    mutable std::mutex mutex;
    std::optional<SshSession> session;
    int logins = 0;

    Status login() {
        session.reset();
        auto fresh = FBX_TRY(SshSession::connect(target, connect_timeout));
        session.emplace(std::move(fresh));
        ++logins;
        return {};
    }
};

GuestShell::GuestShell(SshTarget target, std::chrono::milliseconds connect_timeout)
    : state_(std::make_unique<State>()) {
    state_->target = std::move(target);
    state_->connect_timeout = connect_timeout;
}

GuestShell::~GuestShell() = default;
GuestShell::GuestShell(GuestShell&&) noexcept = default;
GuestShell& GuestShell::operator=(GuestShell&&) noexcept = default;

Result<ExecResult> GuestShell::exec(const std::string& command,
                                    std::optional<std::chrono::milliseconds> timeout) {
    return exec(command, ExecIo{}, timeout);
}

Result<ExecResult> GuestShell::exec(const std::string& command, const ExecIo& io,
                                    std::optional<std::chrono::milliseconds> timeout) {
    std::lock_guard lock(state_->mutex);
    auto& s = *state_;
    bool reused = s.session && s.session->alive();
    if (!reused)
        FBX_CHECK(s.login());
    auto attempt = s.session->run(command, io, timeout);
    if (attempt)
        return std::move(attempt).value();
    if (!s.session->alive())
        s.session.reset();
    if (attempt.error().may_have_started || !reused ||
        attempt.error().error.kind != ErrorKind::Network) {
        return tl::unexpected(std::move(attempt).error().error);
    }
    // A stale connection: the command never reached the VM. Log in again and run it once.
    if (auto ok = s.login(); !ok) {
        return tl::unexpected(std::move(ok).error().wrap("reconnect after \"" +
                                                         attempt.error().error.message() + "\""));
    }
    auto retry = s.session->run(command, io, timeout);
    if (!retry) {
        if (!s.session->alive())
            s.session.reset();
        return tl::unexpected(std::move(retry).error().error);
    }
    return std::move(retry).value();
}

Status GuestShell::stream(const std::string& command, const StreamLimits& limits,
                          const std::function<Status(ExecChannel&)>& body) {
    std::lock_guard lock(state_->mutex);
    auto& s = *state_;
    bool reused = s.session && s.session->alive();
    if (!reused)
        FBX_CHECK(s.login());
    auto channel = ExecChannel::start(*s.session, command, limits);
    if (!channel && reused && !s.session->alive()) {
        // A stale connection (the VM rebooted): the command never started. Log in again.
        FBX_CHECK(s.login());
        channel = ExecChannel::start(*s.session, command, limits);
    }
    if (!channel) {
        if (!s.session->alive())
            s.session.reset();
        return tl::unexpected(std::move(channel).error());
    }
    auto result = body(*channel);
    channel->abort();
    if (!s.session->alive())
        s.session.reset();
    return result;
}

Result<double> GuestShell::wait_ready(std::chrono::milliseconds timeout,
                                      const WaitForSshOptions& options) {
    std::lock_guard lock(state_->mutex);
    auto ready = FBX_TRY(wait_for_ssh_session(state_->target, timeout, options));
    state_->session.emplace(std::move(ready.session));
    ++state_->logins;
    return ready.seconds;
}

void GuestShell::adopt(SshSession session) {
    std::lock_guard lock(state_->mutex);
    state_->session.emplace(std::move(session));
}

void GuestShell::disconnect() {
    std::lock_guard lock(state_->mutex);
    state_->session.reset();
}

bool GuestShell::connected() const {
    std::lock_guard lock(state_->mutex);
    return state_->session && state_->session->alive();
}

const SshTarget& GuestShell::target() const {
    return state_->target;
}

int GuestShell::logins() const {
    std::lock_guard lock(state_->mutex);
    return state_->logins;
}

} // namespace fleetbox::guest
