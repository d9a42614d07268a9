// What fleetbox needs to reach one VM over SSH, and what running a command there returns.
//
// Why a plain struct: the VM's address, login user, the per-installation private key and the
// VM's own known_hosts file (holding the host key fleetbox generated for it and put in its
// cloud-init seed) are all decided by whoever creates the VM; this layer only dials.
#pragma once

#include "util/error.hpp"

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

namespace fleetbox::guest {

struct SshTarget {
    std::string vm_name; // for messages: "VM web ..."
    std::string host;    // the VM's IP (or a name the host resolves)
    int port = 22;
    std::string user = "fleetbox";
    std::string identity_path; // private key file (OpenSSH format, unencrypted)
    // Per-VM known_hosts file. Lines are "<host> <keytype> <base64>", with "[host]:port" as
    // the host field when port != 22. It must list the VM's host key: anything else refuses.
    std::string known_hosts_path;
};

struct ExecResult {
    int exit_code = -1; // the command's exit status; 128+N when killed by signal N; -1 unknown
    std::string out;    // stdout (empty when ExecIo::on_stdout consumed it)
    std::string err;    // stderr (empty when ExecIo::on_stderr consumed it)
};

// Optional streams for one command. The command's stdin always gets `input` and then EOF
// (so a command that reads stdin never waits for more). When a callback is set, that stream
// is delivered to it in chunks as it arrives instead of being collected in ExecResult; the
// callback runs on the calling thread and must not call back into the session.
//
// `cancel`: once stop is requested (from any thread), the command is stopped as on a timeout
// and the exec returns Interrupted. `as_root` runs it through `sudo -n`. With
// `process_group`, a timeout or cancellation kills the command's whole process group in the
// guest, not just its top process (remote_command.hpp, ADR 0018).
struct ExecIo {
    std::string_view input;
    std::function<void(std::string_view)> on_stdout;
    std::function<void(std::string_view)> on_stderr;
    std::stop_token cancel;
    bool as_root = false;
    bool process_group = false;
};

// "VM web"
std::string vm_label(const SshTarget& target);
// "ssh to VM web at 192.168.5.2:22"
std::string ssh_operation(const SshTarget& target);
// Checks the fields connect() needs (non-empty, port range, no '%' in paths: libssh expands
// %-escapes in the known_hosts path). InvalidArgument otherwise.
Status validate_target(const SshTarget& target);

} // namespace fleetbox::guest
