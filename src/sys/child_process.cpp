// ChildProcess: fork/exec with explicit fd setup, pidfd-based waiting, kill-and-reap on drop.
//
// Relies on: close_range(2) (Linux 5.9) to drop every inherited fd above stderr in the child;
// pidfd_open(2) (Linux 5.3) to wait with a timeout via poll(2); memfd_create(2) for captures;
// PR_SET_PDEATHSIG, which fires when the *thread* that forked exits (callers that need it
// fork from a long-lived thread). Exec failures travel back through a CLOEXEC pipe so the
// parent reports "not found" instead of a child exiting 127; a failed credential switch,
// no_new_privs or descriptor hand-over travels the same way, so it is a spawn error too.
// A child spawned with regain_root (a dropped sudo client starting fleetbox-helper) runs as
// root while this process does not: kill(2) then needs root too, so signal() raises the
// effective uid for the one kill of its own unreaped child (the pid cannot be reused before
// it is reaped), and drops it again at once.
#include "sys/child_process.hpp"

#include "sys/child_exec.hpp"
#include "sys/fs.hpp"
#include "sys/privileges.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fleetbox {

std::string ExitStatus::describe() const {
    if (signal != 0) {
        const char* name = sigabbrev_np(signal);
        return fmt::format("killed by SIG{}", name ? name : std::to_string(signal));
    }
    return fmt::format("exited with status {}", code);
}

namespace {

std::vector<std::string> build_env(const ChildSpec& spec) {
    std::vector<std::string> env;
    auto overridden = [&](std::string_view entry) {
        auto name = entry.substr(0, entry.find('='));
        for (const auto& u : spec.env_unset)
            if (u == name)
                return true;
        for (const auto& s : spec.env_set)
            if (std::string_view(s).substr(0, s.find('=')) == name)
                return true;
        return false;
    };
    for (char** e = environ; e && *e; ++e)
        if (!overridden(*e))
            env.emplace_back(*e);
    for (const auto& s : spec.env_set)
        env.push_back(s);
    return env;
}

std::vector<char*> c_array(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

Result<Fd> make_capture(const char* name) {
    Fd fd(::memfd_create(name, MFD_CLOEXEC));
    if (!fd)
        return fail_errno("memfd_create", errno);
    return fd;
}

std::string read_capture(const Fd& fd) {
    if (!fd)
        return {};
    std::string out;
    char buf[16384];
    off_t off = 0;
    while (true) {
        ssize_t n = ::pread(fd.get(), buf, sizeof buf, off);
        if (n <= 0)
            break;
        out.append(buf, static_cast<size_t>(n));
        off += n;
    }
    return out;
}

} // namespace

RunAs current_credentials() {
    RunAs as{::geteuid(), ::getegid(), {}};
    int n = ::getgroups(0, nullptr);
    as.groups.resize(static_cast<size_t>(std::max(n, 0)));
    if (n > 0 && ::getgroups(n, as.groups.data()) != n)
        as.groups.clear();
    return as;
}

Result<ChildProcess> ChildProcess::spawn(const ChildSpec& spec) {
    using detail::ChildFailure;
    using detail::ChildPlan;
    if (spec.argv.empty())
        return fail(ErrorKind::Internal, "spawn", "empty argv");
    std::string program = find_program(spec.argv[0]);
    if (program.empty())
        return fail(ErrorKind::MissingDependency, "run " + spec.argv[0],
                    "program not found on PATH", spec.missing_hint);

    ChildProcess child;
    child.program_ = spec.argv[0];
    Fd null_fd;
    if (spec.in == Stream::Null || spec.out == Stream::Null || spec.err == Stream::Null) {
        null_fd.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
        if (!null_fd)
            return fail_errno("open /dev/null", errno);
    }
    auto pick = [&](Stream s, int file, Fd& capture, const char* name) -> Result<int> {
        switch (s) {
        case Stream::Inherit:
            return -1;
        case Stream::Null:
            return null_fd.get();
        case Stream::File:
            return file;
        case Stream::Capture:
            capture = FBX_TRY(make_capture(name));
            return capture.get();
        }
        return -1;
    };
    int in_fd = spec.in == Stream::Null ? null_fd.get() : -1;
    int out_fd = FBX_TRY(pick(spec.out, spec.out_file, child.out_capture_, "stdout"));
    int err_fd = FBX_TRY(pick(spec.err, spec.err_file, child.err_capture_, "stderr"));

    std::vector<std::string> argv_store = spec.argv;
    std::vector<std::string> env_store = build_env(spec);
    auto argv = c_array(argv_store);
    auto envp = c_array(env_store);

    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
        return fail_errno("pipe", errno);
    Fd report_read(report[0]);
    Fd report_write(report[1]);

    ChildPlan plan = FBX_TRY(detail::plan_child(spec));
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0)
        return fail_errno("fork for " + spec.argv[0], errno);
    if (pid == 0)
        detail::exec_child(spec, plan, in_fd, out_fd, err_fd, report_write.get(), argv.data(),
                           envp.data(), program.c_str(), parent);

    report_write.reset();
    child.pid_ = pid;
    child.group_ = spec.own_process_group || spec.new_session;
    child.root_child_ = spec.regain_root;
    child.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    ChildFailure failure;
    ssize_t n;
    do {
        n = ::read(report_read.get(), &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    if (n == sizeof failure) {
        child.reap_blocking();
        return tl::unexpected(detail::child_error(spec, failure));
    }
    return child;
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), group_(o.group_), root_child_(o.root_child_),
      pidfd_(std::move(o.pidfd_)), out_capture_(std::move(o.out_capture_)),
      err_capture_(std::move(o.err_capture_)), program_(std::move(o.program_)),
      status_(std::exchange(o.status_, std::nullopt)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
    if (this != &o) {
        if (running())
            kill();
        pid_ = std::exchange(o.pid_, -1);
        group_ = o.group_;
        root_child_ = o.root_child_;
        pidfd_ = std::move(o.pidfd_);
        out_capture_ = std::move(o.out_capture_);
        err_capture_ = std::move(o.err_capture_);
        program_ = std::move(o.program_);
        status_ = std::exchange(o.status_, std::nullopt);
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    if (running())
        kill();
}

void ChildProcess::reap_blocking() {
    int wstatus = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &wstatus, 0);
    } while (r < 0 && errno == EINTR);
    ExitStatus st;
    if (r == pid_) {
        if (WIFEXITED(wstatus))
            st.code = WEXITSTATUS(wstatus);
        else if (WIFSIGNALED(wstatus))
            st.signal = WTERMSIG(wstatus);
    }
    status_ = st;
}

std::optional<ExitStatus> ChildProcess::try_wait() {
    if (status_ || pid_ <= 0)
        return status_;
    int wstatus = 0;
    pid_t r = ::waitpid(pid_, &wstatus, WNOHANG);
    if (r != pid_)
        return std::nullopt;
    ExitStatus st;
    if (WIFEXITED(wstatus))
        st.code = WEXITSTATUS(wstatus);
    else if (WIFSIGNALED(wstatus))
        st.signal = WTERMSIG(wstatus);
    status_ = st;
    return status_;
}

Result<ExitStatus> ChildProcess::wait(std::optional<std::chrono::milliseconds> timeout) {
    if (pid_ <= 0)
        return fail(ErrorKind::Internal, "wait", "no child");
    if (status_)
        return *status_;
    if (timeout && !pidfd_) {
        // No pidfd (very old kernel): poll with WNOHANG instead of ignoring the timeout.
        auto deadline = std::chrono::steady_clock::now() + *timeout;
        while (!try_wait()) {
            if (std::chrono::steady_clock::now() >= deadline)
                return fail(ErrorKind::Timeout, "wait for " + program_, "still running");
            ::usleep(20000);
        }
        return *status_;
    }
    if (timeout && pidfd_) {
        auto deadline = std::chrono::steady_clock::now() + *timeout;
        while (true) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() < 0)
                left = std::chrono::milliseconds(0);
            pollfd p{pidfd_.get(), POLLIN, 0};
            int r = ::poll(&p, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR)
                continue;
            if (r > 0)
                break;
            return fail(
                ErrorKind::Timeout, "wait for " + program_,
                fmt::format("still running after {}",
                            format_duration(static_cast<double>(timeout->count()) / 1000.0)));
        }
    }
    reap_blocking();
    return *status_;
}

Status ChildProcess::signal(int sig) {
    if (!running())
        return {};
    int rc = group_ ? ::kill(-pid_, sig) : ::kill(pid_, sig);
    if (rc != 0 && errno == EPERM && root_child_ && can_regain_root()) {
        if (auto root = ScopedRoot::enter("signal " + program_); root)
            rc = group_ ? ::kill(-pid_, sig) : ::kill(pid_, sig);
        else
            errno = EPERM;
    }
    if (rc != 0 && errno != ESRCH)
        return fail_errno("signal " + program_, errno);
    return {};
}

ExitStatus ChildProcess::kill() {
    if (!running())
        return status_.value_or(ExitStatus{});
    (void)signal(SIGKILL);
    if (group_)
        ::kill(pid_, SIGKILL);
    reap_blocking();
    return *status_;
}

pid_t ChildProcess::detach() {
    pid_t p = pid_;
    pid_ = -1;
    return p;
}

std::string ChildProcess::captured_stdout() const {
    return read_capture(out_capture_);
}
std::string ChildProcess::captured_stderr() const {
    return read_capture(err_capture_);
}

Result<CommandOutput> run_command(ChildSpec spec,
                                  std::optional<std::chrono::milliseconds> timeout) {
    auto child = FBX_TRY(ChildProcess::spawn(spec));
    auto waited = child.wait(timeout);
    if (!waited) {
        child.kill();
        return fail(std::move(waited).error());
    }
    return CommandOutput{*waited, child.captured_stdout(), child.captured_stderr()};
}

Result<CommandOutput> run_checked(ChildSpec spec,
                                  std::optional<std::chrono::milliseconds> timeout) {
    std::string name = spec.argv.empty() ? "" : spec.argv[0];
    auto out = FBX_TRY(run_command(std::move(spec), timeout));
    if (!out.status.ok()) {
        std::string why = last_line(out.err);
        if (why.empty())
            why = last_line(out.out);
        return fail(ErrorKind::ExternalCommand, name + " " + out.status.describe(), why);
    }
    return out;
}

} // namespace fleetbox
