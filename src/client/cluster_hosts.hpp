// Member names: every member of a cluster resolves every other member through its own
// /etc/hosts, which the host keeps current (ADR 0014).
//
// Why here: the store is the one record of a cluster (members recorded in one cluster, each
// with its stable address in config.json), so the host can compute every member's list at
// any time and needs no daemon, multicast or resolver in the guest. The list reaches a guest
// twice: in its seed at create (cluster_host_entries -> SeedSpec::hosts) and, whenever a
// member boots, pushed over SSH to every running member (sync_cluster_hosts), which replaces
// only the cluster block of /etc/hosts (seed/cluster_block.hpp).
//
// Races: each push writes the complete list, read from the store just before that member's
// write (after its SSH login, the slow part), so concurrent pushes converge: the last writer
// wins with a list no older than its own write. A member whose config exists is listed
// whether it runs or not (its address is stable); a removed member drops out at the next push.
#pragma once

#include "seed/hosts_file.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace fleetbox::client {

// Every other member of `member`'s cluster (store members recorded in the same cluster) whose
// config has an address, as "<ip> <name>" entries in store order (by name). Members whose
// config cannot be read, or whose address or name the hosts file would refuse, are skipped.
// `member` itself need not exist yet (a VM being created). Errors: an invalid name
// (InvalidArgument) or an unreadable clusters/ directory.
Result<std::vector<seed::HostEntry>> cluster_host_entries(const Store& store,
                                                          const std::string& member);

struct HostsSyncOptions {
    // Bounds the SSH login to each member, and then the command that rewrites its block.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(20)};
    std::chrono::milliseconds command_timeout{std::chrono::seconds(20)};
    // Where the guest keeps the file and whether it is written through `sudo -n` (the guest
    // user is not root). Tests point these at a scratch file on a fake sshd.
    std::string hosts_path = "/etc/hosts";
    bool sudo = true;
};

struct HostsPushFailure {
    std::string member;
    Error error; // names the VM (SSH errors do), e.g. "ssh to VM web-2 at ...: timed out"
};

struct HostsSyncReport {
    std::vector<std::string> updated;     // members whose block now lists the cluster
    std::vector<HostsPushFailure> failed; // members that could not be updated
};

// Pushes the cluster list to each of `running` (names of running members, e.g. from the
// helper's list) that belongs to `cluster` and exists in the store, in parallel (one thread
// per member), each over its own pinned-key SSH login to the address in its config.
// Names of other clusters, or without a config.json (removed meanwhile), are ignored. A
// member that cannot be reached or updated is reported in `failed`, never an error: callers
// warn and go on. The call returns within about connect_timeout + command_timeout.
// Errors: only what prevents computing the list (the store's member list cannot be read).
Result<HostsSyncReport> sync_cluster_hosts(const Store& store, const std::string& cluster,
                                           const std::vector<std::string>& running,
                                           const HostsSyncOptions& options = {});

} // namespace fleetbox::client
