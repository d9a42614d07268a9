// The three NoCloud documents cloud-init reads from a VM's seed: meta-data, user-data and
// network-config, rendered from one SeedSpec as pure functions (unit-testable text).
//
// Why JSON: cloud-init loads all three with yaml.safe_load, and a JSON document is valid YAML
// (user-data only needs the "#cloud-config" first line). Building the documents with
// nlohmann::json means no hand-written YAML quoting: a hostname like "123" or "yes", or a
// multi-line private key, cannot change meaning. The user-data supplies the VM's own ed25519
// host key (cloud-init then generates none: the largest boot-time win measured under TCG, and
// fleetbox can pin the key) and /etc/hosts through write_files (so `sudo` never stalls on DNS
// for the hostname, and the cluster block of ADR 0014 is there from the first boot). A VM
// without fixtures gets byte-identical user-data for identical inputs.
#pragma once

#include "seed/hosts_file.hpp"
#include "ssh/keys.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace fleetbox::seed {

// A read-only fixture disk the guest mounts by filesystem label through /etc/fstab.
struct SeedMount {
    std::string label;      // e.g. "FBFIX0"
    std::string guest_path; // absolute, e.g. "/srv/data"
};

struct SeedSpec {
    std::string name;            // hostname and instance-id: [A-Za-z0-9._-], 1..63 chars
    std::string user_public_key; // "ssh-ed25519 AAAA... comment": login key of user fleetbox
    ssh::KeyPair host_key;       // the VM's own SSH host key (ed25519)
    std::string mac;             // "52:54:00:12:34:56" (any case; rendered lowercase)
    std::string ip_cidr;         // "192.168.50.10/24"
    std::string gateway;         // "192.168.50.1"
    std::vector<std::string> nameservers; // e.g. {"1.1.1.1", "8.8.8.8"}; empty: none configured
    std::vector<SeedMount> mounts;        // fixtures; empty for most VMs
    std::vector<HostEntry> hosts;         // /etc/hosts entries beyond the VM's own name
};

// The login user cloud-init creates.
inline constexpr const char* kGuestUser = "fleetbox";

// Checks every field (InvalidArgument naming the field, or Corrupt for unparseable keys).
Status validate(const SeedSpec& spec);

// {"instance-id": name, "local-hostname": name} as JSON text.
Result<std::string> render_meta_data(const SeedSpec& spec);
// "#cloud-config\n" followed by a JSON object (users, ssh_keys, hostname, ...).
Result<std::string> render_user_data(const SeedSpec& spec);
// Netplan v2 (cloud-init network config version 2) as JSON: one ethernet matched by MAC,
// renamed eth0, static address, default route via the gateway, optional nameservers.
Result<std::string> render_network_config(const SeedSpec& spec);

} // namespace fleetbox::seed
