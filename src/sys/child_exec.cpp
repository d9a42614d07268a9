// The child's side of spawn (see child_exec.hpp). Between fork and exec only
// async-signal-safe calls are made; anything that allocates (the group comparison, the fd
// plan) is prepared by plan_child in the parent. A failed step writes {step, errno} to the
// report pipe and exits 127, so the parent turns it into an error instead of a status.
#include "sys/child_exec.hpp"

#include "sys/privileges.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::detail {

namespace {

// A step before exec that failed in the child, reported through the CLOEXEC pipe.
enum class ChildStep : int { Exec, Cwd, Credentials, NoNewPrivs, InheritFd, RegainRoot };

[[noreturn]] void child_fail(int report_fd, ChildStep step, int err) {
    ChildFailure failure{static_cast<int>(step), err};
    (void)!::write(report_fd, &failure, sizeof failure);
    ::_exit(127);
}

// Whether the child must call setgroups (so a switch to our own ids needs no CAP_SETGID).
bool groups_differ(std::vector<gid_t> wanted) {
    int n = ::getgroups(0, nullptr);
    std::vector<gid_t> have(static_cast<size_t>(std::max(n, 0)));
    if (n > 0 && ::getgroups(n, have.data()) != n)
        return true;
    std::sort(have.begin(), have.end());
    have.erase(std::unique(have.begin(), have.end()), have.end());
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    return have != wanted;
}

} // namespace

// Runs in the child between fork and exec: only async-signal-safe calls. Order matters:
// credentials change before PR_SET_PDEATHSIG (a uid/gid change clears it) and before chdir
// (which is then checked as the new user); inherited fds are parked above every target
// number before stdio is set up, so no source is overwritten by another mapping's target.
[[noreturn]] void exec_child(const ChildSpec& spec, ChildPlan& plan, int in_fd, int out_fd,
                             int err_fd, int report_fd, char* const* argv, char* const* envp,
                             const char* program, pid_t parent) {
    if (spec.new_session)
        ::setsid();
    else if (spec.own_process_group)
        ::setpgid(0, 0);
    if (spec.umask)
        ::umask(*spec.umask);
    if (!spec.inherit_fds.empty()) {
        int moved = ::fcntl(report_fd, F_DUPFD_CLOEXEC, plan.high);
        if (moved < 0)
            child_fail(report_fd, ChildStep::InheritFd, errno);
        report_fd = moved;
        for (size_t i = 0; i < spec.inherit_fds.size(); ++i) {
            plan.parked[i] = ::fcntl(spec.inherit_fds[i].first, F_DUPFD_CLOEXEC, plan.high);
            if (plan.parked[i] < 0)
                child_fail(report_fd, ChildStep::InheritFd, errno);
        }
    }
    if (spec.regain_root) {
        if (int e = regain_root_in_child(); e != 0)
            child_fail(report_fd, ChildStep::RegainRoot, e);
    }
    if (spec.run_as) {
        const RunAs& as = *spec.run_as;
        if (plan.set_groups && ::setgroups(as.groups.size(), as.groups.data()) != 0)
            child_fail(report_fd, ChildStep::Credentials, errno);
        if (::setresgid(as.gid, as.gid, as.gid) != 0 || ::setresuid(as.uid, as.uid, as.uid) != 0)
            child_fail(report_fd, ChildStep::Credentials, errno);
    }
    if (spec.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(report_fd, ChildStep::NoNewPrivs, errno);
    if (spec.parent_death_signal != 0) {
        ::prctl(PR_SET_PDEATHSIG, spec.parent_death_signal);
        // The parent may have died between fork() and prctl(): then no signal will come.
        if (::getppid() != parent)
            ::_exit(127);
    }
    // Restore default signal dispositions and an empty mask for the new program.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP, SIGQUIT})
        ::signal(sig, SIG_DFL);
    if (in_fd >= 0)
        ::dup2(in_fd, 0);
    if (out_fd >= 0)
        ::dup2(out_fd, 1);
    if (err_fd >= 0)
        ::dup2(err_fd, 2);
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        // Kernels before 5.11 lack the CLOEXEC flag: close them one by one instead.
        for (int fd = 3; fd < 65536; ++fd) {
            bool keep = fd == report_fd;
            for (int parked : plan.parked)
                keep = keep || fd == parked;
            if (!keep)
                ::close(fd);
        }
    }
    ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
    for (size_t i = 0; i < spec.inherit_fds.size(); ++i) {
        // dup2 leaves the new descriptor without FD_CLOEXEC; the parked copy stays CLOEXEC.
        if (::dup2(plan.parked[i], spec.inherit_fds[i].second) < 0)
            child_fail(report_fd, ChildStep::InheritFd, errno);
    }
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0)
        child_fail(report_fd, ChildStep::Cwd, errno);
    ::execve(program, argv, envp);
    child_fail(report_fd, ChildStep::Exec, errno);
}

Result<ChildPlan> plan_child(const ChildSpec& spec) {
    ChildPlan plan;
    const std::string op = "run " + spec.argv[0];
    for (size_t i = 0; i < spec.inherit_fds.size(); ++i) {
        auto [from, to] = spec.inherit_fds[i];
        if (to < 3)
            return fail(ErrorKind::Internal, op,
                        fmt::format("cannot pass a descriptor as fd {} (0-2 are stdio)", to));
        for (size_t j = 0; j < i; ++j)
            if (spec.inherit_fds[j].second == to)
                return fail(ErrorKind::Internal, op, fmt::format("fd {} is passed twice", to));
        if (from < 0 || ::fcntl(from, F_GETFD) < 0)
            return fail(ErrorKind::Internal, op, fmt::format("fd {} to pass is not open", from));
        plan.high = std::max(plan.high, to + 1);
    }
    plan.parked.assign(spec.inherit_fds.size(), -1);
    plan.set_groups = spec.run_as && groups_differ(spec.run_as->groups);
    return plan;
}

Error child_error(const ChildSpec& spec, const ChildFailure& failure) {
    const std::string& program = spec.argv[0];
    switch (static_cast<ChildStep>(failure.step)) {
    case ChildStep::Credentials:
        return errno_error(
            fmt::format("run {} as uid {} gid {}", program, spec.run_as->uid, spec.run_as->gid),
            failure.err);
    case ChildStep::RegainRoot: {
        Error e = errno_error("run " + program + " as root", failure.err);
        e.kind = ErrorKind::Permission;
        e.context = "this process cannot become root again (its saved uid is not 0)";
        return std::move(e).with_hint("run it with sudo");
    }
    case ChildStep::NoNewPrivs:
        return errno_error("run " + program + ": set no_new_privs", failure.err);
    case ChildStep::InheritFd:
        return errno_error("run " + program + ": pass descriptors", failure.err);
    case ChildStep::Exec:
    case ChildStep::Cwd:
        break;
    }
    return errno_error("run " + program, failure.err);
}

} // namespace fleetbox::detail
