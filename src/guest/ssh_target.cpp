// Naming and validation of an SshTarget, shared by connect, exec and wait_for_ssh so every
// message about one VM reads the same way.
#include "guest/ssh_target.hpp"

#include "sys/tcp_connect.hpp"

namespace fleetbox::guest {

std::string vm_label(const SshTarget& target) {
    return target.vm_name.empty() ? "the VM" : "VM " + target.vm_name;
}

std::string ssh_operation(const SshTarget& target) {
    return "ssh to " + vm_label(target) + " at " + endpoint(target.host, target.port);
}

Status validate_target(const SshTarget& target) {
    auto bad = [&](const std::string& why) {
        return fail(ErrorKind::InvalidArgument, ssh_operation(target), why);
    };
    if (target.host.empty())
        return bad("no address");
    if (target.port <= 0 || target.port > 65535)
        return bad("port out of range");
    if (target.user.empty())
        return bad("no login user");
    if (target.identity_path.empty())
        return bad("no private key file");
    if (target.known_hosts_path.empty()) {
        return bad("no known_hosts file (host-key checking is never disabled)");
    }
    if (target.known_hosts_path.find('%') != std::string::npos ||
        target.identity_path.find('%') != std::string::npos) {
        return bad("key and known_hosts paths must not contain '%' (libssh expands it)");
    }
    return {};
}

} // namespace fleetbox::guest
