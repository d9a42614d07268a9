// Helpers for the sys unit tests that watch processes from the outside (/proc, waitpid).
//
// Why: several tests must prove that a process died (destructor kill, process-group kill,
// PR_SET_PDEATHSIG). An orphan is reparented to PID 1, which in a container may never reap it,
// so "dead" means gone from /proc or a zombie. Tests that orphan processes make the test
// process a child subreaper (PR_SET_CHILD_SUBREAPER) so they can reap, and check, the orphan.
// Every wait here is a correctness bound (give up after N seconds), never a timing assertion.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fleetbox::test {

// Process state letter from /proc/<pid>/stat ('R', 'S', 'Z', ...), 0 when the pid is gone.
inline char proc_state(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat))
        return 0;
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size())
        return 0;
    return stat[close + 2];
}

inline bool proc_exists(pid_t pid) {
    struct stat st {};
    return ::stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0;
}

// Gone, or a zombie waiting for a parent that may never reap it.
inline bool process_dead(pid_t pid) {
    char s = proc_state(pid);
    return s == 0 || s == 'Z' || s == 'X';
}

// Polls pred every 10 ms until it holds or `bound` passes; returns its last value.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return pred();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

// Reaps a child (or adopted orphan) within `bound`; the raw wait status, nullopt on timeout.
inline std::optional<int> reap_within(pid_t pid,
                                      std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    std::optional<int> result;
    eventually(
        [&] {
            int st = 0;
            if (::waitpid(pid, &st, WNOHANG) == pid)
                result = st;
            return result.has_value();
        },
        bound);
    return result;
}

// Makes this process adopt orphaned descendants for the scope, so tests can reap them.
class Subreaper {
public:
    Subreaper() { ok_ = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0; }
    ~Subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 0); }
    Subreaper(const Subreaper&) = delete;
    Subreaper& operator=(const Subreaper&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }

private:
    bool ok_ = false;
};

// Last-resort cleanup for a process a failed test left behind.
inline void kill_and_reap(pid_t pid) {
    if (pid <= 0)
        return;
    ::kill(pid, SIGKILL);
    (void)reap_within(pid, std::chrono::seconds(2));
}

} // namespace fleetbox::test
