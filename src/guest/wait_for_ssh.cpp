// wait_for_ssh: rounds of (bounded TCP connect to :22) → (SshSession::connect_staged) →
// (exec "true"), paced by poll_interval, until one succeeds or the deadline passes. Failures
// a booting guest produces (refused/unreachable/no answer, a dropped handshake, a refused
// login, a failing `true`) are retried; setup and host-key failures are returned at once.
// Sleeping is done in short slices so keep_going() and Ctrl-C (sys/interrupt) are noticed
// within ~50 ms.
#include "guest/wait_for_ssh.hpp"

#include "sys/interrupt.hpp"
#include "sys/tcp_connect.hpp"
#include "util/clock.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <optional>
#include <thread>

namespace fleetbox::guest {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kSleepSlice{50};

milliseconds left_until(Clock::time_point deadline) {
    return std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
}

// Abandon when the caller or the user says so.
std::optional<Error> abandoned(const SshTarget& t, const WaitForSshOptions& o,
                               Clock::time_point start) {
    std::string op = "wait for SSH on " + vm_label(t);
    std::string after = " after " + format_duration(seconds_since(start));
    if (interrupted())
        return Error{ErrorKind::Interrupted, 0, op, "interrupted" + after, {}};
    if (o.keep_going && !o.keep_going()) {
        return Error{ErrorKind::Interrupted, 0, op, "abandoned by the caller" + after, {}};
    }
    return std::nullopt;
}

// One login + `true`. nullopt error with a session = ready; `fatal` = stop waiting.
struct Round {
    std::optional<SshSession> session;
    std::optional<Error> error;
    bool fatal = false;
};

Round try_login(const SshTarget& t, milliseconds budget) {
    auto connected = SshSession::connect_staged(t, budget);
    if (!connected) {
        auto stage = connected.error().stage;
        bool fatal = stage == SshSession::Stage::Setup || stage == SshSession::Stage::HostKey;
        return Round{std::nullopt, std::move(connected).error().error, fatal};
    }
    auto result = connected->exec("true", budget);
    if (!result)
        return Round{std::nullopt, std::move(result).error(), false};
    if (result->exit_code != 0) {
        return Round{std::nullopt,
                     Error{ErrorKind::ExternalCommand,
                           0,
                           "run `true` on " + vm_label(t),
                           "exit status " + std::to_string(result->exit_code) + ": " +
                               last_line(result->err),
                           {}},
                     false};
    }
    return Round{std::move(connected).value(), std::nullopt, false};
}

Error timeout_error(const SshTarget& t, milliseconds timeout, const std::optional<Error>& last,
                    const std::string& serial_log, const std::string& extra_hint) {
    std::string op = vm_label(t) + " did not answer SSH at " + endpoint(t.host, t.port) +
                     " within " + format_duration(std::chrono::duration<double>(timeout).count());
    std::string why = last ? "last attempt: " + last->message() : "no attempt was made";
    std::string hint = serial_log.empty() ? "check that the VM is booting (its console log)"
                                          : "see its console log: " + serial_log;
    if (!extra_hint.empty())
        hint += "; " + extra_hint;
    return Error{ErrorKind::Timeout, 0, std::move(op), std::move(why), std::move(hint)};
}

// Sleeps until `until`, in slices, unless the wait is abandoned meanwhile.
std::optional<Error> pause(const SshTarget& t, const WaitForSshOptions& o, Clock::time_point start,
                           Clock::time_point until) {
    for (;;) {
        if (auto stop = abandoned(t, o, start))
            return stop;
        auto left = left_until(until);
        if (left.count() <= 0)
            return std::nullopt;
        std::this_thread::sleep_for(std::min(left, kSleepSlice));
    }
}

} // namespace

Result<SshReady> wait_for_ssh_session(const SshTarget& target, milliseconds timeout,
                                      const WaitForSshOptions& options) {
    FBX_CHECK(validate_target(target));
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    std::optional<Error> last;
    for (;;) {
        if (auto stop = abandoned(target, options, start))
            return tl::unexpected(std::move(*stop));
        auto left = left_until(deadline);
        if (left.count() <= 0)
            break;
        auto round_start = Clock::now();
        std::optional<Error> failure;
        bool truncated = left < options.probe_timeout; // budget cut by the overall deadline
        auto probe = tcp_probe(target.host, target.port, std::min(options.probe_timeout, left),
                               vm_label(target));
        if (probe) {
            auto budget = left_until(deadline);
            truncated = budget < options.attempt_timeout;
            auto round = try_login(target, std::min(options.attempt_timeout, budget));
            if (round.session)
                return SshReady{seconds_since(start), std::move(*round.session)};
            if (round.fatal)
                return tl::unexpected(std::move(*round.error));
            failure = std::move(round.error);
        } else {
            failure = std::move(probe).error();
        }
        // A round cut short by the overall deadline says less than the one before it.
        if (!last || !(truncated && failure->kind == ErrorKind::Timeout))
            last = std::move(failure);
        auto next = std::min(round_start + options.poll_interval, deadline);
        if (auto stop = pause(target, options, start, next))
            return tl::unexpected(std::move(*stop));
    }
    return tl::unexpected(timeout_error(target, timeout, last, options.serial_log, options.hint));
}

Result<double> wait_for_ssh(const SshTarget& target, milliseconds timeout,
                            std::function<bool()> keep_going, std::string serial_log) {
    WaitForSshOptions options;
    options.keep_going = std::move(keep_going);
    options.serial_log = std::move(serial_log);
    auto ready = FBX_TRY(wait_for_ssh_session(target, timeout, options));
    return ready.seconds;
}

} // namespace fleetbox::guest
