// PruneReport JSON (see prune_report.hpp). Strict decoding: the non-defaulting nlohmann
// macros make every field required; validate() then checks the values themselves.
#include "proto/prune_report.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace fleetbox::proto {

using nlohmann::json;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PrunedNetwork, bridge, subnet, cluster, owner_pid, taps,
                                   killed_qemu_pids, removed, errors)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LiveNetwork, bridge, subnet, cluster, owner_pid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RestoredForwarding, interface, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PruneReport, dry_run, reclaimed, live, forwarding_restored,
                                   errors)

namespace {

constexpr std::size_t kMaxText = 4096;

bool printable(const std::string& s) {
    return s.size() <= kMaxText && std::all_of(s.begin(), s.end(), [](char c) {
               const auto u = static_cast<unsigned char>(c);
               return u >= 0x20 && u != 0x7f;
           });
}

// "<prefix>" + 8 lowercase hex digits.
bool fleetbox_name(const std::string& s, std::string_view prefix) {
    return s.size() == prefix.size() + 8 && s.compare(0, prefix.size(), prefix) == 0 &&
           std::all_of(s.begin() + static_cast<long>(prefix.size()), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Empty when fine, else what is wrong.
std::string check_network(const std::string& bridge, const std::string& subnet,
                          const std::string& cluster, int owner_pid) {
    if (!fleetbox_name(bridge, "fbx-"))
        return "'" + bridge + "' is not a fleetbox bridge name";
    if (!printable(subnet) || !printable(cluster))
        return "network " + bridge + " has unprintable text";
    if (owner_pid < 0)
        return "network " + bridge + " has a negative owner pid";
    return {};
}

std::string validate(const PruneReport& r) {
    for (const auto& n : r.reclaimed) {
        if (auto why = check_network(n.bridge, n.subnet, n.cluster, n.owner_pid); !why.empty())
            return why;
        for (const auto& tap : n.taps)
            if (!fleetbox_name(tap, "fbt-"))
                return "'" + tap + "' is not a fleetbox tap name";
        for (int pid : n.killed_qemu_pids)
            if (pid <= 0)
                return "network " + n.bridge + " lists a killed pid " + std::to_string(pid);
        if (!std::all_of(n.errors.begin(), n.errors.end(), printable))
            return "network " + n.bridge + " has an unprintable error";
    }
    for (const auto& n : r.live)
        if (auto why = check_network(n.bridge, n.subnet, n.cluster, n.owner_pid); !why.empty())
            return why;
    for (const auto& f : r.forwarding_restored)
        if (f.interface.empty() || f.interface.size() > 15 || !printable(f.interface) ||
            f.interface.find('/') != std::string::npos || (f.value != 0 && f.value != 1))
            return "bad forwarding entry for '" + f.interface + "'";
    if (!std::all_of(r.errors.begin(), r.errors.end(), printable))
        return "an error line is unprintable";
    return {};
}

} // namespace

std::string encode_prune_report(const PruneReport& report) {
    return json(report).dump();
}

Result<PruneReport> decode_prune_report(std::string_view text) {
    const std::string op = "read the reconcile report";
    PruneReport report;
    try {
        const json j = json::parse(text);
        if (!j.is_object())
            return fail(ErrorKind::Corrupt, op, "it is not a JSON object");
        report = j.get<PruneReport>();
    } catch (const json::exception& e) {
        return fail(ErrorKind::Corrupt, op, std::string("malformed report: ") + e.what());
    }
    if (auto why = validate(report); !why.empty())
        return fail(ErrorKind::Corrupt, op, why);
    return report;
}

} // namespace fleetbox::proto
