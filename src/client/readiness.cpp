// Readiness waits: validation, guest commands, and the polling loop (readiness.hpp).
//
// The loop sleeps on a condition_variable_any bound to the caller's stop_token, so a
// cancellation ends a pause at once; Ctrl-C (sys/interrupt, a flag) is checked every 50 ms.
#include "client/readiness.hpp"

#include "sys/interrupt.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <condition_variable>
#include <fmt/format.h>
#include <mutex>

namespace fleetbox::client {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds kFirstDelay{100};
constexpr milliseconds kMaxDelay{1000};
constexpr milliseconds kInterruptSlice{50};

double seconds(milliseconds d) {
    return std::chrono::duration<double>(d).count();
}

// A short, printable form of the caller's input for an error line.
std::string shown(const std::string& s) {
    std::string out = s.substr(0, 80);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    return shell_quote(out) + (s.size() > 80 ? "..." : "");
}

} // namespace

Status validate_port(int port) {
    if (port < 1 || port > 65535) {
        return fail(ErrorKind::InvalidArgument, "wait for port " + std::to_string(port),
                    "not a TCP port", "use a port between 1 and 65535");
    }
    return {};
}

Status validate_guest_path(const std::string& path) {
    const std::string op = "wait for file " + shown(path);
    if (path.empty() || path.front() != '/') {
        return fail(ErrorKind::InvalidArgument, op, "not an absolute guest path",
                    "give the full path, e.g. /run/app/ready");
    }
    if (path.find_first_of(std::string("\n\r\0", 3)) != std::string::npos)
        return fail(ErrorKind::InvalidArgument, op, "the path contains a newline or NUL byte");
    if (path.size() > 4095)
        return fail(ErrorKind::InvalidArgument, op, "the path is longer than PATH_MAX");
    return {};
}

Status validate_unit_name(const std::string& unit) {
    const std::string op = "wait for unit " + shown(unit);
    if (unit.empty())
        return fail(ErrorKind::InvalidArgument, "wait for unit", "the unit name is empty");
    if (unit.size() > 255)
        return fail(ErrorKind::InvalidArgument, op, "longer than 255 characters");
    auto bad = unit.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789:_.@-\\");
    if (bad != std::string::npos) {
        return fail(ErrorKind::InvalidArgument, op,
                    fmt::format("character {} is not allowed in a unit name", bad + 1),
                    "a unit name is letters, digits and :_.@-\\ only, e.g. nginx.service");
    }
    if (unit.front() == '-' || unit.front() == '.')
        return fail(ErrorKind::InvalidArgument, op, "a unit name cannot start with '-' or '.'");
    return {};
}

std::string file_exists_command(const std::string& path) {
    return "test -e " + shell_quote(path);
}

std::string unit_state_command(const std::string& unit) {
    return "systemctl is-active -- " + shell_quote(unit);
}

std::string unit_journal_command(const std::string& unit, int n) {
    return "journalctl --no-pager -o cat -n " + std::to_string(n) + " -u " + shell_quote(unit);
}

milliseconds next_delay(milliseconds previous) {
    if (previous <= milliseconds(0))
        return kFirstDelay;
    return std::min(kMaxDelay, previous * 3 / 2);
}

std::string describe_exit(int exit_code, const std::string& out, const std::string& err) {
    std::string text = last_line(err);
    if (text.empty())
        text = last_line(out);
    std::string head = exit_code < 0 ? "no exit status" : "exit " + std::to_string(exit_code);
    return text.empty() ? head : head + ": " + text;
}

std::string reason(const Error& e) {
    Error copy = e;
    copy.operation.clear();
    return copy.message();
}

WaitClock real_wait_clock() {
    WaitClock clock;
    clock.now = [] { return WaitClockType::now(); };
    clock.sleep = [](milliseconds d, const std::stop_token& cancel) {
        std::mutex mutex;
        std::condition_variable_any cv;
        std::unique_lock lock(mutex);
        const auto until = WaitClockType::now() + d;
        while (!cancel.stop_requested() && !interrupted()) {
            auto left = std::chrono::ceil<milliseconds>(until - WaitClockType::now());
            if (left <= milliseconds(0))
                return;
            cv.wait_for(lock, cancel, std::min(left, kInterruptSlice), [] { return false; });
        }
    };
    return clock;
}

Status wait_for(const WaitSpec& spec, const Probe& probe, const WaitClock& clock) {
    const std::string op = "wait for " + spec.what;
    const auto start = clock.now();
    const auto deadline = start + spec.timeout;
    auto elapsed = [&] {
        return format_duration(
            seconds(std::chrono::duration_cast<milliseconds>(clock.now() - start)));
    };
    auto abandoned = [&]() -> std::optional<Error> {
        if (spec.cancel.stop_requested())
            return Error{ErrorKind::Interrupted, 0, op, "cancelled after " + elapsed(), {}};
        if (interrupted())
            return Error{ErrorKind::Interrupted, 0, op, "interrupted after " + elapsed(), {}};
        return std::nullopt;
    };
    milliseconds delay{0};
    int checks = 0;
    std::string last;
    for (;;) {
        if (auto stop = abandoned())
            return fail(std::move(*stop));
        auto left = std::chrono::ceil<milliseconds>(deadline - clock.now());
        auto seen = probe(std::max(left, milliseconds(1)));
        ++checks;
        if (seen.verdict == Observation::Verdict::Ready)
            return {};
        if (auto stop = abandoned())
            return fail(std::move(*stop));
        if (seen.verdict == Observation::Verdict::Failed) {
            return fail(seen.error ? std::move(*seen.error)
                                   : Error{ErrorKind::Internal, 0, op, "the check failed", {}});
        }
        if (!seen.cut_short || last.empty())
            last = std::move(seen.detail);
        left = std::chrono::ceil<milliseconds>(deadline - clock.now());
        if (left <= milliseconds(0)) {
            return fail(ErrorKind::Timeout, op,
                        fmt::format("not ready within {} ({} check{}); last check: {}",
                                    format_duration(seconds(spec.timeout)), checks,
                                    checks == 1 ? "" : "s", last.empty() ? "(nothing)" : last),
                        spec.hint);
        }
        delay = next_delay(delay);
        clock.sleep(std::min(delay, left), spec.cancel);
    }
}

} // namespace fleetbox::client
