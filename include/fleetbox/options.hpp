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
#include <stop_token>
#include <string>
#include <vector>

namespace fleetbox {

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

// How Vm::copy_to / Vm::copy_from run.
struct CopyOptions {
    // Run the guest's tar as root (`sudo -n`): to write where only root may, or to read
    // root's files. Files written in the guest then belong to root.
    bool as_root = false;
    // Bound on the whole copy; nullopt = none. On expiry the copy stops with Timeout and
    // leaves nothing under the destination's name.
    std::optional<std::chrono::milliseconds> timeout;
    // A stop request ends the copy within ~100 ms with Interrupted (nothing left behind).
    std::stop_token cancel;
};

struct ExecResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// How Vm::ssh runs one command.
struct ExecOptions {
    // Bounds the command (nullopt = no bound). On expiry the command is killed together with
    // every process it started (its process group in the guest) and the call returns Timeout.
    std::optional<std::chrono::milliseconds> timeout;
    // Request stop (from any thread) to kill the command the same way: Interrupted. Checked
    // every ~200 ms.
    std::stop_token cancel;
    // Written to the command's stdin, followed by EOF (the default: EOF at once).
    std::string input;
    // Run as root through `sudo -n` in the guest (no password prompt).
    bool as_root = false;
};

struct PhaseTiming {
    std::string phase;
    double seconds = 0;
};

} // namespace fleetbox
