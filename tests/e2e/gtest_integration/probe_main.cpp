// fleetbox-gtest-probe: a GoogleTest program that uses fleetbox::testing the way a user's
// test suite would. It is not a test of its own (ctest never runs it directly): the e2e
// tests in gtest_integration_test.cpp run it as a child process with --gtest_filter, each
// probe playing one scenario, and check what it printed and what it left behind.
// The store is FLEETBOX_HOME (a scratch store the parent made), the helper FLEETBOX_HELPER.
// The scenarios are DISABLED_ so that running the binary by hand does nothing (one of them
// waits to be killed); the parent passes --gtest_also_run_disabled_tests.
#include <chrono>
#include <cstdio>
#include <fleetbox/gtest.hpp>
#include <gtest/gtest.h>
#include <thread>

namespace {

fleetbox::Options small() {
    fleetbox::Options o;
    o.cpus = 1;
    o.memory_mb = 1024;
    return o;
}

// Fails on purpose once its VM is up: the output must carry the VM's serial-log tail and
// its ssh command; afterwards the VM must be gone (or, FLEETBOX_KEEP_ON_FAILURE=1, kept).
TEST(Probe, DISABLED_FailsWithAVm) {
    auto* vm = fleetbox::testing::start(small());
    if (vm == nullptr)
        return;
    std::printf("probe-vm %s\n", vm->name().c_str());
    std::fflush(stdout);
    ADD_FAILURE() << "deliberate failure of a test that owns " << vm->name();
}

// Reports its VM, then waits to be killed (the parent sends SIGKILL).
TEST(Probe, DISABLED_KilledMidTest) {
    auto* vm = fleetbox::testing::start(small());
    if (vm == nullptr)
        return;
    std::printf("probe-ready %s\n", vm->name().c_str());
    std::fflush(stdout);
    while (true)
        std::this_thread::sleep_for(std::chrono::seconds(1));
}

// Run with a PATH that has no QEMU: must be skipped with the reason, never fail.
TEST(Probe, DISABLED_SkipsWithoutQemu) {
    auto* vm = fleetbox::testing::start(small());
    if (vm == nullptr)
        return;
    ADD_FAILURE() << "started " << vm->name() << " although the host cannot boot VMs";
}

} // namespace
