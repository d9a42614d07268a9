// Preflight: the checks that must pass before fleetbox creates anything for a VM.
//
// Why up front: a missing QEMU or missing root discovered after the disk and seed were made
// would leave half a VM behind; each failed check is one actionable line instead.
#pragma once

#include "util/error.hpp"

#include <chrono>
#include <string>

namespace fleetbox::client {

struct HostCapabilities {
    bool hardware_kvm = false;
    std::string accel_note; // one info line when falling back to TCG
};

// qemu-system-x86_64 on PATH, CAP_NET_ADMIN (bridges and taps), acceleration.
Result<HostCapabilities> preflight();

// Boot timeout when the caller gave none: minutes under TCG, less with KVM.
std::chrono::seconds default_boot_timeout(const HostCapabilities& caps);

} // namespace fleetbox::client
