// Waiting for a booting VM to accept an authenticated SSH command.
//
// Why this shape (reference/boot-tcg.md): a guest answers TCP RST on :22 as soon as it has its
// address, seconds before sshd listens, so each round first does a cheap bounded TCP connect
// and only then the full login, which costs ~0.9 s under TCG. Ready means a real command
// (`true`) ran, not just an open port: sshd refuses logins while /run/nologin exists early in
// boot. Boot time is ~20-30 s under TCG and longer with several VMs on 2 cores, so the
// overall timeout is always the caller's.
#pragma once

#include "guest/ssh_session.hpp"
#include "guest/ssh_target.hpp"
#include "util/error.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace fleetbox::guest {

struct WaitForSshOptions {
    // Asked before every round and while sleeping; returning false abandons the wait
    // (ErrorKind::Interrupted), e.g. because the VM's QEMU process exited.
    std::function<bool()> keep_going;
    // The VM's console log, named in the timeout hint.
    std::string serial_log;
    // Appended to the timeout's hint (after the console log), e.g. what the image may lack.
    std::string hint;
    std::chrono::milliseconds attempt_timeout{30'000}; // one login + `true`
    std::chrono::milliseconds probe_timeout{1'000};    // one TCP connect
    std::chrono::milliseconds poll_interval{250};      // pause between rounds
};

struct SshReady {
    double seconds = 0; // from the call until the first successful command
    SshSession session; // the connection that ran it, ready for reuse
};

// Polls until `true` runs over SSH on the target, and returns that connection.
// Errors: the timeout → Timeout "VM web did not answer SSH at <ip>:22 within 5m00s" with
// the last attempt's failure and the serial log (then options.hint) in the hint; a setup problem
// (missing key or known_hosts file) or a host-key refusal → returned at once, since waiting cannot
// fix it; keep_going() false or Ctrl-C → Interrupted.
Result<SshReady> wait_for_ssh_session(const SshTarget& target, std::chrono::milliseconds timeout,
                                      const WaitForSshOptions& options = {});

// The same, returning only the seconds it took (the connection is closed).
Result<double> wait_for_ssh(const SshTarget& target, std::chrono::milliseconds timeout,
                            std::function<bool()> keep_going = {}, std::string serial_log = {});

} // namespace fleetbox::guest
