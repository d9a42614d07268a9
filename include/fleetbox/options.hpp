// fleetbox::Options: what a VM is made of (image, size, provisioning, fixtures) and how
// the library reaches the store; plus the small value types calls return.
//
// Why one struct with defaults: a test names only what it cares about
// (`Options o; o.cpus = 1;`), like testcontainers' builders, and a stored VM keeps what it
// was created with (options given later for an existing VM are ignored, with a note).
#pragma once

#include <chrono>
#include <cstdint>
#include <fleetbox/export.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fleetbox {

// Plain values (copyable, no resources); read by start()/start_cluster()/add() at the call.
struct Options {
    std::string image = "debian-12";
    int cpus = 2;
    std::uint64_t memory_mb = 2048;
    std::uint64_t disk_mb = 20 * 1024; // thin: only written blocks use host space
    // How the guest gets its identity (name, address, keys): "fleetbox-seed" (the fast path
    // of images fleetbox builds: no cloud-init at boot), "nocloud" (cloud-init reads a NoCloud
    // seed), or empty: the image's preferred method. Chosen at create, kept for the VM's life.
    std::string provisioning;
    // Until SSH answers. 0 = automatic: 10 minutes under TCG, 3 under KVM.
    std::chrono::seconds boot_timeout{0};
    // Store root; default FLEETBOX_HOME, else ~/.fleetbox (the invoking user's under sudo).
    std::optional<std::string> store_root;
    // Progress lines (image build, boot phases) and notes go here; default: nothing.
    std::function<void(const std::string&)> log;
};

// What Vm::ssh returns: the command's exit code (-1 when killed by a signal) and its output.
struct ExecResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// One boot phase and how long it took (Vm::timings, Vm::guest_timings).
struct PhaseTiming {
    std::string phase;
    double seconds = 0;
};

} // namespace fleetbox
