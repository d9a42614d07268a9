// PruneReport: what `fleetbox-helper --reconcile` reclaimed (or, with --dry-run, would
// reclaim), printed as ONE JSON object on its stdout and parsed by client::prune().
//
// Why a protocol type: the client never links the net layer (no netlink, no nftables), so the
// helper's reconcile result crosses a process boundary as data. Like every message it is
// described once (nlohmann type macros) and validated when decoded: every field must be
// present with its type, bridge and tap names must look like fleetbox's, pids must be
// positive and strings printable, so a caller can print it without further checks.
// The format is documented in docs/protocol.md ("Reconcile mode").
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::proto {

struct PrunedNetwork {
    std::string bridge;                // "fbx-1a2b3c4d"
    std::string subnet;                // "192.168.0.0/24"
    std::string cluster;               // may be empty
    int owner_pid = 0;                 // the dead owner
    std::vector<std::string> taps;     // deleted (dry run: would be)
    std::vector<int> killed_qemu_pids; // SIGKILLed (dry run: would be)
    bool removed = false;              // everything verified gone and the record deleted
    std::vector<std::string> errors;   // why the record was kept, one line each
};

struct LiveNetwork {
    std::string bridge;
    std::string subnet;
    std::string cluster;
    int owner_pid = 0;
};

struct RestoredForwarding {
    std::string interface;
    int value = 0; // the original per-interface forwarding value written back
};

struct PruneReport {
    bool dry_run = false;
    std::vector<PrunedNetwork> reclaimed;
    std::vector<LiveNetwork> live; // records of running owners, left alone
    std::vector<RestoredForwarding> forwarding_restored;
    std::vector<std::string> errors;
};

// One line of JSON, no newline.
std::string encode_prune_report(const PruneReport& report);
// Corrupt ("read the reconcile report: ...") when it is not exactly one valid report.
Result<PruneReport> decode_prune_report(std::string_view text);

} // namespace fleetbox::proto
