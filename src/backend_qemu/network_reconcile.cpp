// Store-level reconcile and its report conversion (see network_reconcile.hpp).
#include "backend_qemu/network_reconcile.hpp"

#include "util/strings.hpp"

#include <fmt/format.h>

namespace fleetbox::backend {

proto::PruneReport to_prune_report(const ReconcileReport& r) {
    proto::PruneReport out;
    out.dry_run = r.dry_run;
    for (const auto& n : r.reclaimed) {
        proto::PrunedNetwork p;
        p.bridge = n.bridge;
        p.subnet = n.subnet;
        p.cluster = n.cluster;
        p.owner_pid = n.owner.pid;
        p.taps = n.taps;
        p.killed_qemu_pids.assign(n.killed_qemus.begin(), n.killed_qemus.end());
        p.removed = n.removed;
        p.errors = n.errors;
        out.reclaimed.push_back(std::move(p));
    }
    for (const auto& n : r.live)
        out.live.push_back({n.bridge, n.subnet, n.cluster, n.owner.pid});
    for (const auto& f : r.forwarding_restored)
        out.forwarding_restored.push_back({f.interface, f.value});
    out.errors = r.errors;
    return out;
}

Result<ReconcileReport> reconcile_store_networks(const Store& store, bool dry_run,
                                                 bool restore_forwarding) {
    ReconcileOptions options;
    options.records_dir = FBX_TRY(store.networks_dir());
    options.dry_run = dry_run;
    options.restore_forwarding = restore_forwarding;
    return reconcile_networks(options);
}

std::vector<std::string> describe(const ReconcileReport& report) {
    std::vector<std::string> lines;
    for (const auto& n : report.reclaimed) {
        lines.push_back(fmt::format("reconcile: {} {} of dead pid {} ({} taps, {} QEMU killed){}",
                                    n.bridge, n.subnet, n.owner.pid, n.taps.size(),
                                    n.killed_qemus.size(),
                                    n.removed ? "" : ": kept its record: " + join(n.errors, "; ")));
    }
    for (const auto& f : report.forwarding_restored)
        lines.push_back(
            fmt::format("reconcile: forwarding on {} restored to {}", f.interface, f.value));
    for (const auto& e : report.errors)
        lines.push_back("reconcile: " + e);
    return lines;
}

} // namespace fleetbox::backend
