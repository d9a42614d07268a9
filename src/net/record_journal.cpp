// RecordJournal (see record_journal.hpp). Lock order: the journal's mutex, then the records
// flock; nothing here calls back into Network, so there is no cycle.
#include "net/record_journal.hpp"

#include "net/uplink.hpp"

#include <algorithm>

namespace fleetbox {

namespace {

// Busy when another record claims the subnet (a corrupt record cannot claim anything).
Status check_subnet_unclaimed(const std::string& dir, const NetworkPlan& plan) {
    for (const auto& path : FBX_TRY(list_records(dir))) {
        auto other = read_record(path);
        if (!other || other->bridge == plan.bridge)
            continue;
        if (other->subnet == plan.subnet.cidr) {
            return fail(ErrorKind::Busy, "create network " + plan.bridge,
                        "subnet " + plan.subnet.cidr + " is already claimed by fleetbox network " +
                            other->bridge +
                            (other->cluster.empty() ? "" : " (cluster " + other->cluster + ")"),
                        "try again: another cluster is being started on it right now");
        }
    }
    return {};
}

} // namespace

Result<std::shared_ptr<RecordJournal>> RecordJournal::create(std::string dir, std::string cluster) {
    NetworkRecord record;
    record.cluster = std::move(cluster);
    record.owner = FBX_TRY(self_identity());
    return std::make_shared<RecordJournal>(std::move(dir), std::move(record));
}

Status RecordJournal::save() {
    if (!written_) // never resurrect a record once the network is gone
        return fail(ErrorKind::InvalidArgument, "update network record",
                    "the network has no record (not created, or already removed)");
    auto lock = FBX_TRY(lock_records(dir_));
    FBX_CHECK(write_record(dir_, record_));
    written_ = true;
    return {};
}

Status RecordJournal::bridge_planned(const NetworkPlan& plan) {
    std::lock_guard guard(mutex_);
    auto lock = FBX_TRY(lock_records(dir_));
    FBX_CHECK(check_subnet_unclaimed(dir_, plan));
    record_.bridge = plan.bridge;
    record_.subnet = plan.subnet.cidr;
    record_.taps.clear();
    record_.uplink.clear();
    record_.uplink_forwarding_orig.reset();
    FBX_CHECK(write_record(dir_, record_));
    written_ = true;
    return {};
}

Status RecordJournal::enable_uplink_forwarding() {
    std::lock_guard guard(mutex_);
    // Under the records lock: a concurrent restore sees our record and leaves the uplink be.
    auto lock = FBX_TRY(lock_records(dir_));
    const UplinkState state = FBX_TRY(inspect_uplink());
    if (state.uplink.empty())
        return {};
    record_.uplink = state.uplink;
    if (state.was_forwarding) {
        return write_record(dir_, record_);
    }
    record_.uplink_forwarding_orig = 0;
    FBX_CHECK(write_record(dir_, record_)); // write-ahead, then the marker, then the sysctl
    return turn_on_uplink_forwarding(dir_, state.uplink);
}

Status RecordJournal::tap_planned(const std::string& tap) {
    std::lock_guard guard(mutex_);
    const bool known = std::any_of(record_.taps.begin(), record_.taps.end(),
                                   [&](const TapRecord& t) { return t.name == tap; });
    if (!known)
        record_.taps.push_back(TapRecord{tap, {}});
    return save();
}

Status RecordJournal::tap_removed(const std::string& tap) {
    std::lock_guard guard(mutex_);
    std::erase_if(record_.taps, [&](const TapRecord& t) { return t.name == tap; });
    return save();
}

Status RecordJournal::qemu_launched(const std::string& tap, pid_t pid) {
    std::lock_guard guard(mutex_);
    auto it = std::find_if(record_.taps.begin(), record_.taps.end(),
                           [&](const TapRecord& t) { return t.name == tap; });
    if (it == record_.taps.end())
        return fail(ErrorKind::InvalidArgument, "record QEMU on tap " + tap,
                    "the network's record has no such tap");
    it->qemu = pid > 0 ? FBX_TRY(identify_process(pid)) : ProcessIdentity{};
    return save();
}

Status RecordJournal::network_removed() {
    std::lock_guard guard(mutex_);
    if (!written_)
        return {};
    auto lock = FBX_TRY(lock_records(dir_));
    FBX_CHECK(remove_record(dir_, record_.bridge));
    written_ = false;
    record_.taps.clear();
    // The last network gone: give the uplink its forwarding value back.
    if (FBX_TRY(list_records(dir_)).empty() && no_fleetbox_interfaces())
        FBX_TRY(restore_uplink_forwarding(dir_, false));
    return {};
}

NetworkRecord RecordJournal::record() const {
    std::lock_guard guard(mutex_);
    return record_;
}

} // namespace fleetbox
