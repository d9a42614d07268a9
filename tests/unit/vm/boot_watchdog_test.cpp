// Unit tests for vm/boot_watchdog: fires only when the serial log stays empty past the bound,
// is satisfied by any output, can be disabled, and has the documented defaults.
#include "support/test_support.hpp"
#include "vm/boot_watchdog.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using namespace std::chrono_literals;
using Clock = BootWatchdog::Clock;

TEST(BootWatchdog, FiresWhenSerialStaysEmptyPastTheBound) {
    test::ScratchDir dir;
    test::write_text(dir.file("serial.log"), "");
    BootWatchdog dog(dir.file("serial.log"), 10s);
    auto t0 = Clock::now();
    dog.restart(t0);
    EXPECT_FALSE(dog.fired(t0 + 9s));
    EXPECT_TRUE(dog.fired(t0 + 10s));
    EXPECT_FALSE(dog.progressed());
}

TEST(BootWatchdog, MissingSerialLogCountsAsNoOutput) {
    test::ScratchDir dir;
    BootWatchdog dog(dir.file("serial.log"), 5s);
    auto t0 = Clock::now();
    dog.restart(t0);
    EXPECT_TRUE(dog.fired(t0 + 6s));
}

TEST(BootWatchdog, AnyOutputSatisfiesItForTheAttempt) {
    test::ScratchDir dir;
    BootWatchdog dog(dir.file("serial.log"), 5s);
    auto t0 = Clock::now();
    dog.restart(t0);
    test::write_text(dir.file("serial.log"),
                     "[    0.6] PCI: Fatal: No config space access function found\n");
    EXPECT_FALSE(dog.fired(t0 + 1s));
    EXPECT_TRUE(dog.progressed());
    // Even if the log were emptied later, this attempt has shown progress.
    test::write_text(dir.file("serial.log"), "");
    EXPECT_FALSE(dog.fired(t0 + 60s));
}

TEST(BootWatchdog, RestartForgetsProgress) {
    test::ScratchDir dir;
    test::write_text(dir.file("serial.log"), "x");
    BootWatchdog dog(dir.file("serial.log"), 5s);
    auto t0 = Clock::now();
    dog.restart(t0);
    EXPECT_FALSE(dog.fired(t0 + 1s));
    EXPECT_TRUE(dog.progressed());
    test::write_text(dir.file("serial.log"), "");
    dog.restart(t0 + 2s);
    EXPECT_FALSE(dog.progressed());
    EXPECT_FALSE(dog.fired(t0 + 6s));
    EXPECT_TRUE(dog.fired(t0 + 7s));
}

TEST(BootWatchdog, ZeroBoundDisables) {
    test::ScratchDir dir;
    BootWatchdog dog(dir.file("serial.log"), 0ms);
    auto t0 = Clock::now();
    dog.restart(t0);
    EXPECT_FALSE(dog.enabled());
    EXPECT_FALSE(dog.fired(t0 + 3600s));
}

TEST(BootWatchdog, DefaultsAreLongerUnderTcgAndOnQ35) {
    auto tcg_microvm = default_watchdog_bound(AccelChoice::Tcg, Machine::Microvm);
    auto kvm_microvm = default_watchdog_bound(AccelChoice::Kvm, Machine::Microvm);
    auto tcg_q35 = default_watchdog_bound(AccelChoice::Tcg, Machine::Q35);
    EXPECT_GT(tcg_microvm, kvm_microvm);
    EXPECT_GT(tcg_q35, tcg_microvm);
    EXPECT_GE(tcg_microvm, 30s); // a false alarm costs a whole boot: stay generous
}

} // namespace
} // namespace fleetbox
