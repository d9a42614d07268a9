// QemuVm::stop: the escalation ladder that always ends with QEMU reaped.
//
// 1. QMP system_powerdown: ACPI power button; the guest's systemd shuts down cleanly and the
//    guest powers off, which makes QEMU exit (measured on microvm: ~5-10 s under TCG).
// 2. QMP quit: QEMU exits at once (guest not shut down, but its disk writes are flushed).
// 3. SIGTERM: QEMU's handler also exits cleanly ("terminating on signal 15").
// 4. SIGKILL, then reap.
// Each step waits on the child's pidfd, so stop() returns as soon as QEMU is gone. A monitor
// connection that broke is re-established once, briefly, before giving up on QMP.
#include "util/clock.hpp"
#include "vm/qemu_vm.hpp"

#include <csignal>

namespace fleetbox {

Result<StopReport> QemuVm::stop(std::chrono::milliseconds powerdown_timeout) {
    auto started = Clock::now();
    const auto step_bound = options_.stop_step_timeout;
    auto done = [&](StopReport::Step step) -> Result<StopReport> {
        qmp_.reset();
        StopReport report;
        report.step = step;
        report.seconds = seconds_since(started);
        if (child_)
            report.status = child_->try_wait().value_or(ExitStatus{});
        return report;
    };
    if (!running())
        return done(StopReport::Step::AlreadyDown);

    auto monitor = [&]() -> Qmp* {
        if (!qmp_) {
            auto again = Qmp::connect(config_.qmp_socket, step_bound);
            if (again)
                qmp_ = std::move(*again);
        }
        return qmp_ ? &*qmp_ : nullptr;
    };
    // A failed wait (not a timeout) is treated as "still running": the ladder goes on.
    auto gone_within = [&](std::chrono::milliseconds bound) {
        return wait_for_exit(bound).value_or(false);
    };

    if (Qmp* q = monitor(); q && !q->system_powerdown(step_bound))
        qmp_.reset();
    if (gone_within(powerdown_timeout))
        return done(StopReport::Step::PoweredOff);

    if (Qmp* q = monitor(); q && !q->quit(step_bound))
        qmp_.reset();
    if (gone_within(step_bound))
        return done(StopReport::Step::Quit);

    (void)child_->signal(SIGTERM);
    if (gone_within(step_bound))
        return done(StopReport::Step::Terminated);

    child_->kill();
    return done(StopReport::Step::Killed);
}

} // namespace fleetbox
