// Reconcile of the store's host networks, as the real helper runs it: at every start (before
// it serves), before it creates a network, and in its --reconcile mode.
//
// Why here: the helper layer links no net code (its fake twin must not), so the real
// helper's pieces that need both the store and src/net live beside QemuBackend. The result
// is converted to the protocol's PruneReport, which is what crosses to the client.
#pragma once

#include "net/reconcile.hpp"
#include "proto/prune_report.hpp"
#include "store/store.hpp"

namespace fleetbox::backend {

proto::PruneReport to_prune_report(const ReconcileReport& report);

// reconcile_networks() over store.networks_dir().
Result<ReconcileReport> reconcile_store_networks(const Store& store, bool dry_run,
                                                 bool restore_forwarding = true);

// One log line per reclaimed network / restored uplink / error; empty when nothing happened.
std::vector<std::string> describe(const ReconcileReport& report);

} // namespace fleetbox::backend
