// QemuVm launch and boot wait. Relies on: QEMU creating the QMP socket early and greeting on
// it only after machine init (kernel and initrd loaded, disks and tap opened), so a QMP
// greeting means "QEMU started"; QEMU printing the reason for an early exit as the last line
// of its stderr; serial.log being removed here before every launch and re-created by QEMU
// (so the watchdog never sees the previous boot's output) and written by the file chardev with
// append=on, like qemu.log with O_APPEND, so the helper's log cap can truncate both in place
// (sys/log_cap.hpp); and PR_SET_PDEATHSIG (see header). qemu.log is opened relative to its
// directory, opened with O_NOFOLLOW, and itself with O_NOFOLLOW: a planted symlink is never
// followed.
// Under TCG the guest TSC is pinned to the measured host rate (host/host_tsc.hpp): without it,
// most microvm boots on a loaded host hang in PIT calibration, and relaunching cannot help.
#include "vm/qemu_vm.hpp"

#include "host/host_tsc.hpp"
#include "sys/fs.hpp"
#include "sys/interrupt.hpp"
#include "sys/tcp_connect.hpp"
#include "util/clock.hpp"
#include "util/console_markers.hpp"
#include "util/strings.hpp"
#include "vm/qcow2_header.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace fleetbox {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds left_until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return std::max(left, std::chrono::milliseconds(0));
}

void remove_file(const std::string& path) {
    if (!path.empty())
        ::unlink(path.c_str());
}

// Opens `path` for appending (truncated first when `truncate`) without following a symlink,
// neither as its last component nor as its directory's.
Result<Fd> open_log(const std::string& path, bool truncate) {
    const std::string op = "open " + path;
    Fd dir(::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir)
        return fail_errno(op, errno);
    Fd log(::openat(
        dir.get(), base_name(path).c_str(),
        O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600));
    if (!log)
        return fail_errno(op, errno);
    return log;
}

// The last line QEMU wrote in this attempt (qemu.log from `offset` on).
std::string last_log_line(const std::string& path, long long offset) {
    auto text = read_file(path);
    if (!text)
        return {};
    auto from = static_cast<size_t>(std::max(0LL, offset));
    return from < text->size() ? last_line(std::string_view(*text).substr(from)) : std::string();
}

} // namespace

std::string_view to_string(StopReport::Step step) {
    switch (step) {
    case StopReport::Step::AlreadyDown:
        return "already down";
    case StopReport::Step::PoweredOff:
        return "powered off";
    case StopReport::Step::Quit:
        return "quit";
    case StopReport::Step::Terminated:
        return "terminated";
    case StopReport::Step::Killed:
        return "killed";
    }
    return "unknown";
}

QemuVm::QemuVm(QemuConfig config, LaunchOptions options)
    : config_(std::move(config)), options_(std::move(options)),
      watchdog_(config_.serial_log, config_.serial_log.empty()
                                        ? std::chrono::milliseconds(0)
                                        : options_.watchdog.value_or(default_watchdog_bound(
                                              config_.accel, config_.machine))),
      console_watch_(config_.serial_log, kMarkerSeedFailed) {
    if (options_.qemu_log.empty())
        options_.qemu_log = (config_.serial_log.empty() ? parent_dir(config_.qmp_socket)
                                                        : parent_dir(config_.serial_log)) +
                            "/qemu.log";
}

Result<QemuVm> QemuVm::launch(const QemuConfig& config, const LaunchOptions& options) {
    if (config.qmp_socket.empty())
        return fail(ErrorKind::InvalidArgument, "start QEMU for " + config.name,
                    "no QMP socket path");
    for (const std::string* disk : {&config.disk, &config.base_image})
        if (!disk->empty())
            FBX_CHECK(check_qcow2_has_no_data_file(*disk).map_error(
                [&](Error e) { return e.wrap("start QEMU for " + config.name); }));
    QemuVm vm(config, options);
    vm.first_launch_ = Clock::now();
    if (options.pin_tsc && config.accel == AccelChoice::Tcg && config.tsc_khz == 0) {
        if (auto khz = host_tsc_khz())
            vm.config_.tsc_khz = *khz; // else: unpinned, the watchdog remains
    }
    FBX_CHECK(vm.start_attempt());
    return vm;
}

Status QemuVm::start_attempt() {
    remove_file(config_.serial_log);
    remove_file(config_.qmp_socket);
    const std::string op = "start QEMU for " + config_.name;
    bool first = report_.retries.empty();
    auto opened = open_log(options_.qemu_log, first);
    if (!opened)
        return fail(std::move(opened).error().wrap(op));
    Fd log = std::move(*opened);
    if (!first) {
        std::string marker = fmt::format("fleetbox: relaunching QEMU (attempt {}): {}\n",
                                         report_.attempts, report_.retries.back());
        (void)!::write(log.get(), marker.data(), marker.size());
    }
    log_offset_ = ::lseek(log.get(), 0, SEEK_END);

    Fd tap;
    if (options_.open_tap) {
        auto opened_tap = options_.open_tap();
        if (!opened_tap)
            return fail(std::move(opened_tap).error().wrap(op));
        tap = std::move(*opened_tap);
        config_.tap_fd = kTapFd;
    }
    ChildSpec spec;
    try {
        spec.argv = qemu_argv(config_);
    } catch (const nlohmann::json::exception&) { // a disk path that is not UTF-8
        return fail(ErrorKind::InvalidArgument, op, "a disk path is not valid UTF-8");
    }
    spec.argv[0] = options_.program;
    spec.out = Stream::File;
    spec.err = Stream::File;
    spec.out_file = log.get();
    spec.err_file = log.get();
    spec.parent_death_signal = SIGKILL;
    spec.run_as = options_.run_as ? *options_.run_as : current_credentials();
    spec.no_new_privs = true;
    spec.umask = 077;
    if (tap)
        spec.inherit_fds = {{tap.get(), kTapFd}};
    spec.missing_hint = fmt::format("apt-get install {}", kQemuPackage);
    attempt_started_ = Clock::now();
    watchdog_.restart(attempt_started_);
    console_watch_.restart();
    qmp_.reset();
    auto child = options_.spawn ? options_.spawn(spec) : ChildProcess::spawn(spec);
    tap.reset(); // QEMU holds the only attachment to the tap now
    if (!child)
        return fail(std::move(child).error().wrap(op));
    child_ = std::move(*child);
    FBX_CHECK(connect_monitor());
    report_.seconds_to_qemu_started = seconds_since(first_launch_);
    return {};
}

// Connects to QMP while watching for an early exit (bad flag, missing kernel, busy tap).
Status QemuVm::connect_monitor() {
    auto deadline = Clock::now() + options_.start_timeout;
    std::string op = "start QEMU for " + config_.name;
    while (true) {
        if (auto st = child_->try_wait())
            return fail(exited_error("start", *st, options_.qemu_log));
        auto fd = connect_unix(config_.qmp_socket, std::chrono::milliseconds(100));
        if (fd) {
            auto qmp = Qmp::handshake(std::move(*fd), left_until(deadline));
            if (qmp) {
                qmp_ = std::move(*qmp);
                // QEMU made it under umask 077 (0700); the execute bit means nothing on a
                // socket, and every fleetbox socket is 0600.
                (void)::fchmodat(AT_FDCWD, config_.qmp_socket.c_str(), 0600, AT_SYMLINK_NOFOLLOW);
                return {};
            }
            // A QEMU that dies during machine init closes the socket before greeting.
            if (auto st = wait_for_exit(std::chrono::seconds(2)); st && *st)
                return fail(exited_error("start", *child_->try_wait(), options_.qemu_log));
            return fail(std::move(qmp).error().wrap(op));
        }
        if (fd.error().kind == ErrorKind::InvalidArgument)
            return fail(std::move(fd).error().wrap(op));
        if (Clock::now() >= deadline) {
            child_->kill();
            return fail(
                ErrorKind::Timeout, op,
                fmt::format(
                    "QMP socket {} not answering after {}", config_.qmp_socket,
                    format_duration(static_cast<double>(options_.start_timeout.count()) / 1000)),
                "see " + options_.qemu_log);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

Error QemuVm::exited_error(std::string_view phase, const ExitStatus& status,
                           const std::string& look_at) const {
    std::string why = fmt::format("QEMU exited during {} ({})", phase, status.describe());
    if (auto line = last_log_line(options_.qemu_log, log_offset_); !line.empty())
        why += ": " + line;
    return Error{ErrorKind::ExternalCommand, 0,
                 (phase == "start" ? "start QEMU for " : "boot ") + config_.name, why,
                 "see " + look_at};
}

// True when QEMU exited within `timeout` (waking as soon as it does, via the pidfd).
Result<bool> QemuVm::wait_for_exit(std::chrono::milliseconds timeout) {
    if (!child_ || !child_->running())
        return true;
    auto waited = child_->wait(timeout);
    if (waited)
        return true;
    if (waited.error().kind == ErrorKind::Timeout)
        return false;
    return fail(std::move(waited).error());
}

bool QemuVm::running() {
    if (!child_)
        return false;
    (void)child_->try_wait();
    return child_->running();
}

Status QemuVm::relaunch_after_hang() {
    report_.retries.push_back(fmt::format(
        "attempt {}: no serial output within {} (early-boot hang); "
        "killed and relaunched",
        report_.attempts, format_duration(static_cast<double>(watchdog_.bound().count()) / 1000)));
    child_->kill();
    ++report_.attempts;
    return start_attempt();
}

Result<BootReport> QemuVm::wait_until_reachable(const std::string& ip, std::uint16_t port,
                                                std::chrono::milliseconds timeout) {
    std::string op = "boot " + config_.name;
    std::string serial = config_.serial_log.empty() ? options_.qemu_log : config_.serial_log;
    while (true) {
        if (!child_)
            return fail(ErrorKind::Internal, op, "QEMU not launched");
        auto tick = Clock::now() + options_.poll_interval;
        if (auto st = child_->try_wait())
            return fail(exited_error("boot", *st, serial));
        if (interrupted())
            return fail(ErrorKind::Interrupted, op, "interrupted while waiting for the guest");
        if (options_.cancelled && options_.cancelled())
            return fail(ErrorKind::Interrupted, op, "stopped during boot");
        auto probe_bound = std::min(std::chrono::milliseconds(1000), timeout);
        auto open = tcp_probe(ip, port, probe_bound);
        if (open) {
            report_.seconds_to_port_open = seconds_since(first_launch_);
            return report_;
        }
        if (open.error().kind != ErrorKind::Network && open.error().kind != ErrorKind::Timeout)
            return fail(std::move(open).error().wrap(op)); // refused or no answer: not yet
        if (auto why = config_.serial_log.empty() ? std::nullopt : console_watch_.failure())
            return fail(ErrorKind::ExternalCommand, op,
                        "the guest could not apply its seed: " + *why, "see " + serial);
        if (watchdog_.fired(Clock::now())) {
            if (report_.attempts > options_.max_relaunches) {
                child_->kill();
                return fail(ErrorKind::Timeout, op,
                            fmt::format("no output on the serial console within {} in {} attempts "
                                        "(early-boot hang)",
                                        format_duration(
                                            static_cast<double>(watchdog_.bound().count()) / 1000),
                                        report_.attempts),
                            fmt::format("see {} and {}", serial, options_.qemu_log));
            }
            FBX_CHECK(relaunch_after_hang().map_error([&](Error e) { return e.wrap(op); }));
            continue;
        }
        if (Clock::now() - attempt_started_ >= timeout)
            return fail(ErrorKind::Timeout, op,
                        fmt::format("{}:{} not reachable after {}", ip, port,
                                    format_duration(static_cast<double>(timeout.count()) / 1000)),
                        "see " + serial);
        (void)wait_for_exit(left_until(tick)); // sleeps until the next tick or QEMU's exit
    }
}

} // namespace fleetbox
