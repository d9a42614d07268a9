// The files of one VM beside its config.json, and the few that the client writes.
//
//   disk.qcow2        overlay on the cached image (created once)
//   seed.iso / seed.tar   NoCloud or fleetbox seed (created once, with the VM's address)
//   ssh_host_ed25519_key[.pub]  the VM's own host key, generated on the host
//   known_hosts       that key pinned for the VM's IP: every SSH client uses this file
//   timings.json      per-phase timings of the last boot
//   serial.log, qemu.log, helper.log   written by the helper
#pragma once

#include "guest/ssh_target.hpp"
#include "seed/provisioner.hpp"
#include "ssh/keys.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <fleetbox/fleetbox.hpp>
#include <string>
#include <vector>

namespace fleetbox::client {

struct MemberFiles {
    std::string dir;
    std::string disk;
    std::string host_key;
    std::string known_hosts;
    std::string timings;
    std::string serial_log;

    static Result<MemberFiles> of(const Store& store, const std::string& name);
    // The logs a boot writes (plain names in dir), with what their cap rotated out (.1): kept
    // when a new VM's first boot fails.
    static std::vector<std::string> log_names() {
        return {"serial.log", "serial.log.1", "qemu.log",
                "qemu.log.1", "helper.log",   "helper.log.1"};
    }
};

// The seed file of a VM configured by `method` (seed.iso or seed.tar in its directory).
std::string seed_path(const MemberFiles& files, seed::Provisioning method);

// Generates the VM's host key and writes it (private 0600, public 0644).
Result<ssh::KeyPair> create_host_key(const MemberFiles& files, const std::string& name);
Result<ssh::KeyPair> load_host_key(const MemberFiles& files);
// known_hosts with one line: "<ip> ssh-ed25519 AAAA...".
Status write_known_hosts(const MemberFiles& files, const std::string& ip,
                         const ssh::KeyPair& host_key);

// How the client reaches the VM over SSH: the installation key, the VM's pinned host key.
guest::SshTarget ssh_target(const Store& store, const MemberFiles& files, const std::string& name,
                            const std::string& ip);

Status write_timings(const MemberFiles& files, const std::vector<PhaseTiming>& timings,
                     int boot_attempts, const std::vector<PhaseTiming>& guest_timings = {});
// Empty when the VM never booted (or the file is unreadable: timings are informational).
std::vector<PhaseTiming> read_timings(const MemberFiles& files);

} // namespace fleetbox::client
