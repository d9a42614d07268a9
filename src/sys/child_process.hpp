// ChildProcess: spawn an external program and own it until it is reaped.
//
// Why: fleetbox runs mmdebstrap, mkfs.ext4, qemu-img and QEMU. Each child must start with
// only stdin/stdout/stderr open (no leaked sockets or lock fds), must never outlive a
// ChildProcess that was not explicitly detached (the destructor kills and reaps it), and its
// stderr must be available to turn a failure into one readable error line. Captured output
// goes to memfd files rather than pipes, so a chatty child can never block on a full pipe.
// Waiting with a timeout uses a pidfd, so there is no polling and no SIGCHLD handler.
// The helper starts QEMU as the invoking user with no way to regain privileges (run_as,
// no_new_privs, umask) and hands it pre-opened descriptors (inherit_fds, e.g. its tap).
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace fleetbox {

enum class Stream { Inherit, Null, Capture, File };

// Credentials the child switches to before exec: setgroups(groups), setresgid(gid x3),
// setresuid(uid x3). setgroups is skipped when the process already has exactly `groups`
// (so a caller without CAP_SETGID can still "switch" to its own credentials).
struct RunAs {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups; // supplementary groups; empty: none
};

// This process's effective uid and gid and its supplementary groups: a RunAs that changes
// nothing (and so needs no privilege).
RunAs current_credentials();

struct ChildSpec {
    std::vector<std::string> argv;      // argv[0] is looked up on PATH when it has no '/'
    std::vector<std::string> env_set;   // "KEY=VALUE" entries added to (or replacing in) the env
    std::vector<std::string> env_unset; // names removed from the inherited environment
    std::string cwd;                    // empty: inherit
    Stream in = Stream::Null;           // Inherit or Null
    Stream out = Stream::Inherit;
    Stream err = Stream::Capture;
    int out_file = -1; // with Stream::File: written to this fd (not owned)
    int err_file = -1;
    bool new_session = false;       // setsid(): detached from our terminal and group
    bool own_process_group = false; // setpgid(0,0): kill() reaches its whole tree
    int parent_death_signal = 0;    // PR_SET_PDEATHSIG, e.g. SIGKILL (set after run_as, which
                                    // would clear it)
    std::optional<RunAs> run_as;    // switch credentials first; failure is a spawn error
    bool no_new_privs = false;      // PR_SET_NO_NEW_PRIVS: exec can never grant privileges
    std::optional<mode_t> umask;    // the child's umask (default: inherited)
    // Parent fd -> fd number in the child, kept open across exec (FD_CLOEXEC cleared). The
    // parent fds are not consumed; numbers may overlap freely (a parent fd 5 -> 6 and 6 -> 5
    // swap). Child numbers must be >= 3 and distinct.
    std::vector<std::pair<int, int>> inherit_fds;
    // Become root again in the child before exec (setresuid/setresgid 0, no supplementary
    // groups): for a client that dropped to the invoking user under sudo and keeps saved uid
    // 0 (sys/privileges.hpp). A no-op when already root; spawn fails with Permission when the
    // saved uid is not 0. Only fleetbox-helper spawns set it.
    bool regain_root = false;
    std::string
        missing_hint; // hint when argv[0] is not installed, e.g. "apt-get install qemu-utils"
};

struct ExitStatus {
    int code = -1;  // exit code, -1 when killed by a signal
    int signal = 0; // terminating signal, 0 when it exited
    [[nodiscard]] bool ok() const { return signal == 0 && code == 0; }
    [[nodiscard]] std::string describe() const; // "exited with status 3" / "killed by SIGKILL"
};

class ChildProcess {
public:
    static Result<ChildProcess> spawn(const ChildSpec& spec);

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess(); // kills (SIGKILL) and reaps a child still running

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] bool running() const { return pid_ > 0 && !status_; }

    // Wait for exit. With a timeout, a child still running afterwards yields ErrorKind::Timeout
    // and keeps running (the caller decides whether to kill it).
    Result<ExitStatus> wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    // Non-blocking check.
    std::optional<ExitStatus> try_wait();
    // Send a signal (to the whole group when spawned with own_process_group).
    Status signal(int sig);
    // SIGKILL and reap.
    ExitStatus kill();
    // Stop owning the child: the destructor will neither kill nor reap it.
    pid_t detach();
    // A pollable fd that becomes readable when the child exits.
    [[nodiscard]] int exit_fd() const { return pidfd_.get(); }

    [[nodiscard]] std::string captured_stdout() const;
    [[nodiscard]] std::string captured_stderr() const;
    [[nodiscard]] const std::string& program() const { return program_; }

private:
    ChildProcess() = default;
    void reap_blocking();

    pid_t pid_ = -1;
    bool group_ = false;
    bool root_child_ = false; // spawned with regain_root: signals may need root
    Fd pidfd_;
    Fd out_capture_;
    Fd err_capture_;
    std::string program_;
    std::optional<ExitStatus> status_;
};

struct CommandOutput {
    ExitStatus status;
    std::string out;
    std::string err;
};

// Run to completion. A non-zero exit is NOT an error here; callers judge the status.
Result<CommandOutput> run_command(ChildSpec spec,
                                  std::optional<std::chrono::milliseconds> timeout = std::nullopt);
// Run and require success: a failure becomes ErrorKind::ExternalCommand whose context is the
// last line of the child's stderr.
Result<CommandOutput> run_checked(ChildSpec spec,
                                  std::optional<std::chrono::milliseconds> timeout = std::nullopt);

} // namespace fleetbox
