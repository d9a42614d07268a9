// Boot watchdog: decides when a booting VM is hung and must be killed and relaunched.
//
// Why: about 2 in 50 microvm boots under TCG hang in early TSC calibration ("Unable to
// calibrate against PIT", then nothing; microvm has no HPET or PM timer to fall back on). With
// `quiet` such a boot leaves serial.log EMPTY, while every healthy microvm boot prints
// "PCI: Fatal: No config space access function found" ~0.6 s after kernel start (guest time),
// long before cloud-init's banner. So "no byte on the serial console within the bound" is the
// hang signal. It does not depend on how slow the rest of the boot is (cloud-init's banner
// moved from ~5 s to ~18 s guest time on a loaded host), which a banner-based bound would.
// q35 prints nothing with `quiet` until cloud-init, so its default bound is much longer.
// Nothing here depends on fleetbox's console markers: stock cloud images (ADR 0024) print
// none and boot on q35, where the hang does not occur (HPET and ACPI PM timer); under
// firmware boot grub's and the kernel's own output satisfy the watchdog at once.
#pragma once

#include "host/accel.hpp"
#include "vm/qemu_command.hpp"

#include <chrono>
#include <string>

namespace fleetbox {

// The default bound: generous, because a false alarm costs a whole boot.
std::chrono::milliseconds default_watchdog_bound(AccelChoice::Kind accel, Machine machine);

class BootWatchdog {
public:
    using Clock = std::chrono::steady_clock;

    // bound == 0 disables the watchdog (it never fires).
    BootWatchdog(std::string serial_log, std::chrono::milliseconds bound)
        : serial_log_(std::move(serial_log)), bound_(bound) {}

    // A new attempt starts now: no progress seen yet.
    void restart(Clock::time_point now);
    // True once the bound has passed since restart() with serial_log still empty. Once any
    // output has been seen the watchdog is satisfied for this attempt and never fires.
    bool fired(Clock::time_point now);
    [[nodiscard]] bool progressed() const { return progressed_; }
    [[nodiscard]] std::chrono::milliseconds bound() const { return bound_; }
    [[nodiscard]] bool enabled() const { return bound_.count() > 0; }

private:
    std::string serial_log_;
    std::chrono::milliseconds bound_;
    Clock::time_point started_{};
    bool progressed_ = false;
};

} // namespace fleetbox
