// The control protocol between the client (library/CLI) and fleetbox-helper: a closed set of
// typed messages. Encoding lives in codec.hpp; dispatch lives in the helper. See
// docs/protocol.md for the wire format.
//
// Why a closed std::variant: adding a command forces every decoder and dispatcher to handle
// it (a non-exhaustive std::visit does not compile), and malformed input is rejected in one
// place instead of being half-understood by each handler.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fleetbox::proto {

// 2: hello carries capabilities; boot-member carries kernel_cmdline_extra. Later additions
// are optional fields behind capabilities (kCap*), with no version bump.
inline constexpr int kProtocolVersion = 2;

// Capabilities a helper announces in its hello reply: what it can do beyond the version's
// base. A client checks for one before relying on it, so a feature can be added without a
// version bump, and a client never sends a request an older helper would half-understand.
//  - boot-kernel-cmdline: boot-member appends kernel_cmdline_extra to the guest's command
//    line, and fails at once when the guest reports "fleetbox: seed failed:" on its console.
inline constexpr const char* kCapBootKernelCmdline = "boot-kernel-cmdline";
//  - cluster-network: createnetwork honors cluster/subnet/avoid (a stored subnet is reused,
//    other clusters' subnets are never picked).
inline constexpr const char* kCapClusterNetwork = "cluster-network";
//  - boot-base-image: boot-member takes base_image_path and gives QEMU an explicit disk chain
//    (overlay backed by exactly that base, read-only); the real helper refuses a spec without
//    it. An older helper ignores the field and lets QEMU follow the overlay's header.
inline constexpr const char* kCapBootBaseImage = "boot-base-image";
//  - boot-fixtures: boot-member takes fixture_paths (read-only fixture images inside the
//    member directory) and attaches each read-only after the other disks. A client never
//    sends a non-empty fixture_paths to a helper without it (an older one would ignore the
//    field and boot a guest whose fixtures never appear).
inline constexpr const char* kCapBootFixtures = "boot-fixtures";
//  - detach: the helper takes `detach`: a bound helper turns detached (its own session, no
//    longer ended by its bind connection's EOF or its parent's exit; it exits with its last
//    member like any detached helper). Vm::keep() relies on it.
inline constexpr const char* kCapDetach = "detach";
//  - boot-stock-images: boot-member takes machine, firmware_boot and kernel_root (a stock
//    cloud image booted on q35, with its own kernel and root=UUID=..., or through SeaBIOS).
//    A client never sends a spec that sets any of them to a helper without it (an older one
//    would boot the image on microvm with root=/dev/vda: a guest that never finds its root).
inline constexpr const char* kCapBootStockImages = "boot-stock-images";
// What this build's helper supports.
inline std::vector<std::string> helper_capabilities() {
    return {kCapBootKernelCmdline, kCapClusterNetwork, kCapBootBaseImage,
            kCapBootFixtures,      kCapDetach,         kCapBootStockImages};
}

// ---- requests -------------------------------------------------------------------------
// First message on every connection.
struct Hello {
    int version = kProtocolVersion;
    int client_pid = 0;
    std::vector<std::string> capabilities; // the client's (informational)
};
// Marks this connection as the bound client's lifeline: its EOF stops the helper.
struct Bind {};
// Turns the helper detached from now on (kCapDetach): it leaves its parent's session, and
// neither the bind connection's EOF nor its parent's exit ends it any more; it exits when its
// last member stops (or its QEMU exits), or when idle, as a detached helper does. Idempotent.
struct Detach {};
// Create (or return the existing) network for this helper. The client names the cluster and
// passes what the store knows: the cluster's stored /24 (reuse exactly that, or fail saying
// what on the host holds it) and the /24s the store holds for other clusters (never pick
// one of those). All three are optional on the wire (an empty field means "none").
struct CreateNetwork {
    std::string cluster;
    std::string subnet;             // "192.168.N.0/24": the cluster's stored subnet
    std::vector<std::string> avoid; // subnets the store holds for other clusters
};
// Reserve an address for a member; honors ip_hint when free and inside the subnet.
struct Reserve {
    std::string name;
    std::string ip_hint;
};
struct BootSpec {
    std::string name;
    std::string member_dir; // must be inside the helper's store
    std::string disk_path;  // qcow2 overlay
    std::string seed_path;  // the seed (NoCloud ISO or fleetbox seed tar), attached read-only
    std::string kernel_path;
    std::string initrd_path;
    std::string mac;
    int cpus = 2;
    std::uint64_t memory_mb = 2048;
    int boot_timeout_s = 600; // until the guest's port 22 accepts
    // Appended to the kernel command line: the image's words for the provisioning method
    // (optional on the wire; printable ASCII, at most kMaxCmdlineExtra bytes).
    std::string kernel_cmdline_extra;
    // The overlay's base image (qcow2), attached read-only as its backing: QEMU never opens
    // the backing file the overlay's header names (optional on the wire; the real helper
    // refuses a spec without it, see kCapBootBaseImage).
    std::string base_image_path;
    // Read-only fixture images (raw ext4), attached in this order after the seed, each
    // read-only with serial "fbxfix<i>" (optional on the wire; at most kMaxFixturePaths; each
    // must be inside member_dir; see kCapBootFixtures).
    std::vector<std::string> fixture_paths;
    // How the guest boots (kCapBootStockImages; all optional on the wire, the defaults are
    // the fleetbox-built image's microvm direct kernel boot with root=/dev/vda):
    // the QEMU machine: "" or "microvm" (default), "q35";
    std::string machine;
    // no -kernel/-initrd/-append: SeaBIOS boots the root disk (its MBR/grub); q35 only;
    // kernel_path and initrd_path are then empty;
    bool firmware_boot = false;
    // the root= value of the kernel command line ("" = "/dev/vda"): "/dev/vdaN",
    // "UUID=...", "PARTUUID=...", "LABEL=..." (printable ASCII, no space or '"', at most
    // kMaxKernelRoot bytes); empty with firmware_boot.
    std::string kernel_root;
};
inline constexpr std::size_t kMaxCmdlineExtra = 1024;
inline constexpr std::size_t kMaxKernelRoot = 128;
inline constexpr const char* kMachineMicrovm = "microvm";
inline constexpr const char* kMachineQ35 = "q35";
inline constexpr const char* kDefaultKernelRoot = "/dev/vda";
// True when the spec asks for anything beyond the fleetbox image's boot, i.e. what a helper
// without kCapBootStockImages would get wrong (the defaults spelled out do not count).
inline bool uses_stock_boot(const BootSpec& spec) {
    return (!spec.machine.empty() && spec.machine != kMachineMicrovm) || spec.firmware_boot ||
           (!spec.kernel_root.empty() && spec.kernel_root != kDefaultKernelRoot);
}
// The wire's bound (a microvm has 24 virtio-mmio slots); the client allows fewer (kMaxFixtures).
inline constexpr std::size_t kMaxFixturePaths = 16;
struct BootMember {
    BootSpec spec;
};
struct StatusRequest {
    std::string name;
};
struct Stop {
    std::string name;
};
// Forget a stopped member: its reservation and address are freed, its socket unregistered.
struct Release {
    std::string name;
};
// Every member the helper knows, with its state, and its network.
struct ListRequest {};
using Request = std::variant<Hello, Bind, CreateNetwork, Reserve, BootMember, StatusRequest, Stop,
                             Release, ListRequest, Detach>;

// ---- replies --------------------------------------------------------------------------
struct HelloReply {
    int version = kProtocolVersion;
    int helper_pid = 0;
    std::vector<std::string> capabilities; // the helper's: see kCap*
    std::string mode;                      // "bound" or "detached" (HelperMode)
};
struct Ok {};
struct ErrorReply {
    std::string kind;    // fleetbox::ErrorKind as text
    std::string message; // one line
    std::string hint;
};
struct NetworkInfo {
    std::string bridge;
    std::string subnet;  // "192.168.N.0/24"
    std::string gateway; // "192.168.N.1"
    int prefix = 24;
};
struct Reservation {
    std::string ip;
    std::string mac;
};
struct PhaseTiming {
    std::string phase;
    double seconds = 0;
};
struct Booted {
    std::string ip;
    int qemu_pid = 0;
    int boot_attempts = 1;            // >1 when the boot watchdog relaunched QEMU
    std::vector<PhaseTiming> timings; // helper-side phases (qemu start, port 22 open)
};
// A member's state, the same word on the wire, in the helper and in the client.
enum class MemberState { Stopped, Starting, Running, Error };
// "stopped", "starting", "running", "error".
std::string_view to_string(MemberState state);
// nullopt for any other word.
std::optional<MemberState> parse_member_state(std::string_view text);
// Starting or running: the member holds a QEMU (or is about to).
inline bool is_active(MemberState state) {
    return state == MemberState::Starting || state == MemberState::Running;
}

struct StatusInfo {
    std::string name;
    MemberState state = MemberState::Stopped;
    std::string ip;
    int helper_pid = 0;
    int qemu_pid = 0;
    std::string error;
};
struct MemberList {
    NetworkInfo network;             // subnet empty: no network created yet
    std::vector<StatusInfo> members; // sorted by name
};
using Reply = std::variant<HelloReply, Ok, ErrorReply, NetworkInfo, Reservation, Booted, StatusInfo,
                           MemberList>;

} // namespace fleetbox::proto
