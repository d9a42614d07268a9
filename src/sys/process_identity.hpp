// ProcessIdentity: a process named by its pid AND its start time, so a recorded process is
// never confused with a later one that happens to get the same pid.
//
// Why: pids are reused. A record that says "the helper is pid 4242" is worthless after a
// reboot or a few thousand forks, and killing "pid 4242" then could hit anything. Field 22
// of /proc/<pid>/stat (starttime, clock ticks since boot) does not change during a
// process's life and differs between two processes that share a pid, so the pair identifies
// one process for as long as the system runs. A zombie counts as dead: it holds no
// resources and cannot be signalled usefully.
#pragma once

#include "util/error.hpp"

#include <string>
#include <sys/types.h>

namespace fleetbox {

struct ProcessIdentity {
    pid_t pid = 0;
    unsigned long long start_time = 0; // /proc/<pid>/stat field 22, clock ticks since boot

    friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;
};

// Field 22 of /proc/<pid>/stat. NotFound when there is no such process.
Result<unsigned long long> process_start_time(pid_t pid);
// The identity of a running process (NotFound when there is none).
Result<ProcessIdentity> identify_process(pid_t pid);
// This process.
Result<ProcessIdentity> self_identity();
// True only when /proc/<pid>/stat exists, the process is not a zombie and its start time
// equals the recorded one. pid <= 0 is never alive.
bool process_alive(const ProcessIdentity& id);
// /proc/<pid>/cmdline with the NUL separators turned into spaces ("" when unreadable).
std::string process_cmdline(pid_t pid);

} // namespace fleetbox
