// MainThreadExecutor: a mutex-protected task queue plus an eventfd the main poll loop watches.
// The eventfd counter only signals "there is work"; drain() resets it before taking the queue,
// so a task posted while draining re-arms it and is never missed.
#include "helper/main_thread_executor.hpp"

#include <cerrno>
#include <cstdint>
#include <sys/eventfd.h>
#include <unistd.h>

namespace fleetbox::helper {

Result<std::unique_ptr<MainThreadExecutor>> MainThreadExecutor::create() {
    Fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake)
        return fail_errno("eventfd", errno);
    return std::unique_ptr<MainThreadExecutor>(
        new MainThreadExecutor(std::move(wake), std::this_thread::get_id()));
}

bool MainThreadExecutor::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        if (closed_)
            return false;
        queue_.push_back(std::move(task));
    }
    std::uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
    return true;
}

void MainThreadExecutor::drain() {
    std::uint64_t count = 0;
    (void)!::read(wake_.get(), &count, sizeof count);
    std::deque<std::function<void()>> tasks;
    {
        std::lock_guard lock(mutex_);
        tasks.swap(queue_);
    }
    for (auto& task : tasks)
        task();
}

void MainThreadExecutor::close() {
    std::deque<std::function<void()>> tasks;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        tasks.swap(queue_);
    }
    for (auto& task : tasks)
        task();
}

} // namespace fleetbox::helper
