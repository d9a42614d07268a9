// Orchestrator: the client side of a VM's and a cluster's lifecycle.
//
// It resolves the per-call dependencies once (store, SSH identity, image), builds the disk
// overlay, host key and seed at create, finds the cluster's helper or spawns it and drives it
// over the control protocol (through HelperClient: no QEMU or netlink code is linked here),
// then waits for an authenticated SSH exec. The member lock serializes lifecycle calls on one
// name, so two concurrent starts never put two QEMUs on one disk: the second one finds the VM
// running. A group (a cluster's members) boots in parallel on one helper under one deadline;
// the first member to fail cancels the others. A failed start rolls back what it started (a
// VM created by this call is removed; an existing VM is only stopped, its disk kept; a member
// that was already running is never touched).
#pragma once

#include "client/helper_launcher.hpp"
#include "image/progress.hpp"
#include "proto/messages.hpp"
#include "store/store.hpp"

#include <chrono>
#include <fleetbox/fleetbox.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fleetbox::client {

struct StartRequest {
    std::string name;
    Options options;
    bool options_given = false; // the caller set create-only options explicitly (for the note)
    HelperMode lifetime = HelperMode::Bound;
    image::ProgressMode image_progress = image::ProgressMode::Quiet;
};

// Several members started as one cluster (`up web -n 3`, `up a b c`, start_cluster, add_member).
struct GroupRequest {
    std::vector<std::string> names; // in the order the caller gave them; at least one
    Options options;
    bool options_given = false;
    HelperMode lifetime = HelperMode::Bound;
    image::ProgressMode image_progress = image::ProgressMode::Quiet;
    // The cluster new members are recorded in; empty: the recorded cluster of the first
    // existing member named, else the first name's (web-1 -> web, a -> a).
    std::string cluster;
    // add_member: boot onto the live helper already serving this member (an error when none).
    std::string join_sibling;
    // Cluster::add: boot onto this helper (the caller's Cluster owns it).
    HelperClient* on_helper = nullptr;
};

struct GroupStart {
    // The helper the members run on (spawned by this call, or joined); empty when every member
    // named was already running.
    std::optional<HelperHandle> helper;
    bool joined = false;                        // the helper was running before this call
    std::vector<std::unique_ptr<Vm::Impl>> vms; // in the order named
    std::vector<std::string> started;           // the members this call booted
    std::string cluster;
};

// At least one name, each a valid VM name, none twice (one clear error otherwise).
Status check_member_names(const std::vector<std::string>& names);

// cpus >= 1, memory >= 256 MiB, disk > 0 (one clear error naming the flag otherwise).
Status check_start_options(const Options& options);

class Orchestrator {
public:
    static Result<Orchestrator> open(std::optional<std::string> store_root,
                                     std::function<void(const std::string&)> log = {});

    Result<std::unique_ptr<Vm::Impl>> start(const StartRequest& request);
    // Start several members as one cluster on one helper (see GroupRequest). Members already
    // running are attached (they must all be on one helper, which the others then join).
    Result<GroupStart> start_group(const GroupRequest& request);
    // A handle on a running VM (NotFound / "is not running" errors otherwise).
    Result<std::unique_ptr<Vm::Impl>> attach(const std::string& name);
    // Running, starting, stopped or error; stopped when no helper answers on its socket (no
    // socket, or refused). Any other failure to ask (permission, another user's or version's
    // helper, a timeout) is an error: the state is unknown (member_state.hpp).
    Result<proto::StatusInfo> status(const std::string& name) const;
    // Stops a VM in any state but stopped (running, starting, or error: the helper then cleans
    // up after it); success with false when it is stopped (no helper holds it).
    Result<bool> stop(const std::string& name);
    // Under the member's lock: stops it if running, then deletes its directory once its
    // helper confirmed it down (or no helper answers). A missing VM is NotFound; when its
    // state cannot be learned, an error and nothing is deleted.
    Status destroy(const std::string& name);

    [[nodiscard]] const Store& store() const { return store_; }

private:
    Orchestrator(Store store, HelperLauncher launcher, std::function<void(const std::string&)> log)
        : store_(std::move(store)), launcher_(std::move(launcher)), log_(std::move(log)) {}
    struct MemberBoot;
    struct GroupBoot;
    // Image, provisioning method and member directory of a member about to boot.
    Status prepare_member(MemberBoot& member, const GroupRequest& request);
    // config.json, disk overlay, host key and seed of a member this call creates.
    Status create_member(MemberBoot& member, GroupBoot& group);
    // boot-member, then the SSH wait, both bounded by the group's deadline.
    Status boot_member(MemberBoot& member, GroupBoot& group);
    Status boot_group(GroupBoot& group);
    // The group's helper: the caller's, the cluster's live one, or a new one. Returns the
    // cluster lock (held until every member is reserved on it).
    Result<std::optional<FileLock>> attach_group_helper(GroupBoot& group);
    Status boot_all(GroupBoot& group);
    // After a start: push the cluster's names to every running member (warnings only).
    void publish_names(GroupBoot& group);
    // Stops what the group started; removes the members this call created, keeping their
    // logs. Returns the first failure's error, pointing at the kept logs.
    Error rollback(GroupBoot& group, Error error);
    void note(const std::string& line) const {
        if (log_)
            log_(line);
    }

    Store store_;
    HelperLauncher launcher_;
    std::function<void(const std::string&)> log_;
};

} // namespace fleetbox::client
