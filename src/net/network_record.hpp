// The write-ahead record of one host network: networks/<bridge>.json.
//
// Why write-ahead: the helper that builds a bridge, its taps and its firewall table can die
// at any instant (SIGKILL, OOM, power). Each kernel object is named in the record BEFORE it
// is created, and the record is removed only after teardown has been verified, so at every
// moment every fleetbox object on the host is named by some record; reconcile
// (reconcile.hpp) reads the records of dead owners and removes exactly what they name.
// The owner and each QEMU are identified by pid AND start time (sys/process_identity.hpp),
// so a reused pid never makes a dead network look alive or gets an innocent process killed.
//
// Format (indented JSON, written atomically with AtomicFile):
//   {"bridge": "fbx-1a2b3c4d", "subnet": "192.168.0.0/24", "cluster": "web",
//    "owner": {"pid": 4242, "start_time": 123456},
//    "taps": [{"name": "fbt-0badcafe", "qemu_pid": 4300, "qemu_start_time": 123999}],
//    "uplink": "eth0", "uplink_forwarding_orig": 0}
// qemu_pid/qemu_start_time are 0 until a QEMU runs on the tap; uplink is "" when none was
// found (or the host forwards globally); uplink_forwarding_orig is present only when this
// network switched the uplink's forwarding on. Reading validates every name, so a damaged
// or hand-edited record can never make reconcile touch a non-fleetbox interface.
//
// Callers hold lock_records() (an flock on networks/.lock) around writes and removals.
#pragma once

#include "sys/file_lock.hpp"
#include "sys/process_identity.hpp"
#include "util/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox {

struct TapRecord {
    std::string name;
    ProcessIdentity qemu; // {0, 0} until a QEMU is launched on the tap

    friend bool operator==(const TapRecord&, const TapRecord&) = default;
};

struct NetworkRecord {
    std::string bridge;
    std::string subnet;
    std::string cluster; // may be empty
    ProcessIdentity owner;
    std::vector<TapRecord> taps;
    std::string uplink;                        // "" when fleetbox did not look at one
    std::optional<int> uplink_forwarding_orig; // set when this network turned it on

    friend bool operator==(const NetworkRecord&, const NetworkRecord&) = default;
};

std::string encode_record(const NetworkRecord& record);
// Corrupt (naming `origin`) for bad JSON, a missing field or a non-fleetbox name.
Result<NetworkRecord> decode_record(std::string_view text, const std::string& origin);

// <dir>/<bridge>.json
std::string record_path(const std::string& dir, const std::string& bridge);
// Exclusive flock on <dir>/.lock, waiting for other helpers.
Result<FileLock> lock_records(const std::string& dir);
// Atomic write (temp + fsync + rename + fsync dir).
Status write_record(const std::string& dir, const NetworkRecord& record);
Result<NetworkRecord> read_record(const std::string& path);
// Delete <dir>/<bridge>.json; a missing record is success.
Status remove_record(const std::string& dir, const std::string& bridge);
// Paths of the record files in dir ("fbx-<8 hex>.json"), sorted; a missing dir is empty.
Result<std::vector<std::string>> list_records(const std::string& dir);

} // namespace fleetbox
