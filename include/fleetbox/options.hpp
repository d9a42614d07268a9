// fleetbox::Options: what a VM is made of (image, size, provisioning, fixtures) and how
// the library reaches the store; plus the small value types calls return.
//
// Why one struct with defaults: a test names only what it cares about
// (`Options o; o.cpus = 1;`), like testcontainers' builders, and a stored VM keeps what it
// was created with (options given later for an existing VM are ignored, with a note).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fleetbox/export.hpp>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace fleetbox {

// A host directory shown read-only inside the guest (reference §9). At every boot the library
// packs host_path into an ext4 image (`mkfs.ext4 -d`, as the calling user), attaches it
// read-only and mounts it at guest_path before the VM is reported ready, so a change on the
// host is seen after a restart (never live). In the guest everything is owned by root,
// directories are 0555 and files 0444 (0555 when executable on the host); symlinks stay
// symlinks; FIFOs, sockets and device nodes fail the boot. The image is built as the calling
// user, so every file must be readable by it.
struct Fixture {
    std::string host_path;  // a directory; relative paths are made absolute at create
    std::string guest_path; // absolute, normalized, not "/"; e.g. "/srv/data"
};

// The most fixtures one VM takes. Each is one virtio disk (a microvm has 24 virtio-mmio slots,
// 3 taken by the root disk, the seed and the NIC) and one mkfs.ext4 run at every boot; 8 keeps
// the boot cost bounded and the guest's disk names within vdc..vdj.
inline constexpr std::size_t kMaxFixtures = 8;

// Plain values (copyable, no resources); read by start()/start_cluster()/add() at the call.
struct Options {
    // What the VM boots (at create; an existing VM keeps its own):
    //  - an image fleetbox builds from Debian packages: "debian-11", "debian-12", "debian-13";
    //  - a stock cloud image by alias, pinned in fleetbox's catalog: "ubuntu-24.04",
    //    "debian-12-cloud", ... (`fleetbox image pull --help` lists them);
    //  - an http(s) URL of a qcow2 or raw disk, optionally pinned: "https://h/x.qcow2#sha256=HEX";
    //  - a local disk file, written with a '/': "./my.qcow2", "/srv/images/x.raw";
    //  - the name of an image already cached (`fleetbox image ls`).
    // A missing image is built or downloaded once, then cached; see docs/images.md.
    std::string image = "debian-12";
    int cpus = 2;
    std::uint64_t memory_mb = 2048;
    std::uint64_t disk_mb = 20 * 1024; // thin: only written blocks use host space
    // How the guest gets its identity (name, address, keys): "fleetbox-seed" (the fast path
    // of images fleetbox builds: no cloud-init at boot), "nocloud" (cloud-init reads a NoCloud
    // seed), or empty: the image's preferred method. Chosen at create, kept for the VM's life.
    std::string provisioning;
    // Read-only host directories (see Fixture), at most kMaxFixtures, guest paths distinct.
    // Checked and frozen at create: a start of an existing VM ignores this (with a note), so a
    // cluster's members all get the set they were created with. A bad entry fails the start
    // with InvalidArgument (NotFound for a missing host directory) before anything is created.
    std::vector<Fixture> fixtures;
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

// What Vm::ssh returns: the command's exit code (-1 when killed by a signal) and its output.
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

// One boot phase and how long it took (Vm::timings, Vm::guest_timings).
struct PhaseTiming {
    std::string phase;
    double seconds = 0;
};

} // namespace fleetbox
