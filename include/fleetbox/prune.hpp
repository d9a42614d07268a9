// fleetbox::prune: reclaim what crashed fleetbox processes left on the host.
#pragma once

#include <fleetbox/error.hpp>
#include <fleetbox/export.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fleetbox {

// What prune() reclaimed (or, dry run, would reclaim): networks whose owner died without
// tearing them down (SIGKILL, power loss), the QEMUs still on their taps, and the uplink's
// forwarding flag once no fleetbox network is left.
struct PrunedNetwork {
    std::string bridge; // "fbx-1a2b3c4d"
    std::string subnet;
    std::string cluster;
    int owner_pid = 0;                 // the dead owner
    std::vector<std::string> taps;     // deleted
    std::vector<int> killed_qemu_pids; // SIGKILLed (pid and start time matched the record)
    bool removed = false;              // everything verified gone, record deleted
    std::vector<std::string> errors;   // why it was kept
};
struct PruneReport {
    bool dry_run = false;
    std::vector<PrunedNetwork> reclaimed;
    std::vector<std::string> live;                // bridges of running owners, left alone
    std::vector<std::string> forwarding_restored; // "eth0=0": interface=value written back
    std::vector<std::string> errors;
};
// Reclaim what crashed fleetbox processes left on the host (needs root: it runs the helper's
// reconcile). Live networks, e.g. of another process booting right now, are never touched.
// Blocks while the helper's reconcile runs (seconds). Owns nothing afterwards. Errors:
// Permission (not root), MissingDependency (no helper), ExternalCommand / Corrupt (the
// helper failed or reported something malformed), the store's (Io, Permission).
FLEETBOX_API Result<PruneReport> prune(bool dry_run = false,
                                       std::optional<std::string> store_root = std::nullopt);

} // namespace fleetbox
