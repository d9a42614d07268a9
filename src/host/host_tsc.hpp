// The host's TSC frequency, measured, for pinning the guest's TSC under TCG.
//
// Why: under TCG a guest's RDTSC returns the host's TSC (QEMU cpu_get_host_ticks), but the
// guest kernel still calibrates it against the emulated PIT, and microvm has no HPET or ACPI
// PM timer to fall back on. That calibration is timing-sensitive: ~2 in 50 boots fail on an
// idle host and nearly every boot fails on a loaded one (measured here at load ~18 on 2 cores:
// "tsc: Unable to calibrate against PIT ... Marking TSC unstable", then the boot hangs with an
// empty console). Passing tsc_early_khz=<host TSC kHz> skips the calibration entirely.
#pragma once

#include "util/error.hpp"

namespace fleetbox {

// kHz of the TSC as seen by this process; measured once per process (~60 ms) and cached.
// NotFound on a host without a usable TSC (non-x86, or a measurement that makes no sense).
Result<unsigned long> host_tsc_khz();

} // namespace fleetbox
