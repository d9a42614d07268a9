// config.json: the one record of a VM, written once when the VM is created.
//
// Why a schema `version`: the file outlives the binary that wrote it. A fleetbox that finds a
// version newer than it understands refuses with a clear message instead of misreading the
// file; a file without `version` (written by the original tool) is read as version 1, whose
// fields are the original's. Unknown fields are ignored, so adding an optional field does not
// need a new version.
//
// Layout (indented JSON, mode 0600, keys in this order): version, name, mac, cpus, memory_mb,
// disk_mb, image, created_at (RFC 3339), ip (omitted when empty), provisioning (how the guest
// is configured: "fleetbox-seed" or "nocloud"; a file without it is "nocloud", the only way
// before the fast path), fixtures (omitted when empty; a list of {host_path, guest_path, label}),
// cluster (the group whose network the VM joins: web-1 and web-2 are "web" by name, `up a b c`
// makes a, b and c one cluster "a"; a file without it is the name's cluster).
#pragma once

#include "util/error.hpp"
#include "util/provisioning_methods.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox {

inline constexpr int kConfigVersion = 1;

// A read-only fixture as recorded at create (the public fleetbox::Fixture plus its label).
struct StoredFixture {
    std::string host_path;
    std::string guest_path;
    std::string label;
    bool operator==(const StoredFixture&) const = default;
};

struct VmConfig {
    int version = kConfigVersion;
    std::string name;
    std::string mac; // lowercase, colon-separated (see mac_for_name)
    int cpus = 0;
    std::int64_t memory_mb = 0;
    std::int64_t disk_mb = 0;
    std::string image;                         // the image alias or URL as the user gave it
    std::string created_at;                    // RFC 3339, written as UTC with microseconds
    std::string ip;                            // static IPv4 address; empty when not assigned
    std::string provisioning = kMethodNoCloud; // chosen at create from the image
    std::vector<StoredFixture> fixtures;
    std::string cluster; // network group; new_vm_config sets cluster_name(name)
    bool operator==(const VmConfig&) const = default;
};

// A config for a new VM: the MAC derived from the name, created_at = now.
[[nodiscard]] VmConfig new_vm_config(std::string name, int cpus, std::int64_t memory_mb,
                                     std::int64_t disk_mb, std::string image);

// InvalidArgument naming the first field that is wrong (name not a valid VM name, cpus < 1,
// malformed mac/created_at/ip, ...). Used before writing and after reading.
Status check_config(const VmConfig& config);

// Indented JSON with a trailing newline. Always writes the current schema version.
[[nodiscard]] std::string serialize_config(const VmConfig& config);

// Parse the text of `path` (the path only names the file in errors). Errors are Corrupt, one
// line naming the file and what is wrong, e.g.
//   read config /home/u/.fleetbox/clusters/web/web-1/config.json: invalid JSON: parse error at
//   line 1, column 12: ...
// with the hint "remove the VM with `fleetbox rm web-1` or fix the file"; a newer schema
// version says "written by a newer fleetbox (schema version N)".
Result<VmConfig> parse_config(std::string_view text, const std::string& path);

// read_file + parse_config. A missing file is NotFound.
Result<VmConfig> read_config(const std::string& path);

} // namespace fleetbox
