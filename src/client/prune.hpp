// prune: reclaim the host networks (bridge, taps, firewall table, leftover QEMUs, uplink
// forwarding) that crashed fleetbox processes left behind, by running the helper in its
// reconcile mode and reading its report.
//
// Why through the helper: reclaiming needs CAP_NET_ADMIN, which the helper binary has (the
// client never links netlink or nftables code), and the helper is the one place that knows
// the record format (ADR 0013). `fleetbox-helper --reconcile --store ROOT [--dry-run]` prints
// ONE JSON object (docs/protocol.md, "Reconcile mode"); it is treated as data: decoded
// strictly and validated (proto/prune_report.hpp) before anyone prints it.
#pragma once

#include "proto/prune_report.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <chrono>
#include <string>

namespace fleetbox::client {

using PruneReport = proto::PruneReport;

struct PruneOptions {
    bool dry_run = false;    // report what would be reclaimed, change nothing
    std::string helper_path; // empty: HelperLauncher::locate()
    std::chrono::milliseconds timeout{std::chrono::minutes(2)};
};

// Run the helper's reconcile over `store`. Errors: the helper is missing
// (MissingDependency), it failed (its one-line reason; Permission with the sudo hint when it
// lacked CAP_NET_ADMIN), timed out, or printed something that is not a valid report (Corrupt).
Result<PruneReport> prune(const Store& store, const PruneOptions& options);
Result<PruneReport> prune(const Store& store, bool dry_run);

} // namespace fleetbox::client
