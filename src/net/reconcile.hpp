// Reconcile: reclaim the host networks of fleetbox processes that died without cleaning up.
//
// For every record in the records directory (networks/) whose owner is dead (pid + start
// time, sys/process_identity.hpp):
//   1. SIGKILL each QEMU recorded on its taps that is still alive with the recorded start
//      time AND still uses that tap (its command line names "ifname=<tap>" or one of its
//      fds is attached to it); a process that fails either test is never signalled.
//   2. Delete the taps, the nft table and the bridge (teardown_network), verify they are
//      gone, and only then remove the record. Anything left keeps the record for next time.
// Records of live owners are never touched. Then, when no record and no fbx-* interface is
// left, the uplink forwarding markers are written back (uplink.hpp), unless
// restore_forwarding is off (the helper's pre-create reconcile: it is about to need it).
// dry_run reports what would be done and changes nothing.
//
// Only objects named in records are reclaimed, never a stray fbx-/fbt-/fbx_ object found by
// name (ADR 0013): records are written before each kernel change, so such a stray belongs
// to a process that is creating it right now or to something that is not ours.
// The whole run holds the records lock, so it never races a helper writing its record.
#pragma once

#include "net/uplink.hpp"
#include "sys/process_identity.hpp"
#include "util/error.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace fleetbox {

struct ReconcileOptions {
    std::string records_dir;
    bool dry_run = false;
    bool restore_forwarding = true;
    // How long a SIGKILLed QEMU may take to disappear before it is reported.
    std::chrono::milliseconds kill_wait{5000};
};

struct ReclaimedNetwork {
    std::string bridge;
    std::string subnet;
    std::string cluster;
    ProcessIdentity owner;           // the dead owner
    std::vector<std::string> taps;   // the record's taps (deleted, or would be)
    std::vector<pid_t> killed_qemus; // SIGKILLed (dry run: would be)
    bool removed = false;            // teardown verified and record deleted
    std::vector<std::string> errors; // one line each; the record is kept when non-empty
};

struct LiveNetwork {
    std::string bridge;
    std::string subnet;
    std::string cluster;
    ProcessIdentity owner;
};

struct ReconcileReport {
    bool dry_run = false;
    std::vector<ReclaimedNetwork> reclaimed;
    std::vector<LiveNetwork> live; // left alone
    std::vector<RestoredForwarding> forwarding_restored;
    std::vector<std::string> errors; // unreadable records, a failed forwarding restore
};

// Fails only when the records directory cannot be locked or listed; everything else is
// reported per record.
Result<ReconcileReport> reconcile_networks(const ReconcileOptions& options);

// True when `pid` uses tap `tap`: its command line has "ifname=<tap>" (followed by ',' or
// the end of an argument) or one of its fds is attached to it (/proc/<pid>/fdinfo "iff:").
bool process_uses_tap(pid_t pid, const std::string& tap);

} // namespace fleetbox
