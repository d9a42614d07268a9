// QemuVm: one running QEMU process for one VM, from launch to confirmed exit.
//
// Why: the helper must start QEMU so that it can never outlive the helper (PR_SET_PDEATHSIG
// SIGKILL), tell a slow boot from a hung one (boot watchdog with bounded relaunch), turn an
// early QEMU exit into one readable line (QEMU's own message from qemu.log, and where to look
// next), and stop a VM gracefully but with a guaranteed end: QMP system_powerdown, then QMP
// quit, then SIGTERM, then SIGKILL, returning only once the process has been reaped, so
// that the VM's files can be deleted safely afterwards.
//
// Under TCG the guest TSC is pinned to the measured host rate (LaunchOptions::pin_tsc): the
// early-boot hang the watchdog exists for is PIT calibration failing, which on a loaded host
// happens on nearly every microvm boot, so relaunching alone would not get a VM up.
//
// QEMU gets no privilege: it runs with the launching process's credentials (or
// LaunchOptions::run_as), PR_SET_NO_NEW_PRIVS and umask 077, so a helper that kept only
// CAP_NET_ADMIN hands it no capability at all. Its tap comes as an open descriptor
// (LaunchOptions::open_tap, called afresh for every launch, watchdog relaunches included);
// qemu.log is opened here without following symlinks; serial.log, the disks and the QMP
// socket are opened or created by QEMU itself, with its own (the user's) rights.
//
// Threading: PR_SET_PDEATHSIG fires when the *thread* that forked QEMU exits, not the process.
// launch() (and wait_until_reachable(), which may relaunch) must run on a thread that lives
// as long as the helper, i.e. its main thread.
#pragma once

#include "sys/child_process.hpp"
#include "util/error.hpp"
#include "vm/boot_watchdog.hpp"
#include "vm/console_watch.hpp"
#include "vm/qemu_command.hpp"
#include "vm/qmp.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fleetbox {

struct LaunchOptions {
    std::string qemu_log;               // QEMU's stdout+stderr; empty: qemu.log beside serial_log
    std::string program = kQemuProgram; // replaces argv[0] (tests, FLEETBOX_QEMU-style overrides)
    // No serial output within this bound after a launch = hung boot: kill and relaunch.
    // nullopt: default_watchdog_bound(accel, machine); zero: watchdog off.
    std::optional<std::chrono::milliseconds> watchdog;
    int max_relaunches = 2;
    // Under TCG with config.tsc_khz == 0: measure the host TSC and pin the guest's to it.
    bool pin_tsc = true;
    std::chrono::milliseconds start_timeout = std::chrono::seconds(30); // until QMP answers
    std::chrono::milliseconds poll_interval = std::chrono::milliseconds(250);
    // stop(): bound of each step after the powerdown wait (QMP reply, quit, SIGTERM).
    std::chrono::milliseconds stop_step_timeout = std::chrono::seconds(5);
    // How QEMU is forked. The helper routes this to its main thread, so that
    // PR_SET_PDEATHSIG is tied to a thread that lives as long as the helper while the
    // boot wait itself runs on a connection thread. Default: ChildProcess::spawn here.
    std::function<Result<ChildProcess>(const ChildSpec&)> spawn;
    // Opens the VM's tap (a fresh descriptor per launch), handed to QEMU as kTapFd; unset:
    // no NIC.
    std::function<Result<Fd>()> open_tap;
    // Whom QEMU runs as; nullopt: the launching process's own credentials.
    std::optional<RunAs> run_as;
    // Polled while waiting for the guest; true aborts the wait with ErrorKind::Interrupted
    // (a `stop` that arrives during boot).
    std::function<bool()> cancelled;
};

// The descriptor number QEMU finds its tap under (-netdev tap,fd=3).
inline constexpr int kTapFd = 3;

struct BootReport {
    int attempts = 1;                   // launches, including watchdog relaunches
    double seconds_to_qemu_started = 0; // first launch -> QMP of the final attempt answered
    double seconds_to_port_open = 0;    // first launch -> the port accepted a connection
    std::vector<std::string> retries;   // one line per watchdog relaunch
};

struct StopReport {
    enum class Step { AlreadyDown, PoweredOff, Quit, Terminated, Killed };
    Step step = Step::AlreadyDown; // the step after which QEMU was gone
    double seconds = 0;            // from stop() to the reaped exit
    ExitStatus status;
};

std::string_view to_string(StopReport::Step step);

class QemuVm {
public:
    static Result<QemuVm> launch(const QemuConfig& config, const LaunchOptions& options = {});

    QemuVm(QemuVm&&) noexcept = default;
    QemuVm& operator=(QemuVm&&) noexcept = default;
    QemuVm(const QemuVm&) = delete;
    QemuVm& operator=(const QemuVm&) = delete;
    ~QemuVm() = default; // a QEMU still running is SIGKILLed and reaped (ChildProcess)

    // Polls a TCP connect to ip:port until it succeeds, running the boot watchdog meanwhile.
    // `timeout` bounds each attempt. Errors: QEMU exited (quoting qemu.log, pointing at
    // serial.log); watchdog gave up after 1 + max_relaunches attempts (QEMU killed); Timeout
    // (QEMU left running for the caller to stop); Interrupted.
    Result<BootReport> wait_until_reachable(const std::string& ip, std::uint16_t port,
                                            std::chrono::milliseconds timeout);

    // powerdown -> (powerdown_timeout) -> quit -> (stop_step_timeout) -> SIGTERM ->
    // (stop_step_timeout) -> SIGKILL; returns
    // after QEMU has been reaped. Never fails to bring QEMU down.
    Result<StopReport> stop(std::chrono::milliseconds powerdown_timeout);

    [[nodiscard]] pid_t pid() const { return child_ ? child_->pid() : -1; }
    [[nodiscard]] bool running();
    // The QEMU process's pidfd (readable once it exited), -1 when none was started.
    [[nodiscard]] int exit_fd() const { return child_ ? child_->exit_fd() : -1; }
    // How QEMU ended (reaping it), nullopt while it runs.
    [[nodiscard]] std::optional<ExitStatus> exit_status() {
        return child_ ? child_->try_wait() : std::nullopt;
    }
    [[nodiscard]] const BootReport& report() const { return report_; }
    [[nodiscard]] const QemuConfig& config() const { return config_; }
    [[nodiscard]] const std::string& qemu_log() const { return options_.qemu_log; }
    // The monitor connection, when connected.
    [[nodiscard]] Qmp* qmp() { return qmp_ ? &*qmp_ : nullptr; }

private:
    using Clock = std::chrono::steady_clock;

    QemuVm(QemuConfig config, LaunchOptions options);
    Status start_attempt();
    Status connect_monitor();
    Error exited_error(std::string_view phase, const ExitStatus& status,
                       const std::string& look_at) const;
    Status relaunch_after_hang();
    Result<bool> wait_for_exit(std::chrono::milliseconds timeout);

    QemuConfig config_;
    LaunchOptions options_;
    std::optional<ChildProcess> child_;
    std::optional<Qmp> qmp_;
    BootWatchdog watchdog_;
    ConsoleWatch console_watch_; // the guest's own "seed failed" line ends the boot wait at once
    BootReport report_;
    Clock::time_point first_launch_{};
    Clock::time_point attempt_started_{};
    long long log_offset_ = 0; // where this attempt's output starts in qemu.log
};

} // namespace fleetbox
