// manifest.json: what a cached image is, and the proof that its build completed.
//
// Why: an image directory is trusted only when its manifest parses and names every file
// with its size (the manifest is written last, inside the temporary build directory, and
// the directory is renamed into the cache only after it is complete). The sha256 of each
// file lets tests and users verify the bytes; the kernel command line and root device travel
// with the image, so a VM boots a cached image the way it was built to be booted.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::image {

inline constexpr int kManifestVersion = 1;
inline constexpr const char* kManifestName = "manifest.json";
inline constexpr const char* kDiskName = "disk.qcow2";
inline constexpr const char* kKernelName = "vmlinuz";
inline constexpr const char* kInitrdName = "initrd.img";

struct ManifestFile {
    std::string name; // relative to the image directory
    std::uint64_t size = 0;
    std::string sha256; // lowercase hex
};

// One way this image's guest can be configured (seed/provisioner.hpp), with the kernel
// command line words that select it in the guest (the image's units define them).
struct ProvisioningMethod {
    std::string method;         // "fleetbox-seed" or "nocloud"
    std::string kernel_cmdline; // appended to the boot command line for this method
};

// What a manifest written before the fast path means: NoCloud, with cloud-config and
// cloud-final masked (they only compete with sshd for the vCPUs).
std::vector<ProvisioningMethod> legacy_provisioning();

struct PhaseTime {
    std::string name; // bootstrap, kernel, mkfs, convert, manifest
    double seconds = 0;
};

// Where an image that fleetbox did not build came from ("pulled": downloaded or imported).
// Absent (kind empty) for images fleetbox builds from packages.
struct ImageOrigin {
    std::string kind;            // "cloud" (catalog alias), "url", "file"; "" = built by fleetbox
    std::string given;           // as the user wrote it: alias, URL (with its #pin), or path
    std::string url;             // cloud, url: what was downloaded (no fragment)
    std::string path;            // file: the absolute path imported
    std::string digest;          // the pin checked at download ("sha512:..."), "" when unpinned
    std::string sha256;          // of the file as received (before any conversion)
    std::uint64_t size = 0;      // of the file as received
    std::string format;          // "qcow2" or "raw": of the file as received
    std::int64_t mtime_ns = 0;   // file: its mtime at import (a changed file is re-imported)
    std::string catalog_checked; // cloud: the date the catalog's pins were last checked
    std::string os_name;         // PRETTY_NAME of the image's os-release, "" when unread
    int has_cloud_init = -1;     // 1 / 0 found or not in the image's root; -1 unknown
};

// How the image boots. Defaults: a fleetbox-built image (microvm, its kernel, root /dev/vda).
struct BootConfig {
    std::string mode = "kernel";     // "kernel" (direct: vmlinuz + initrd.img) or "firmware"
    std::string machine = "microvm"; // "microvm" or "q35" (stock images: PCI virtio)
    std::string root = "/dev/vda";   // root= for direct kernel boot, e.g. "UUID=..."

    [[nodiscard]] bool firmware() const { return mode == "firmware"; }
};

struct Manifest {
    int version = kManifestVersion;
    std::string alias;
    std::string description;
    std::string built_at; // RFC 3339 UTC, e.g. 2026-11-28T18:30:00Z
    double build_seconds = 0;
    std::uint64_t virtual_size = 0; // of disk.qcow2 (= the ext4 filesystem size)
    std::string kernel_version;     // e.g. 6.1.0-28-cloud-amd64
    std::string kernel_cmdline;
    std::string root_device;
    std::string suite;
    std::vector<std::string> packages;
    std::vector<std::string> mirrors;
    std::string recipe; // recipe_fingerprint() of the build; "" before it existed
    std::vector<std::string> boot_markers; // console line prefixes the guest prints, in boot order
    // Preferred first. Absent in manifests from before the fast path: legacy_provisioning().
    std::vector<ProvisioningMethod> provisioning;
    std::vector<ManifestFile> files;
    std::vector<PhaseTime> phases; // where the build time went (diagnostics, bench)
    ImageOrigin origin;            // pulled images only
    BootConfig boot;

    [[nodiscard]] bool pulled() const { return !origin.kind.empty(); }

    [[nodiscard]] const ManifestFile* file(const std::string& name) const;
    [[nodiscard]] const ProvisioningMethod* method(const std::string& name) const;
    [[nodiscard]] std::vector<std::string> method_names() const;
};

std::string manifest_to_json(const Manifest& m);
// Corrupt when the text is not a complete manifest of a known version.
Result<Manifest> manifest_from_json(const std::string& text);

// The files an entry must have: disk.qcow2 always, vmlinuz and initrd.img for kernel boot.
std::vector<std::string> required_files(const BootConfig& boot);

// Read <dir>/manifest.json and check that every file it names exists with its recorded
// size (sizes only: hashing a 400 MB disk on every lookup would cost seconds).
Result<Manifest> load_manifest(const std::string& dir);

// RFC 3339 UTC of the current time.
std::string now_rfc3339();

} // namespace fleetbox::image
