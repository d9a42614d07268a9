// What the e2e tests of the C++ API (library, readiness, copy, fixtures) share on top of
// VmTest: the small VM they boot in the scratch store, and "run this in the guest, it must
// succeed, give me its stdout".
//
// Why: each of those tests boots one VM the same way (1 vCPU, 1 GiB: enough for the checks,
// and light on the 2-core CI machines) and runs many guest commands whose failure should name
// the command and its output; one definition keeps them alike.
#pragma once

#include "e2e/vm/e2e_fixture.hpp"

#include <chrono>
#include <fleetbox/fleetbox.hpp>
#include <gtest/gtest.h>
#include <string>

namespace fleetbox::test {

class LibraryVmTest : public VmTest {
protected:
    // A small VM in this test's scratch store.
    [[nodiscard]] Options small_vm_options() const {
        Options o;
        o.store_root = root();
        o.cpus = 1;
        o.memory_mb = 1024;
        return o;
    }
};

// Runs `command` in the guest and expects it to exit 0 (a non-fatal failure naming the
// command, its output or the error otherwise); returns its stdout ("" on an error).
inline std::string guest_out(Vm& vm, const std::string& command,
                             std::chrono::milliseconds timeout) {
    auto r = vm.ssh(command, timeout);
    EXPECT_TRUE(r) << command << ": " << (r ? "" : r.error().message());
    if (!r)
        return {};
    EXPECT_EQ(r->exit_code, 0) << command << "\n" << r->out << r->err;
    return r->out;
}

} // namespace fleetbox::test
