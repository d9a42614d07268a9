// The readiness waits behind Vm::wait_for_port / wait_for_file / wait_for_unit / wait_until:
// input validation, the guest commands they send, and one polling loop driven by a probe.
//
// Why a probe and an injectable clock: what "ready" means differs per wait (a TCP connect,
// an exit status, a unit state) but the loop (backoff, deadline, cancellation, the one-line
// timeout error naming the last observation) is the same, and it must be testable without a
// VM and without sleeping (tests/unit/client/readiness_test.cpp drives it with a fake probe
// and a fake clock). The semantics are in ADR 0018.
#pragma once

#include "util/error.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

namespace fleetbox::client {

// InvalidArgument unless 1 <= port <= 65535.
Status validate_port(int port);
// InvalidArgument unless `path` is absolute, has no NUL or newline, and is at most 4095 bytes.
Status validate_guest_path(const std::string& path);
// InvalidArgument unless `unit` is a plausible systemd unit name: 1..255 characters from
// [A-Za-z0-9:_.@\-\\], not starting with '-' or '.' (no whitespace, no shell syntax).
Status validate_unit_name(const std::string& unit);

// Guest commands (every argument shell-quoted; run through the login shell).
std::string file_exists_command(const std::string& path);         // test -e PATH
std::string unit_state_command(const std::string& unit);          // systemctl is-active
std::string unit_journal_command(const std::string& unit, int n); // journalctl -u, last n

// What one check saw.
struct Observation {
    enum class Verdict { NotYet, Ready, Failed };
    Verdict verdict = Verdict::NotYet;
    std::string detail;         // NotYet: the last observation, one line ("exit 1: ...")
    std::optional<Error> error; // Failed: returned as is, the wait ends
    // NotYet because the check itself ran out of the time left: it says less than the check
    // before it, so the timeout error quotes that one instead (when there was one).
    bool cut_short = false;

    static Observation ready() { return {Verdict::Ready, {}, std::nullopt, false}; }
    static Observation not_yet(std::string detail, bool cut_short = false) {
        return {Verdict::NotYet, std::move(detail), std::nullopt, cut_short};
    }
    static Observation failed(Error e) { return {Verdict::Failed, {}, std::move(e), false}; }
};

// The pause before the next check: 100 ms, then x1.5 each time, at most 1 s.
std::chrono::milliseconds next_delay(std::chrono::milliseconds previous);

// "exit 3: <last stderr line>" (or the last stdout line when stderr is empty).
std::string describe_exit(int exit_code, const std::string& out, const std::string& err);
// An error's reason without its operation ("Connection refused").
std::string reason(const Error& e);

using WaitClockType = std::chrono::steady_clock;
struct WaitClock {
    std::function<WaitClockType::time_point()> now;
    // Sleeps `d` unless stop is requested first (or Ctrl-C: sys/interrupt).
    std::function<void(std::chrono::milliseconds d, const std::stop_token&)> sleep;
};
WaitClock real_wait_clock();

struct WaitSpec {
    std::string what; // "TCP port 8080 on VM web (192.168.5.2:8080)"
    std::chrono::milliseconds timeout{0};
    std::stop_token cancel;
    std::string hint; // for the timeout error
};

// One check, given the time left until the deadline (at least 1 ms).
using Probe = std::function<Observation(std::chrono::milliseconds budget)>;

// Checks at least once, then until Ready, Failed, the deadline or a cancellation. Errors:
// Timeout ("wait for <what>: not ready within 5 s (12 checks); last check: <detail>"),
// Interrupted (cancelled or Ctrl-C), or the error of a Failed observation.
Status wait_for(const WaitSpec& spec, const Probe& probe,
                const WaitClock& clock = real_wait_clock());

} // namespace fleetbox::client
