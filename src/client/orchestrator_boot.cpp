// One member's part of a start: prepare (image, provisioning method), create (config, disk,
// host key, seed), boot (boot-member, then the SSH wait). orchestrator_group.cpp runs these
// for every member of a group and owns the helper, the deadline and the rollback.
//
// Rollback rule (the original's, kept): a VM this call created is removed entirely on
// failure; a VM that existed before is only stopped, so a failed `up` never deletes a disk
// that held data.
#include "client/boot_hint.hpp"
#include "client/fixtures.hpp"
#include "client/group_boot.hpp"
#include "client/guest_phases.hpp"
#include "client/image_guard.hpp"
#include "image/cache.hpp"
#include "image/overlay.hpp"
#include "util/clock.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace fleetbox::client {

namespace {
using Clock = std::chrono::steady_clock;

// Runs f, appends its duration to timings under `phase`.
template <typename F>
auto timed(std::vector<PhaseTiming>& timings, const char* phase, F&& f) -> decltype(f()) {
    auto t0 = Clock::now();
    auto result = f();
    timings.push_back({phase, seconds_since(t0)});
    return result;
}

// The group's deadline as a timeout from now, rounded up to whole seconds (truncating would
// turn `--boot-timeout 2` into a 1 s wait, since some milliseconds have always passed), and
// at least 1 s, so a late member still gets a clear timeout error rather than none.
std::chrono::seconds remaining(Clock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::seconds>(deadline - Clock::now());
    return std::max(left, std::chrono::seconds(1));
}
} // namespace

Status Orchestrator::prepare_member(MemberBoot& m, const GroupRequest& request) {
    const auto& opts = request.options;
    // A new VM takes what --image names (alias, URL, file); an existing one the cache name
    // its config stored at create.
    const auto source = FBX_TRY(image::parse_image_source(m.created ? opts.image : m.config.image));
    const std::string& alias = source.name;
    image::BuildOptions build;
    build.progress = request.image_progress;
    // A pulled image is pulled again when its file changed or its pin differs: never under VMs.
    build.may_replace = [this, &alias] {
        return refuse_while_in_use(store_, alias, "replace", "VM disks are overlays on it");
    };
    image::ImageCache cache(store_.images_dir());
    // The lease keeps `image rm` / `build --force` from swapping the base until config.json
    // (which names the image) exists; from then on they see this VM and refuse.
    auto lease = FBX_TRY(timed(m.timings, "image", [&] { return cache.lease(source, build); }));
    const image::ImageInfo& image = lease.info;
    if (m.created)
        m.image_lease.emplace(std::move(lease.lock));
    m.image = image;

    if (m.created && (opts.disk_mb << 20) < image.manifest.virtual_size)
        return fail(ErrorKind::InvalidArgument, "create " + m.name,
                    fmt::format("requested disk size {} MiB is smaller than the image {} ({} MiB)",
                                opts.disk_mb, alias, image.manifest.virtual_size >> 20),
                    fmt::format("use --disk {}M or more", (image.manifest.virtual_size >> 20) + 1));
    if (m.created && image.outdated && image.manifest.pulled())
        note(fmt::format("note: image {} is an older build than the catalog names now; "
                         "`fleetbox image pull --force {}` fetches the current one (once no VM "
                         "uses it)",
                         alias, alias));
    else if (m.created && image.outdated)
        note(fmt::format(
            "note: image {} was built by an older fleetbox{}; `fleetbox image build --force {}` "
            "rebuilds it (once no VM uses it)",
            alias, image.manifest.method(kMethodFleetboxSeed) ? "" : " (no fast boot path)",
            alias));

    if (m.created) {
        std::optional<seed::Provisioning> requested;
        if (!opts.provisioning.empty())
            requested = FBX_TRY(seed::parse_provisioning(opts.provisioning));
        m.method =
            FBX_TRY(seed::choose_provisioning(image.manifest.method_names(), requested, alias));
    } else {
        m.method = FBX_TRY(seed::parse_provisioning(m.config.provisioning));
    }
    const auto* entry = image.manifest.method(std::string(seed::to_string(m.method)));
    if (!entry)
        return fail(
            ErrorKind::InvalidArgument, "boot " + m.name,
            fmt::format("its image {} no longer supports {}, which configured this VM", alias,
                        seed::to_string(m.method)),
            fmt::format("recreate it: fleetbox rm -f {} && fleetbox up {}", m.name, m.name));
    m.kernel_cmdline = entry->kernel_cmdline;
    // How it boots: the manifest's word (ADR 0024); a built image keeps the microvm defaults.
    const auto& boot = image.manifest.boot;
    if (boot.machine != "microvm")
        m.machine = boot.machine;
    m.firmware_boot = boot.firmware();
    if (!boot.firmware() && boot.root != "/dev/vda")
        m.kernel_root = boot.root;
    m.hint_missing_cloud_init = image.manifest.pulled() && m.method == seed::Provisioning::NoCloud;
    FBX_TRY(store_.ensure_member_dir(m.name));
    return {};
}

Status Orchestrator::create_member(MemberBoot& m, GroupBoot& group) {
    const auto& opts = group.request.options;
    m.config = new_vm_config(m.name, opts.cpus, static_cast<std::int64_t>(opts.memory_mb),
                             static_cast<std::int64_t>(opts.disk_mb), m.image.alias);
    m.config.cluster = group.cluster;
    m.config.provisioning = std::string(seed::to_string(m.method));
    m.config.mac = m.reservation.mac.empty() ? m.config.mac : m.reservation.mac;
    m.config.ip = m.reservation.ip;
    m.config.fixtures = group.fixtures;
    FBX_CHECK(timed(m.timings, "disk", [&] {
        return image::create_overlay(m.image, m.files.disk, opts.disk_mb << 20);
    }));
    auto write_seed = [&]() -> Status {
        auto host_key = FBX_TRY(create_host_key(m.files, m.name));
        FBX_CHECK(write_known_hosts(m.files, m.config.ip, host_key));
        seed::SeedSpec spec;
        spec.name = m.name;
        spec.user_public_key = group.identity.public_line;
        spec.host_key = host_key;
        spec.mac = m.config.mac;
        spec.ip_cidr = fmt::format("{}/{}", m.config.ip, group.network.prefix);
        spec.gateway = group.network.gateway;
        spec.hosts = group.peers_of(m.name);
        spec.mounts = seed_mounts(m.config.fixtures);
        return seed::provisioner_for(m.method).write_seed(spec, seed_path(m.files, m.method));
    };
    FBX_CHECK(timed(m.timings, "seed", write_seed));
    FBX_CHECK(store_.create(m.config));
    m.image_lease.reset();
    return {};
}

Status Orchestrator::boot_member(MemberBoot& m, GroupBoot& group) {
    auto& client = *group.client;
    proto::BootSpec spec;
    spec.name = m.name;
    spec.member_dir = m.files.dir;
    spec.disk_path = m.files.disk;
    spec.base_image_path = m.image.disk_path;
    spec.seed_path = seed_path(m.files, m.method);
    spec.kernel_cmdline_extra = m.kernel_cmdline;
    spec.kernel_path = m.image.kernel_path;
    spec.initrd_path = m.image.initrd_path;
    spec.machine = m.machine;
    spec.firmware_boot = m.firmware_boot;
    spec.kernel_root = m.kernel_root;
    if (m.firmware_boot) { // the firmware boots the disk's own kernel, with its own line
        spec.kernel_path.clear();
        spec.initrd_path.clear();
        spec.kernel_cmdline_extra.clear();
    }
    spec.mac = m.config.mac;
    spec.cpus = m.config.cpus;
    spec.memory_mb = static_cast<std::uint64_t>(m.config.memory_mb);
    // Fixture images are rebuilt from their host directories at every boot (reference §9).
    if (!m.config.fixtures.empty())
        spec.fixture_paths = FBX_TRY(timed(m.timings, "fixtures", [&] {
            return build_fixture_images(m.config.fixtures, m.files.dir);
        }));
    spec.boot_timeout_s = static_cast<int>(remaining(group.deadline).count());
    {
        // Atomic with the canceller's look at in_boot_rpc (orchestrator_group.cpp).
        std::lock_guard lock(group.failure_mutex);
        if (group.cancelled)
            return fail(ErrorKind::Interrupted, "boot " + m.name, "another member failed");
        m.in_boot_rpc = true;
    }
    auto booted = client.boot(spec);
    {
        std::lock_guard lock(group.failure_mutex);
        m.in_boot_rpc = false;
    }
    // A stock image that never configured itself: say it may lack cloud-init.
    auto hinted = [&m](Error e) {
        return m.hint_missing_cloud_init ? with_cloud_init_hint(std::move(e), m.files.serial_log)
                                         : std::move(e);
    };
    if (!booted)
        return fail(hinted(std::move(booted).error()));
    for (const auto& t : booted->timings)
        m.timings.push_back({t.phase, t.seconds});
    m.boot_attempts = booted->boot_attempts;

    auto target = ssh_target(store_, m.files, m.name, m.config.ip);
    auto impl =
        std::make_unique<Vm::Impl>(m.name, m.config.ip, store_, target, std::chrono::seconds(30));
    guest::WaitForSshOptions wait;
    wait.serial_log = m.files.serial_log;
    wait.keep_going = [&group] { return !group.cancelled; };
    FBX_TRY(timed(m.timings, "ssh ready", [&] {
                return impl->shell_.wait_ready(remaining(group.deadline), wait);
            }).map_error(hinted));
    // Ready means the fixtures are there too: the fast path's seed unit mounted them before
    // sshd; under cloud-init (or if the unit could not) they are mounted here.
    if (!m.config.fixtures.empty())
        FBX_CHECK(timed(m.timings, "fixtures mounted", [&] {
                      return ensure_fixture_mounts(
                          impl->shell_, m.config.fixtures,
                          std::min<std::chrono::milliseconds>(remaining(group.deadline),
                                                              std::chrono::minutes(2)));
                  }).map_error([&](Error e) { return std::move(e).wrap("boot " + m.name); }));
    impl->guest_timings_ = guest_phases_of(m.files.serial_log);
    impl->timings_ = m.timings;
    (void)write_timings(m.files, m.timings, m.boot_attempts, impl->guest_timings_);
    m.vm = std::move(impl);
    return {};
}

} // namespace fleetbox::client
