// Reconcile (see reconcile.hpp for the rules). Kernel and /proc behavior relied on:
// /proc/<pid>/fdinfo of a tun fd has a line "iff:\t<name>"; SIGKILL ends a process even
// while it holds the tap; a tap may be deleted while a process still holds it.
#include "net/reconcile.hpp"

#include "net/names.hpp"
#include "net/netlink.hpp"
#include "net/network.hpp"
#include "net/network_record.hpp"
#include "sys/fs.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

namespace fleetbox {

namespace {

bool cmdline_names_tap(const std::string& cmdline, const std::string& tap) {
    const std::string needle = "ifname=" + tap;
    for (auto at = cmdline.find(needle); at != std::string::npos;
         at = cmdline.find(needle, at + 1)) {
        const std::size_t end = at + needle.size();
        if (end == cmdline.size() || cmdline[end] == ',' || cmdline[end] == ' ')
            return true;
    }
    return false;
}

bool fd_attached_to_tap(pid_t pid, const std::string& tap) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
    auto fds = list_dir(dir);
    if (!fds)
        return false;
    for (const auto& fd : *fds) {
        auto info = read_file(dir + "/" + fd);
        if (info && info->find("iff:\t" + tap + "\n") != std::string::npos)
            return true;
    }
    return false;
}

// SIGKILL one recorded QEMU; returns true when it was (or, dry run, would be) killed. Sets
// `stuck` when it is still running afterwards.
bool kill_qemu(const TapRecord& tap, const ReconcileOptions& options, ReclaimedNetwork& out,
               bool& stuck) {
    const ProcessIdentity& q = tap.qemu;
    if (q.pid <= 0 || !process_alive(q))
        return false;
    if (!process_uses_tap(q.pid, tap.name)) {
        out.errors.push_back("process " + std::to_string(q.pid) + " does not use tap " + tap.name +
                             ", so it was left alone");
        return false;
    }
    if (options.dry_run)
        return true;
    if (::kill(q.pid, SIGKILL) != 0 && errno != ESRCH) {
        out.errors.push_back("kill QEMU " + std::to_string(q.pid) + ": " + std::strerror(errno));
        stuck = true;
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + options.kill_wait;
    while (process_alive(q) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (process_alive(q)) {
        out.errors.push_back("QEMU " + std::to_string(q.pid) + " is still running after SIGKILL");
        stuck = true;
        return false;
    }
    return true;
}

ReclaimedNetwork reclaim(const NetworkRecord& record, const ReconcileOptions& options) {
    ReclaimedNetwork out;
    out.bridge = record.bridge;
    out.subnet = record.subnet;
    out.cluster = record.cluster;
    out.owner = record.owner;
    bool stuck = false;
    for (const auto& tap : record.taps) {
        out.taps.push_back(tap.name);
        if (kill_qemu(tap, options, out, stuck))
            out.killed_qemus.push_back(tap.qemu.pid);
    }
    if (options.dry_run || stuck)
        return out; // a QEMU that would not die keeps the record: the next run retries
    Status gone = teardown_network(record.bridge, out.taps);
    if (gone)
        gone = verify_network_gone(record.bridge, out.taps);
    if (gone)
        gone = remove_record(options.records_dir, record.bridge);
    if (!gone)
        out.errors.push_back(gone.error().message());
    out.removed = gone.has_value();
    return out;
}

// Would the host be free of fleetbox networks after this run?
bool idle_after(const ReconcileReport& report, const ReconcileOptions& options) {
    if (!options.dry_run) {
        auto left = list_records(options.records_dir);
        return left && left->empty() && no_fleetbox_interfaces();
    }
    if (!report.live.empty() || !report.errors.empty())
        return false;
    auto links = list_links_with_prefix(kBridgePrefix);
    if (!links)
        return false;
    return std::all_of(links->begin(), links->end(), [&](const std::string& link) {
        return std::any_of(report.reclaimed.begin(), report.reclaimed.end(),
                           [&](const ReclaimedNetwork& n) { return n.bridge == link; });
    });
}

} // namespace

bool process_uses_tap(pid_t pid, const std::string& tap) {
    return cmdline_names_tap(process_cmdline(pid), tap) || fd_attached_to_tap(pid, tap);
}

Result<ReconcileReport> reconcile_networks(const ReconcileOptions& options) {
    const std::string op = "reconcile fleetbox networks in " + options.records_dir;
    auto lock = lock_records(options.records_dir);
    if (!lock)
        return fail(std::move(lock).error().wrap(op));
    auto paths = list_records(options.records_dir);
    if (!paths)
        return fail(std::move(paths).error().wrap(op));
    ReconcileReport report;
    report.dry_run = options.dry_run;
    for (const auto& path : *paths) {
        auto record = read_record(path);
        if (!record) {
            report.errors.push_back(record.error().message());
            continue;
        }
        if (process_alive(record->owner)) {
            report.live.push_back({record->bridge, record->subnet, record->cluster, record->owner});
            continue;
        }
        report.reclaimed.push_back(reclaim(*record, options));
    }
    if (options.restore_forwarding && idle_after(report, options)) {
        auto restored = restore_uplink_forwarding(options.records_dir, options.dry_run);
        if (restored)
            report.forwarding_restored = std::move(*restored);
        else
            report.errors.push_back(restored.error().message());
    }
    return report;
}

} // namespace fleetbox
