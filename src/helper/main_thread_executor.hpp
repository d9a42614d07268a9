// MainThreadExecutor: run a function on the helper's main thread from any thread.
//
// Why: QEMU children carry PR_SET_PDEATHSIG(SIGKILL) so they die with the helper. The kernel
// sends that signal when the *thread* that forked the child exits, not the process. Connection
// threads come and go, so a QEMU forked from one would be killed when its client disconnects.
// The main thread lives exactly as long as the helper, so every fork that needs the death
// signal is posted here and runs inside the main thread's poll loop, which watches wake_fd().
//
// After close() (the helper is exiting and the main loop no longer pumps), run() executes f on
// the calling thread instead of blocking forever; by then the backend refuses new boots.
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

namespace fleetbox::helper {

class MainThreadExecutor {
public:
    // Binds the executor to the calling thread (the one that will call drain()).
    static Result<std::unique_ptr<MainThreadExecutor>> create();
    MainThreadExecutor(const MainThreadExecutor&) = delete;
    MainThreadExecutor& operator=(const MainThreadExecutor&) = delete;

    // Runs f on the main thread and returns its result; called on the main thread, runs f now.
    template <class F>
    auto run(F&& f) -> decltype(f()) {
        using R = decltype(f());
        if (on_main_thread())
            return f();
        auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(f));
        auto future = task->get_future();
        if (!post([task] { (*task)(); }))
            (*task)(); // closed: run here
        return future.get();
    }

    [[nodiscard]] bool on_main_thread() const { return std::this_thread::get_id() == main_; }
    // Readable (eventfd) while tasks are queued; the main loop polls it.
    [[nodiscard]] int wake_fd() const { return wake_.get(); }
    // Main thread: run every queued task.
    void drain();
    // Main thread: run what is queued, then make later run() calls execute on their caller.
    void close();

private:
    MainThreadExecutor(Fd wake, std::thread::id main) : wake_(std::move(wake)), main_(main) {}
    // Queues a task and wakes the main loop; false once closed.
    bool post(std::function<void()> task);

    Fd wake_;
    std::thread::id main_;
    std::mutex mutex_;
    std::deque<std::function<void()>> queue_;
    bool closed_ = false;
};

} // namespace fleetbox::helper
