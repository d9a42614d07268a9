// Boot watchdog: stat(2)s the serial log on each check; QEMU's file chardev writes every guest
// byte through to the file, and the log is removed before each launch, so a non-zero size
// means this attempt's kernel has printed.
#include "vm/boot_watchdog.hpp"

#include "sys/fs.hpp"

namespace fleetbox {

std::chrono::milliseconds default_watchdog_bound(AccelChoice::Kind accel, Machine machine) {
    using std::chrono::seconds;
    bool kvm = accel == AccelChoice::Kvm;
    if (machine == Machine::Q35)
        return kvm ? seconds(60) : seconds(240);
    // microvm: the first line is due ~1 s after launch; 60 s tolerates a heavily loaded host.
    return kvm ? seconds(20) : seconds(60);
}

void BootWatchdog::restart(Clock::time_point now) {
    started_ = now;
    progressed_ = false;
}

bool BootWatchdog::fired(Clock::time_point now) {
    if (!enabled() || progressed_)
        return false;
    auto size = file_size(serial_log_);
    if (size && *size > 0) {
        progressed_ = true;
        return false;
    }
    return now - started_ >= bound_;
}

} // namespace fleetbox
