// The state of one start (a group of members booting on one helper), shared by the
// orchestrator's files: orchestrator_group.cpp drives it, orchestrator_boot.cpp prepares,
// creates and boots one member.
//
// Why explicit state rather than locals: rollback must know, per member, exactly what this
// call did (created it? reserved it? started its QEMU?) to undo only that; and the parallel
// boots share the deadline, the cancel flag and the helper.
#pragma once

#include "client/cluster_view.hpp"
#include "client/member_files.hpp"
#include "client/orchestrator.hpp"
#include "client/vm_impl.hpp"
#include "image/cache.hpp"
#include "seed/provisioner.hpp"
#include "ssh/keys.hpp"
#include "sys/file_lock.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fleetbox::client {

struct Orchestrator::MemberBoot {
    std::string name;
    MemberFiles files;
    VmConfig config;
    bool created = false;                // this call creates the VM (rollback removes it)
    std::optional<FileLock> image_lease; // until config.json names the image
    image::ImageInfo image;
    seed::Provisioning method{};
    std::string kernel_cmdline;
    // How the image boots (proto::BootSpec's fields of the same names; the defaults are the
    // fleetbox-built image's microvm boot). A stock image: machine "q35" and kernel_root
    // "UUID=..." (direct kernel boot), or firmware_boot with no kernel (ADR 0024).
    std::string machine;
    bool firmware_boot = false;
    std::string kernel_root;
    // A stock image booted with cloud-init (nocloud): a boot or SSH wait that runs out gets
    // the "image may lack cloud-init" hint when its console shows no cloud-init banner.
    bool hint_missing_cloud_init = false;
    proto::Reservation reservation;
    bool reserved = false;
    std::vector<PhaseTiming> timings;
    int boot_attempts = 1;
    bool in_boot_rpc = false;     // under GroupBoot::failure_mutex; a stop cancels it at once
    std::unique_ptr<Vm::Impl> vm; // once its SSH answers
};

struct Orchestrator::GroupBoot {
    GroupRequest request;
    std::string cluster;
    ClusterView view;
    std::chrono::seconds boot_timeout{600};
    std::chrono::steady_clock::time_point deadline; // one for every boot-wait of the group
    ssh::KeyPair identity;
    std::vector<std::unique_ptr<MemberBoot>> members; // those this call boots, in order named
    // The request's fixtures, checked and resolved (members this call creates get them).
    std::vector<StoredFixture> fixtures;
    std::optional<HelperHandle> helper; // spawned or joined by this call
    HelperClient* client = nullptr;     // helper->client(), or the caller's (request.on_helper)
    bool joined = false;
    proto::NetworkInfo network;
    std::atomic<bool> cancelled{false}; // the first failure stops the others' waits
    std::mutex failure_mutex;
    std::optional<Error> failure; // the first member failure
    std::string failed_member;

    [[nodiscard]] bool is_group() const { return request.names.size() > 1; }
    // /etc/hosts entries for `self`: every other member of the cluster with an address (the
    // store's, and this group's fresh reservations).
    [[nodiscard]] std::vector<seed::HostEntry> peers_of(const std::string& self) const {
        std::vector<seed::HostEntry> entries;
        auto add = [&](const std::string& name, const std::string& ip) {
            bool known = std::any_of(entries.begin(), entries.end(),
                                     [&](const seed::HostEntry& e) { return e.name == name; });
            if (name != self && !ip.empty() && !known)
                entries.push_back({ip, name});
        };
        for (const auto& m : members)
            if (m->reserved)
                add(m->name, m->reservation.ip);
        for (const auto& stored : view.members)
            add(stored.name, stored.ip);
        std::sort(entries.begin(), entries.end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
        return entries;
    }
};

} // namespace fleetbox::client
