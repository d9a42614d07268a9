// QemuBackend's watcher: QEMU exits noticed at once, and the members' logs capped (see
// qemu_backend.hpp for the rules). Relies on: a pidfd turning readable when its process exits
// (poll(2)), on a duplicate of it too, so the watcher polls its own copies and a stop that
// closes the original meanwhile never leaves it polling a reused descriptor number; an
// eventfd to wake the poll when the set of running members changes or the watcher must stop.
// The handler is called without mutex_ held, under handler_mutex_, so unsetting it waits for
// a call in progress.
#include "backend_qemu/qemu_backend.hpp"
#include "sys/log_cap.hpp"

#include <cstdint>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

namespace fleetbox::backend {

namespace {
// How often the watcher caps the members' logs (it also wakes at once for every QEMU exit).
constexpr int kWatchTickMs = 1000;
} // namespace

void QemuBackend::on_member_exit(MemberExitHandler handler) {
    std::lock_guard lock(handler_mutex_);
    handler_ = std::move(handler);
}

void QemuBackend::set_detached() {
    std::lock_guard lock(mutex_);
    drop_network_when_idle_ = true;
}

void QemuBackend::wake_watcher() {
    std::uint64_t one = 1;
    if (wake_)
        (void)!::write(wake_.get(), &one, sizeof one);
}

void QemuBackend::stop_watcher() {
    {
        std::lock_guard lock(mutex_);
        watcher_stop_ = true;
    }
    wake_watcher();
    if (watcher_.joinable() && watcher_.get_id() != std::this_thread::get_id())
        watcher_.join();
}

void QemuBackend::watch() {
    auto last_cap = std::chrono::steady_clock::now();
    while (true) {
        std::vector<Fd> exit_fds; // duplicates: a stop may close the originals meanwhile
        {
            std::lock_guard lock(mutex_);
            if (watcher_stop_)
                return;
            for (auto& [name, m] : members_)
                if (m.state == State::Running && m.vm && m.vm->exit_fd() >= 0)
                    exit_fds.emplace_back(::fcntl(m.vm->exit_fd(), F_DUPFD_CLOEXEC, 3));
        }
        std::vector<pollfd> fds{{wake_.get(), POLLIN, 0}};
        for (const auto& fd : exit_fds)
            fds.push_back({fd.get(), POLLIN, 0});
        if (::poll(fds.data(), fds.size(), kWatchTickMs) > 0 && (fds[0].revents & POLLIN)) {
            std::uint64_t count = 0;
            (void)!::read(wake_.get(), &count, sizeof count);
        }
        std::vector<MemberExit> exits;
        {
            std::lock_guard lock(mutex_);
            for (auto& [name, m] : members_)
                if (m.state == State::Running && m.vm && !m.vm->running())
                    end_member_locked(name, m);
            if (!exits_.empty()) {
                (void)drop_network_if_idle_locked(); // like the stop of the last member
                bool idle = active_locked() == 0;
                exits.swap(exits_);
                for (auto& e : exits)
                    e.idle = idle;
            }
        }
        if (!exits.empty()) {
            std::lock_guard lock(handler_mutex_);
            for (const auto& e : exits)
                if (handler_)
                    handler_(e);
        }
        if (std::chrono::steady_clock::now() - last_cap >=
            std::chrono::milliseconds(kWatchTickMs)) {
            last_cap = std::chrono::steady_clock::now();
            cap_member_logs();
        }
    }
}

void QemuBackend::end_member_locked(const std::string& name, Member& m) {
    ExitStatus status = m.vm->exit_status().value_or(ExitStatus{});
    std::string qemu_log = m.vm->qemu_log();
    std::string serial_log = m.vm->config().serial_log;
    m.vm.reset();
    if (network_ && !m.tap.empty())
        (void)network_->remove_tap(m.tap); // also drops the tap (and its QEMU) from the record
    m.tap.clear();
    MemberExit exit{name, proto::MemberState::Stopped, "", false};
    if (status.ok()) { // the guest powered off (or QEMU was told to quit)
        m.state = State::Stopped;
        m.error.clear();
    } else {
        m.state = State::Failed;
        m.error = fmt::format("QEMU {} while the guest was running (see {} and {})",
                              status.describe(), qemu_log, serial_log);
        exit.state = proto::MemberState::Error;
        exit.error = m.error;
    }
    exits_.push_back(std::move(exit));
    changed_.notify_all();
    wake_watcher();
}

Status QemuBackend::drop_network_if_idle_locked() {
    if (!drop_network_when_idle_ || !network_ || active_locked() != 0)
        return {};
    shutting_down_ = true; // the helper exits now: nothing may start
    auto dropped = network_->destroy();
    network_.reset(); // on a failed destroy the destructor retries; reconcile is the backstop
    journal_.reset();
    return dropped;
}

void QemuBackend::cap_member_logs() {
    std::vector<std::string> dirs;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [name, m] : members_)
            if ((m.state == State::Starting || m.state == State::Running) && !m.dir.empty())
                dirs.push_back(m.dir);
    }
    // Failures (a member directory removed meanwhile) are retried at the next tick.
    for (const auto& dir : dirs) {
        (void)cap_log_in(dir, "serial.log", kSerialLogCap);
        (void)cap_log_in(dir, "qemu.log", kQemuLogCap);
    }
}

} // namespace fleetbox::backend
