// Unit tests for the readiness waits' pure parts (readiness.hpp): input validation, the guest
// commands (quoting), backoff, exit descriptions, and the polling loop against a fake probe
// and a fake clock (no VM, no real sleeping).
#include "client/readiness.hpp"

#include <gtest/gtest.h>
#include <stop_token>
#include <vector>

namespace fleetbox::client {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// A clock that only moves when the loop sleeps (or a probe "takes time").
struct FakeClock {
    WaitClockType::time_point t{};
    std::vector<milliseconds> sleeps;
    std::stop_source* stop_after_sleep = nullptr;
    WaitClock clock() {
        return WaitClock{[this] { return t; },
                         [this](milliseconds d, const std::stop_token& st) {
                             sleeps.push_back(d);
                             if (stop_after_sleep != nullptr)
                                 stop_after_sleep->request_stop();
                             if (!st.stop_requested())
                                 t += d;
                         }};
    }
};

WaitSpec spec(milliseconds timeout, std::stop_token cancel = {}) {
    return WaitSpec{"TCP port 8080 on VM web (10.0.0.2:8080)", timeout, std::move(cancel),
                    "check the service"};
}

TEST(ReadinessValidation, Port) {
    EXPECT_TRUE(validate_port(1));
    EXPECT_TRUE(validate_port(65535));
    for (int bad : {0, -1, 65536, 100000}) {
        auto r = validate_port(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
        EXPECT_NE(r.error().message().find(std::to_string(bad)), std::string::npos);
    }
}

TEST(ReadinessValidation, GuestPath) {
    EXPECT_TRUE(validate_guest_path("/run/app ready/it's"));
    for (const std::string& bad :
         std::vector<std::string>{"", "relative/x", "./x", std::string("/a\nb"),
                                  std::string("/a\0b", 4), "/" + std::string(5000, 'x')}) {
        auto r = validate_guest_path(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
        EXPECT_EQ(r.error().message().find('\n'), std::string::npos) << "one line";
    }
}

TEST(ReadinessValidation, UnitName) {
    for (const char* good : {"ssh.service", "ssh", "fbx-late", "getty@tty1.service",
                             "systemd-fsck@dev-disk-by\\x2duuid-1.service", "a:b_c.mount"})
        EXPECT_TRUE(validate_unit_name(good)) << good;
    for (const std::string& bad : std::vector<std::string>{
             "", "ssh service", "a;reboot", "$(id)", "a`b`", "x|y", "a'b", "-H", ".hidden",
             "tab\tx", "a\nb", "a/b", std::string(256, 'u')}) {
        auto r = validate_unit_name(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument) << bad;
        EXPECT_EQ(r.error().message().find('\n'), std::string::npos) << "one line";
    }
}

TEST(ReadinessCommands, EveryArgumentIsQuoted) {
    EXPECT_EQ(file_exists_command("/run/x"), "test -e /run/x");
    EXPECT_EQ(file_exists_command("/tmp/a b;rm -rf /"), "test -e '/tmp/a b;rm -rf /'");
    EXPECT_EQ(file_exists_command("/tmp/it's"), "test -e '/tmp/it'\\''s'");
    EXPECT_EQ(unit_state_command("ssh.service"), "systemctl is-active -- ssh.service");
    EXPECT_EQ(unit_state_command("a\\x2db"), "systemctl is-active -- 'a\\x2db'");
    EXPECT_EQ(unit_journal_command("fbx-bad", 5), "journalctl --no-pager -o cat -n 5 -u fbx-bad");
}

TEST(ReadinessBackoff, GrowsToACap) {
    milliseconds d{0};
    std::vector<milliseconds> seen;
    for (int i = 0; i < 10; ++i)
        seen.push_back(d = next_delay(d));
    EXPECT_EQ(seen.front(), 100ms);
    EXPECT_EQ(seen[1], 150ms);
    EXPECT_EQ(seen[2], 225ms);
    for (std::size_t i = 1; i < seen.size(); ++i)
        EXPECT_GE(seen[i], seen[i - 1]);
    EXPECT_EQ(seen.back(), 1000ms);
}

TEST(ReadinessDescribe, ExitAndLastLine) {
    EXPECT_EQ(describe_exit(1, "", ""), "exit 1");
    EXPECT_EQ(describe_exit(2, "out\n", "first\nlast err\n\n"), "exit 2: last err");
    EXPECT_EQ(describe_exit(3, "a\nb\n", ""), "exit 3: b");
    EXPECT_EQ(describe_exit(-1, "", ""), "no exit status");
    EXPECT_EQ(reason(Error{ErrorKind::Network, 111, "connect to VM web", {}, {}}),
              "Connection refused");
}

TEST(WaitFor, ReadyAtOnceDoesNotSleep) {
    FakeClock fc;
    int calls = 0;
    auto r = wait_for(
        spec(5s),
        [&](milliseconds budget) {
            ++calls;
            EXPECT_EQ(budget, 5000ms);
            return Observation::ready();
        },
        fc.clock());
    EXPECT_TRUE(r);
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(fc.sleeps.empty());
}

TEST(WaitFor, PollsWithBackoffUntilReady) {
    FakeClock fc;
    int calls = 0;
    auto r = wait_for(
        spec(60s),
        [&](milliseconds) {
            return ++calls < 4 ? Observation::not_yet("refused") : Observation::ready();
        },
        fc.clock());
    EXPECT_TRUE(r);
    EXPECT_EQ(calls, 4);
    EXPECT_EQ(fc.sleeps, (std::vector<milliseconds>{100ms, 150ms, 225ms}));
}

TEST(WaitFor, TimeoutIsOneLineWithTheLastObservation) {
    FakeClock fc;
    int calls = 0;
    auto r = wait_for(
        spec(2s),
        [&](milliseconds budget) {
            EXPECT_GE(budget, 1ms);
            EXPECT_LE(budget, 2000ms);
            return Observation::not_yet("exit " + std::to_string(++calls));
        },
        fc.clock());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
    const auto msg = r.error().message();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find("wait for TCP port 8080 on VM web"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not ready within 2.0 s"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(calls) + " checks"), std::string::npos) << msg;
    EXPECT_NE(msg.find("last check: exit " + std::to_string(calls)), std::string::npos) << msg;
    EXPECT_EQ(r.error().hint, "check the service");
    // The sleeps never overshoot the deadline: their sum is exactly the timeout.
    milliseconds total{0};
    for (auto s : fc.sleeps)
        total += s;
    EXPECT_EQ(total, 2000ms);
}

TEST(WaitFor, ACheckCutShortByTheDeadlineDoesNotHideTheOneBefore) {
    FakeClock fc;
    int calls = 0;
    auto r = wait_for(
        spec(1s),
        [&](milliseconds budget) {
            if (++calls == 1) {
                fc.t += 700ms; // a slow check
                return Observation::not_yet("exit 4: not yet");
            }
            fc.t += budget; // runs into the deadline
            return Observation::not_yet("still running at the deadline", /*cut_short=*/true);
        },
        fc.clock());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
    EXPECT_NE(r.error().message().find("last check: exit 4: not yet"), std::string::npos)
        << r.error().message();
    // Only cut-short checks: the last of them is all there is to say.
    FakeClock fc2;
    auto only = wait_for(
        spec(1s),
        [&](milliseconds budget) {
            fc2.t += budget;
            return Observation::not_yet("still running at the deadline", true);
        },
        fc2.clock());
    ASSERT_FALSE(only);
    EXPECT_NE(only.error().message().find("last check: still running at the deadline"),
              std::string::npos)
        << only.error().message();
}

TEST(WaitFor, ZeroTimeoutStillChecksOnce) {
    FakeClock fc;
    int calls = 0;
    auto r = wait_for(
        spec(0ms),
        [&](milliseconds) {
            ++calls;
            return Observation::not_yet("nope");
        },
        fc.clock());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
    EXPECT_EQ(calls, 1);
    EXPECT_NE(r.error().message().find("(1 check)"), std::string::npos) << r.error().message();
}

TEST(WaitFor, FailedObservationEndsAtOnceWithItsError) {
    FakeClock fc;
    int calls = 0;
    auto r = wait_for(
        spec(60s),
        [&](milliseconds) {
            if (++calls < 3)
                return Observation::not_yet("state activating");
            return Observation::failed(
                Error{ErrorKind::ExternalCommand, 0, "wait for unit x", "the unit is failed", {}});
        },
        fc.clock());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::ExternalCommand);
    EXPECT_EQ(r.error().message(), "wait for unit x: the unit is failed");
    EXPECT_EQ(calls, 3);
}

TEST(WaitFor, CancelledBeforeTheFirstCheck) {
    FakeClock fc;
    std::stop_source source;
    source.request_stop();
    int calls = 0;
    auto r = wait_for(
        spec(60s, source.get_token()),
        [&](milliseconds) {
            ++calls;
            return Observation::ready();
        },
        fc.clock());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Interrupted);
    EXPECT_NE(r.error().message().find("cancelled"), std::string::npos);
    EXPECT_EQ(calls, 0);
}

TEST(WaitFor, CancelDuringAPauseEndsTheWait) {
    FakeClock fc;
    std::stop_source source;
    fc.stop_after_sleep = &source;
    int calls = 0;
    auto r = wait_for(
        spec(60s, source.get_token()),
        [&](milliseconds) {
            ++calls;
            return Observation::not_yet("refused");
        },
        fc.clock());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Interrupted);
    EXPECT_EQ(calls, 1);
}

TEST(WaitFor, CancelDuringACheckWinsOverItsVerdict) {
    FakeClock fc;
    std::stop_source source;
    auto r = wait_for(
        spec(60s, source.get_token()),
        [&](milliseconds) {
            source.request_stop(); // e.g. the probe's ssh exec was cancelled
            return Observation::failed(Error{ErrorKind::Interrupted, 0, "run x", "cancelled", {}});
        },
        fc.clock());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Interrupted);
    EXPECT_NE(r.error().message().find("wait for TCP port 8080"), std::string::npos);
}

TEST(WaitFor, RealClockSleepReturnsEarlyOnStop) {
    auto clock = real_wait_clock();
    std::stop_source source;
    source.request_stop();
    auto before = clock.now();
    clock.sleep(60s, source.get_token()); // would hang the test if the stop were ignored
    EXPECT_LT(clock.now() - before, 30s);
}

} // namespace
} // namespace fleetbox::client
