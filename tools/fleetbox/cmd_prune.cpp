// `fleetbox prune [--dry-run]`: reclaim what crashed fleetbox processes left on the host.
//
// A helper killed by SIGKILL (or a machine that lost power) cannot tear down its network:
// the bridge, taps, firewall table, any QEMU still on its taps and the uplink's forwarding
// flag stay behind. Every network has a write-ahead record (ADR 0013); prune runs the
// helper's reconcile over the store's records whose owner is dead and prints one line per
// thing reclaimed. Live networks (another `up` booting right now) are listed and left alone.
// `up` and `down` run the same reconcile first, quietly.
#include "cli.hpp"
#include "client/prune.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <fmt/format.h>

namespace fleetbox::cli {

namespace {

struct PruneArgs {
    bool dry_run = false;
};

Result<int> run_prune(const PruneArgs& args) {
    auto store = FBX_TRY(Store::open());
    auto report = FBX_TRY(client::prune(store, args.dry_run));
    const char* verb = report.dry_run ? "Would reclaim" : "Reclaimed";
    for (const auto& net : report.reclaimed) {
        fmt::print("{} network {} ({}{}{}), owner pid {} gone\n", verb, net.bridge, net.subnet,
                   net.cluster.empty() ? "" : ", cluster ", net.cluster, net.owner_pid);
        for (const auto& tap : net.taps)
            fmt::print("  tap {}\n", tap);
        for (int pid : net.killed_qemu_pids)
            fmt::print("  {} QEMU pid {}\n", report.dry_run ? "would kill" : "killed", pid);
        for (const auto& why : net.errors)
            fmt::print(stderr, "{}: kept: {}\n", net.bridge, why);
    }
    for (const auto& fwd : report.forwarding_restored)
        fmt::print("{} forwarding on {} to {}\n", report.dry_run ? "Would restore" : "Restored",
                   fwd.interface, fwd.value);
    for (const auto& live : report.live)
        fmt::print("Left alone: network {} ({}) of running pid {}\n", live.bridge, live.subnet,
                   live.owner_pid);
    for (const auto& why : report.errors)
        fmt::print(stderr, "prune: {}\n", why);
    if (report.reclaimed.empty() && report.forwarding_restored.empty())
        fmt::print("Nothing to reclaim\n");
    bool kept = std::any_of(report.reclaimed.begin(), report.reclaimed.end(),
                            [](const auto& net) { return !net.errors.empty(); });
    return kept || !report.errors.empty() ? 1 : 0;
}

} // namespace

void reconcile_quietly() {
    auto store = Store::open();
    if (!store)
        return;
    auto report = client::prune(*store, false);
    if (!report) {
        fmt::print(stderr, "warning: cleanup of orphaned resources failed: {}\n",
                   report.error().message());
        return;
    }
    for (const auto& net : report->reclaimed)
        fmt::print(stderr, "note: reclaimed network {} ({}) left by dead pid {}\n", net.bridge,
                   net.subnet, net.owner_pid);
}

void install_prune(CLI::App& app, Globals& /*globals*/, Action& action) {
    auto args = std::make_shared<PruneArgs>();
    auto* cmd = app.add_subcommand(
        "prune", "Reclaim bridges, taps, firewall tables and QEMUs left by crashed fleetbox runs");
    cmd->add_flag("--dry-run", args->dry_run, "List what would be reclaimed, change nothing");
    cmd->callback([&action, args] { action = [args] { return run_prune(*args); }; });
}

} // namespace fleetbox::cli
