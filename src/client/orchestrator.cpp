// Orchestrator: start/attach/status/stop/destroy of one VM (see orchestrator.hpp for why).
//
// start() phases, each timed into <member>/timings.json: image (ensure the cached base),
// helper (join the cluster's or start one), network (bridge + address reservation), disk
// (qcow2 overlay), seed (host key + fleetbox seed or NoCloud ISO), then the helper's own
// phases (QEMU start, port 22 open) and finally "ssh ready" (an authenticated exec of
// `true`). The guest's own phases come from its console markers (guest_phases.hpp).
#include "client/orchestrator.hpp"

#include "client/member_files.hpp"
#include "client/member_state.hpp"
#include "client/preflight.hpp"
#include "client/vm_impl.hpp"
#include "image/cache.hpp"
#include "image/overlay.hpp"
#include "seed/provisioner.hpp"
#include "ssh/keys.hpp"
#include "store/names.hpp"
#include "sys/fs.hpp"
#include "sys/user.hpp"

#include <chrono>
#include <fmt/format.h>

namespace fleetbox::client {

Status check_start_options(const Options& o) {
    if (o.cpus < 1)
        return fail(ErrorKind::InvalidArgument, "start VM",
                    fmt::format("--cpus must be at least 1, got {}", o.cpus));
    if (o.memory_mb < 256)
        return fail(ErrorKind::InvalidArgument, "start VM",
                    fmt::format("--mem must be at least 256 MiB, got {} MiB", o.memory_mb));
    if (o.disk_mb < 1)
        return fail(ErrorKind::InvalidArgument, "start VM", "--disk must be more than 0");
    if (!o.provisioning.empty())
        FBX_CHECK(seed::parse_provisioning(o.provisioning));
    return {};
}

Result<Orchestrator> Orchestrator::open(std::optional<std::string> store_root,
                                        std::function<void(const std::string&)> log) {
    auto store = FBX_TRY(Store::open(std::move(store_root)));
    auto launcher = FBX_TRY(HelperLauncher::create());
    return Orchestrator(std::move(store), std::move(launcher), std::move(log));
}

Result<proto::StatusInfo> Orchestrator::status(const std::string& name) const {
    FBX_CHECK(validate_vm_name(name));
    if (!store_.exists(name))
        return fail(ErrorKind::NotFound, fmt::format("VM \"{}\" does not exist", name));
    return member_status(store_, launcher_, name);
}

Result<std::unique_ptr<Vm::Impl>> Orchestrator::attach(const std::string& name) {
    auto st = FBX_TRY(status(name));
    if (st.state != proto::MemberState::Running)
        return fail(ErrorKind::InvalidArgument, fmt::format("VM \"{}\" is not running", name), {},
                    fmt::format("start it with: fleetbox up {}", name));
    auto files = FBX_TRY(MemberFiles::of(store_, name));
    auto impl = std::make_unique<Vm::Impl>(
        name, st.ip, store_, ssh_target(store_, files, name, st.ip), std::chrono::seconds(30));
    impl->attached_ = FBX_TRY(launcher_.attach(store_, name));
    impl->timings_ = read_timings(files);
    return impl;
}

Result<bool> Orchestrator::stop(const std::string& name) {
    auto st = FBX_TRY(status(name));
    // Any state but stopped goes to the helper: an errored member's helper cleans up after it
    // (and, detached, exits when nothing is left), so `down` never leaves a dead end.
    if (st.state == proto::MemberState::Stopped)
        return false;
    auto remote = FBX_TRY(launcher_.attach(store_, name));
    FBX_CHECK(
        remote->stop(name).map_error([&](Error e) { return std::move(e).wrap("stop " + name); }));
    return true;
}

Status Orchestrator::destroy(const std::string& name) {
    FBX_CHECK(validate_vm_name(name));
    // The lock first: an `up` holds it from before it looks at the disk until its VM runs,
    // so it can never boot into a disk that is being deleted, and it finds either the VM as
    // it was or none at all.
    auto lock = FBX_TRY(store_.lock_member_wait(name, std::chrono::seconds(30)));
    // The logs of a failed first boot are all that remains of a VM that never came up.
    bool had_failed_boot = is_directory(FBX_TRY(store_.failed_boot_dir(name)));
    FBX_CHECK(store_.forget_failed_boot(name));
    if (!store_.exists(name) && !is_directory(FBX_TRY(store_.member_dir(name)))) {
        if (had_failed_boot)
            return {};
        return fail(ErrorKind::NotFound, fmt::format("VM \"{}\" does not exist", name));
    }
    // Delete only once its helper confirmed QEMU is gone, or no helper answers at all.
    FBX_CHECK(ensure_member_down(store_, launcher_, name));
    return store_.remove(name);
}

} // namespace fleetbox::client
