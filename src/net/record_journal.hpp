// RecordJournal: the NetworkJournal that keeps networks/<bridge>.json (network_record.hpp)
// up to date for the network this process owns, and turns the uplink's forwarding on.
//
// Why a journal object rather than record writes in Network: src/net stays testable without
// the store (tests pass a temporary directory or a failing journal), and the QEMU backend,
// which knows about QEMU processes, adds their pid + start time through qemu_launched().
// Every write is atomic and made under the records lock (lock_records), so a reconcile
// never reads a half-written record and two helpers never race on a subnet: planning a
// bridge fails (Busy) when another record already claims the same subnet. The owner is this
// process (pid + start time), taken when the journal is created.
#pragma once

#include "net/network.hpp"
#include "net/network_record.hpp"

#include <memory>
#include <mutex>
#include <string>

namespace fleetbox {

class RecordJournal final : public NetworkJournal {
public:
    // `dir` must exist (the store's networks/). The owner is the calling process.
    static Result<std::shared_ptr<RecordJournal>> create(std::string dir, std::string cluster);

    Status bridge_planned(const NetworkPlan& plan) override;
    Status enable_uplink_forwarding() override;
    Status tap_planned(const std::string& tap) override;
    Status tap_removed(const std::string& tap) override;
    // Removes the record; then, when no record and no fbx-* interface is left, writes the
    // uplink forwarding markers back (restore_uplink_forwarding).
    Status network_removed() override;

    // A QEMU now runs on `tap`: record its pid and start time (pid 0 clears them).
    Status qemu_launched(const std::string& tap, pid_t pid);

    [[nodiscard]] NetworkRecord record() const;
    [[nodiscard]] const std::string& dir() const { return dir_; }

    RecordJournal(std::string dir, NetworkRecord record)
        : dir_(std::move(dir)), record_(std::move(record)) {}

private:
    Status save(); // caller holds mutex_; takes the records lock

    mutable std::mutex mutex_;
    std::string dir_;
    NetworkRecord record_;
    bool written_ = false; // the record file exists
};

} // namespace fleetbox
