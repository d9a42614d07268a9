// Forwarding on the uplink: the interface the host reaches the internet through must forward
// for the guests' masqueraded traffic to leave, and must get its old value back once the
// last fleetbox network is gone.
//
// Rules (never the global switch):
// - conf/all/forwarding already 1: the host routes anyway; nothing is changed or recorded.
// - Otherwise the uplink is the interface of the kernel's route to a public address
//   (RTM_GETROUTE for 1.1.1.1; no packet is sent). No route: no uplink, nothing to do.
// - Its value 0: the marker <dir>/fwd-<uplink>.orig is created with O_EXCL holding "0"
//   (first writer wins: a second network finds the uplink at 1, or the marker already
//   there, and never overwrites the original value), and only then is the uplink set to 1.
// - Restore (restore_uplink_forwarding), when no record and no fbx-* interface is left:
//   each marker's value is written back and the marker removed.
// Callers hold the records lock around both, so a restore never races a network that has
// written its record but not yet turned its uplink on.
#pragma once

#include "util/error.hpp"

#include <string>
#include <vector>

namespace fleetbox {

// The public address whose route names the uplink (never contacted).
inline constexpr const char* kUplinkProbeAddress = "1.1.1.1";

struct UplinkState {
    std::string uplink;          // "" when the host forwards globally or has no route out
    bool was_forwarding = false; // its value before fleetbox looked
};

// Which interface to turn on, and its current value. No change.
Result<UplinkState> inspect_uplink();
// <dir>/fwd-<uplink>.orig
std::string forwarding_marker_path(const std::string& dir, const std::string& uplink);
// Create the marker (O_EXCL; an existing one is kept) holding "0", then set the uplink's
// forwarding to 1.
Status turn_on_uplink_forwarding(const std::string& dir, const std::string& uplink);

struct RestoredForwarding {
    std::string interface;
    int value = 0; // written back (or, dry run, that would be)
};
// For every marker in dir: write its value back to the interface (one that no longer exists
// is skipped) and remove the marker. dry_run: list them, change nothing. Every marker is
// attempted; the first error is returned after the rest were tried.
Result<std::vector<RestoredForwarding>> restore_uplink_forwarding(const std::string& dir,
                                                                  bool dry_run);
// True when no fbx-* interface exists in the caller's namespace (false on lookup failure).
bool no_fleetbox_interfaces();

} // namespace fleetbox
