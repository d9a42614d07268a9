// The guest's /etc/hosts, rendered on the host from the VM's identity.
//
// Why one renderer: both ways of configuring a guest (the fast seed and cloud-init's
// write_files) must produce the same file, so a VM's name resolution does not depend on how
// it was provisioned. The file always maps the VM's own name to 127.0.1.1 (Debian's
// convention): without it `sudo` waits out DNS timeouts for "unable to resolve host".
// Further entries (a cluster's other members) follow, one per line, in the order given, inside
// the cluster block (cluster_block.hpp) that the host later keeps current over SSH; the block
// is there even when it is empty, so the seed and a later push leave the same shape.
#pragma once

#include "util/error.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace fleetbox::seed {

struct HostEntry {
    std::string ip;   // IPv4 or IPv6 address
    std::string name; // a hostname: letters, digits, '-', '.', '_'
};

// An IPv4 or IPv6 address in text form.
bool is_ip_address(const std::string& text);
// 1..max_size characters of [A-Za-z0-9._-], not starting with '-' or '.' (a VM's own name is
// at most 63: it is the guest's hostname).
bool is_host_name(const std::string& name, std::size_t max_size = 253);

// InvalidArgument naming the entry when an address or name is malformed.
Status validate_host_entries(const std::vector<HostEntry>& entries);

// localhost lines, "127.0.1.1\t<name>", then the cluster block: each entry as "<ip>\t<name>"
// between the block's marker lines.
Result<std::string> render_hosts_file(const std::string& name,
                                      const std::vector<HostEntry>& entries);

} // namespace fleetbox::seed
