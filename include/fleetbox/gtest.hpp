// fleetbox::testing: real VMs as GoogleTest fixtures (link fleetbox::gtest).
//
//   TEST(Web, ServesHttp) {
//       auto* web = fleetbox::testing::start_cluster(2);   // <test name>-<unique>-1, -2
//       if (web == nullptr) return; // skipped (this host cannot boot VMs) or failed: reported
//       auto r = web->vms()[0]->ssh("curl -s http://" + web->vms()[1]->ip());
//       ...
//   }                                                    // both destroyed here, disks too
//
// Why handles owned by a per-test registry: a test never writes cleanup code, and cleanup
// happens even when an assertion fails half-way. A listener appended to GoogleTest on first
// use destroys every VM the test started when the test ends (Vm::destroy: stop, then delete
// its disk). When the test failed, it first prints the last 50 lines of each VM's serial
// console and the ssh command that reaches it into the test's output; with
// FLEETBOX_KEEP_ON_FAILURE=1 in the environment it keeps them instead (Vm::keep: they
// outlive the test process) and prints how to reach them. If the test process is killed
// (even by SIGKILL), the VMs, helper and network go with it: they are bound to it.
//
// VM names come from the test's name (the reference's safeName rules) plus a suffix unique
// to this process and call, so parallel runs (`ctest -j`) of one test binary never collide.
// Uses only the public API (include/fleetbox/*.hpp).
#pragma once

#include <cstddef>
#include <fleetbox/cluster.hpp>
#include <fleetbox/error.hpp>
#include <fleetbox/export.hpp>
#include <fleetbox/host.hpp>
#include <fleetbox/options.hpp>
#include <fleetbox/vm.hpp>
#include <gtest/gtest.h>
#include <source_location>
#include <string>
#include <string_view>

namespace fleetbox::testing {

// Ok when this host can boot VMs (fleetbox::check_host: qemu-system-x86_64 on PATH, root or
// CAP_NET_ADMIN, /dev/net/tun); otherwise the reason, one line plus a hint. Blocks only for a
// few stat/open calls. Errors: MissingDependency, Permission, InvalidArgument.
FLEETBOX_API Status can_boot_vms();

// Boot one VM for the current test (named after it) and return it; the registry owns it
// until the test ends, then destroys it (or keeps it, see above). Blocks until SSH answers
// (options.boot_timeout; 0: the library's default, 10 minutes under TCG). Returns nullptr
// when the host cannot boot VMs (the test is marked skipped with can_boot_vms()'s reason)
// or when the boot failed (a non-fatal failure carrying the error's message and hint,
// reported at the caller's line); the test should then return. Outside a running test
// (e.g. SetUpTestSuite) the VM is owned by the test suite and destroyed when it ends.
FLEETBOX_API Vm* start(const Options& options = {},
                       std::source_location where = std::source_location::current());

// Boot an n-member cluster for the current test: members <prefix>-1 .. <prefix>-n on one
// network, where <prefix> is the test's unique name; owned, reported and destroyed like
// start()'s VMs (all members together). Blocks until every member answers SSH (one shared
// deadline). nullptr, skip and failure exactly as start(); n < 1 is a failure.
FLEETBOX_API Cluster* start_cluster(int n, const Options& options = {},
                                    std::source_location where = std::source_location::current());

// ---- naming (exposed for tests and for tools that name VMs the same way) ----

// The reference's safeName: lowercase; '/' and '_' become '-'; only [a-z0-9-] is kept; cut
// to 50 characters; leading and trailing '-' trimmed; "test" when nothing is left.
FLEETBOX_API std::string safe_name(std::string_view text);

// `base` (a safe_name) plus "-<suffix>", where the suffix is unique to this process and
// call (random letters, the pid and a per-process counter) and contains letters, so the
// store's cluster rule (strip one trailing "-<digits>") never cuts it. `base` is shortened
// so that the name plus `reserve` more characters (e.g. "-12" for cluster members) fits
// one DNS label (63 characters). Pure apart from reading the pid and a random device.
FLEETBOX_API std::string unique_name(std::string_view base, std::size_t reserve = 0);

// safe_name of the running test ("<suite>-<test>"), of the suite in SetUpTestSuite, or
// "test" outside any test.
FLEETBOX_API std::string current_test_name();

// Whether FLEETBOX_KEEP_ON_FAILURE asks to keep a failed test's VMs ("1", "true", "yes").
FLEETBOX_API bool keep_on_failure();

} // namespace fleetbox::testing

// In a test body (or SetUp): skip the test, with the reason, unless this host can boot VMs.
#define FLEETBOX_SKIP_UNLESS_CAN_BOOT_VMS()                                                        \
    do {                                                                                           \
        if (auto fleetbox_can_boot_ = ::fleetbox::testing::can_boot_vms(); !fleetbox_can_boot_)    \
            GTEST_SKIP() << "host cannot boot a VM: " << fleetbox_can_boot_.error().message()      \
                         << " (" << fleetbox_can_boot_.error().hint << ")";                        \
    } while (false)
