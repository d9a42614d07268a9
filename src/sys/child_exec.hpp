// The child's side of ChildProcess::spawn: what runs between fork(2) and execve(2) (stdio and
// inherited descriptors, credentials, no_new_privs, parent-death signal) and how a failure
// there travels back to the parent. Internal to src/sys (child_process.cpp is its one user);
// split out so that the process handle and the exec plumbing each stay one readable file.
#pragma once

#include "sys/child_process.hpp"

#include <sys/types.h>
#include <vector>

namespace fleetbox::detail {

// What the child writes to the CLOEXEC report pipe when a step before exec fails.
struct ChildFailure {
    int step = 0;
    int err = 0;
};

// Everything the child needs that would allocate, prepared in the parent.
struct ChildPlan {
    bool set_groups = false; // run_as.groups differ from ours: setgroups() is needed
    int high = 3;            // above every inherit_fds target: where sources are parked
    std::vector<int> parked; // one slot per inherit_fds entry, filled in the child
};

// Checks inherit_fds and works out what needs allocation, in the parent, before fork.
Result<ChildPlan> plan_child(const ChildSpec& spec);

// Runs in the child between fork and exec; never returns (execs or reports and _exits).
[[noreturn]] void exec_child(const ChildSpec& spec, ChildPlan& plan, int in_fd, int out_fd,
                             int err_fd, int report_fd, char* const* argv, char* const* envp,
                             const char* program, pid_t parent);

// The spawn error for a failure the child reported.
Error child_error(const ChildSpec& spec, const ChildFailure& failure);

} // namespace fleetbox::detail
