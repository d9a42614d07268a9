// make_backend and reconcile_store for the real fleetbox-helper: the QEMU + netlink +
// nftables backend, and the net layer's reconcile of the store's network records.
//
// QEMU is forked through the helper's MainThreadExecutor so that its PR_SET_PDEATHSIG is
// tied to the helper's main thread, which lives exactly as long as the helper. Before the
// backend exists (so before the helper serves anything), the networks that dead fleetbox
// processes left behind are reclaimed and, when none is left, the uplink's forwarding is
// restored (ADR 0013); what was done goes to the helper's log. A reconcile that cannot run
// at all is logged too but does not stop the helper: its own network gets a record anyway.
#include "backend_qemu/network_reconcile.hpp"
#include "backend_qemu/qemu_backend.hpp"
#include "helper/helper_context.hpp"
#include "host/accel.hpp"
#include "store/timestamp.hpp"

#include <cstdio>

namespace fleetbox::helper {

namespace {

void log_line(const std::string& line) {
    std::fprintf(stdout, "%s %s\n", now_rfc3339().c_str(), line.c_str());
    std::fflush(stdout);
}

void reconcile_at_start(const Store& store) {
    auto report = backend::reconcile_store_networks(store, false);
    if (!report) {
        log_line("reconcile: " + report.error().message());
        return;
    }
    for (const auto& line : backend::describe(*report))
        log_line(line);
}

} // namespace

Result<std::unique_ptr<backend::Backend>> make_backend(const HelperContext& context) {
    auto accel = FBX_TRY(choose_accel());
    reconcile_at_start(context.store);
    auto* executor = &context.executor;
    auto spawn = [executor](const ChildSpec& spec) {
        return executor->run([&] { return ChildProcess::spawn(spec); });
    };
    const bool detached = context.mode == HelperMode::Detached; // exits with its last member
    return std::unique_ptr<backend::Backend>(std::make_unique<backend::QemuBackend>(
        context.store, std::move(accel), std::move(spawn), detached));
}

Result<proto::PruneReport> reconcile_store(const Store& store, bool dry_run) {
    auto report = FBX_TRY(backend::reconcile_store_networks(store, dry_run));
    return backend::to_prune_report(report);
}

} // namespace fleetbox::helper
