// Acceleration choice for QEMU: hardware KVM or TCG software emulation.
//
// Why: a /dev/kvm that opens is not enough. On the development and CI machines /dev/kvm is
// backed by kvm_pvm, which crashes stock guest kernels ("KVM internal error ... emulation
// failure"). Hardware KVM is used only when /dev/kvm opens read-write AND the kvm_intel or
// kvm_amd module is loaded (/sys/module/<name> exists); otherwise TCG with -cpu max, and the
// reason is returned as one info line for the caller to print. FLEETBOX_ACCEL=kvm|tcg|auto
// overrides the probe; any other value is an error rather than a silent fallback.
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>

namespace fleetbox {

struct AccelChoice {
    enum Kind { Kvm, Tcg };
    Kind kind = Tcg;
    std::string reason; // one line: why this accelerator, e.g. the TCG info line
};

std::string_view to_string(AccelChoice::Kind kind);

// Where the probe looks; tests point these at a scratch directory.
struct AccelProbe {
    std::string dev_kvm = "/dev/kvm";
    std::string sys_module_dir = "/sys/module";
};

// Decide from a FLEETBOX_ACCEL-style setting ("", "auto", "kvm" or "tcg").
Result<AccelChoice> choose_accel(std::string_view setting, const AccelProbe& probe = {});
// Decide from the FLEETBOX_ACCEL environment variable (unset means auto).
Result<AccelChoice> choose_accel(const AccelProbe& probe = {});

} // namespace fleetbox
