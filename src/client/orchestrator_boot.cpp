// Orchestrator::boot: create-or-reuse the VM's files, spawn the helper, boot, wait for SSH.
//
// Rollback rule (the original's, kept): a VM this call created is removed entirely on
// failure; a VM that existed before is only stopped, so a failed `up` never deletes a disk
// that held data. Beyond the original, a removed VM's logs are kept in the store's
// failed/<name>/ and the error is rewritten to point there, so "see .../serial.log" always
// names a file that exists (`fleetbox logs NAME` shows it too).
#include "client/guest_phases.hpp"
#include "client/member_files.hpp"
#include "client/orchestrator.hpp"
#include "client/preflight.hpp"
#include "client/vm_impl.hpp"
#include "image/cache.hpp"
#include "image/overlay.hpp"
#include "seed/provisioner.hpp"
#include "ssh/keys.hpp"
#include "sys/user.hpp"

#include <fmt/format.h>

namespace fleetbox::client {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs f, appends its duration to timings under `phase`.
template <typename F>
auto timed(std::vector<PhaseTiming>& timings, const char* phase, F&& f) -> decltype(f()) {
    auto t0 = Clock::now();
    auto result = f();
    timings.push_back({phase, since(t0)});
    return result;
}

// The VM's own host key (pinned in its known_hosts) and its seed, written once at create.
Status write_vm_seed(const MemberFiles& files, const VmConfig& config, const std::string& user_key,
                     const proto::NetworkInfo& network, const std::string& ip,
                     const seed::Provisioner& how) {
    auto host_key = FBX_TRY(create_host_key(files, config.name));
    FBX_CHECK(write_known_hosts(files, ip, host_key));
    seed::SeedSpec spec;
    spec.name = config.name;
    spec.user_public_key = user_key;
    spec.host_key = host_key;
    spec.mac = config.mac;
    spec.ip_cidr = fmt::format("{}/{}", ip, network.prefix);
    spec.gateway = network.gateway;
    return how.write_seed(spec, seed_path(files, how.method()));
}

// How this VM's guest is configured: chosen from the image's manifest at create (or as the
// caller asked), read from config.json afterwards; with the image's words that select it.
struct ProvisioningChoice {
    seed::Provisioning method{};
    std::string kernel_cmdline;
};
Result<ProvisioningChoice> provisioning_for(const std::string& name, const std::string& alias,
                                            bool created, const VmConfig& stored,
                                            const Options& opts, const image::ImageInfo& image) {
    seed::Provisioning method{};
    if (created) {
        std::optional<seed::Provisioning> requested;
        if (!opts.provisioning.empty())
            requested = FBX_TRY(seed::parse_provisioning(opts.provisioning));
        method =
            FBX_TRY(seed::choose_provisioning(image.manifest.method_names(), requested, alias));
    } else {
        method = FBX_TRY(seed::parse_provisioning(stored.provisioning));
    }
    const auto* entry = image.manifest.method(std::string(seed::to_string(method)));
    if (!entry)
        return fail(ErrorKind::InvalidArgument, "boot " + name,
                    fmt::format("its image {} no longer supports {}, which configured this VM",
                                alias, seed::to_string(method)),
                    fmt::format("recreate it: fleetbox rm -f {} && fleetbox up {}", name, name));
    return ProvisioningChoice{method, entry->kernel_cmdline};
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos;
         pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
}

// The error names logs in the member directory, which rollback removed: name the kept copies.
Error point_at_kept_logs(Error error, const std::string& member_dir, const std::string& kept_dir) {
    for (auto* text : {&error.context, &error.hint})
        replace_all(*text, member_dir + "/", kept_dir + "/");
    return error;
}
} // namespace

struct Orchestrator::BootContext {
    StartRequest request;
    std::chrono::seconds boot_timeout{600};
    MemberFiles files;
    VmConfig config;
    bool created = false;
    std::optional<HelperHandle> helper;
    std::vector<PhaseTiming> timings;
    int boot_attempts = 1;
    bool joined = false; // the cluster's helper was already running
};

Result<std::unique_ptr<Vm::Impl>> Orchestrator::boot(const StartRequest& request,
                                                     const HostCapabilities& /*caps*/,
                                                     std::chrono::seconds boot_timeout) {
    BootContext ctx;
    ctx.request = request;
    ctx.boot_timeout = boot_timeout;
    ctx.files = FBX_TRY(MemberFiles::of(store_, request.name));
    ctx.created = !store_.exists(request.name);
    if (!ctx.created) {
        ctx.config = FBX_TRY(store_.load(request.name));
        if (request.options_given)
            note(fmt::format("note: {} already exists; --cpus/--mem/--disk/--image/--provisioning "
                             "ignored (rm + up to change)",
                             request.name));
    }
    auto result = boot_steps(ctx);
    if (!result) {
        std::string kept_logs = rollback(ctx);
        if (!kept_logs.empty())
            return fail(point_at_kept_logs(std::move(result).error(), ctx.files.dir, kept_logs));
    } else if (ctx.created) {
        (void)store_.forget_failed_boot(request.name); // an earlier attempt's logs are stale now
    }
    return result;
}

std::string Orchestrator::rollback(BootContext& ctx) {
    const auto& name = ctx.request.name;
    if (ctx.helper) {
        (void)ctx.helper->client().stop(name);
        if (ctx.created)
            (void)ctx.helper->client().release(name); // its address goes back to the cluster
        (void)ctx.helper->close(); // a joined helper keeps serving its other members
    }
    if (!ctx.created)
        return {};
    auto kept = store_.keep_failed_boot_logs(name, MemberFiles::log_names());
    (void)store_.remove(name);
    return kept.value_or(std::string{});
}

Result<std::unique_ptr<Vm::Impl>> Orchestrator::boot_steps(BootContext& ctx) {
    const auto& name = ctx.request.name;
    const auto& opts = ctx.request.options;
    auto user = FBX_TRY(invoking_user());
    auto identity = FBX_TRY(ssh::ensure_identity(store_.key_path(), user));

    std::string alias = ctx.created ? opts.image : ctx.config.image;
    image::BuildOptions build;
    build.progress = ctx.request.image_progress;
    image::ImageCache cache(store_.images_dir());
    // The lease keeps `image rm` / `build --force` from swapping the base until config.json
    // (which names the image) exists; from then on they see this VM and refuse.
    auto lease = FBX_TRY(timed(ctx.timings, "image", [&] { return cache.lease(alias, build); }));
    std::optional<FileLock> image_lease(std::move(lease.lock));
    const image::ImageInfo& image = lease.info;
    if (!ctx.created)
        image_lease.reset();

    if (ctx.created && (opts.disk_mb << 20) < image.manifest.virtual_size)
        return fail(ErrorKind::InvalidArgument, "create " + name,
                    fmt::format("requested disk size {} MiB is smaller than the image {} ({} MiB)",
                                opts.disk_mb, alias, image.manifest.virtual_size >> 20),
                    fmt::format("use --disk {}M or more", (image.manifest.virtual_size >> 20) + 1));

    if (ctx.created && image.outdated)
        note(fmt::format(
            "note: image {} was built by an older fleetbox{}; `fleetbox image build --force {}` "
            "rebuilds it (once no VM uses it)",
            alias, image.manifest.method(kMethodFleetboxSeed) ? "" : " (no fast boot path)",
            alias));
    auto provisioning =
        FBX_TRY(provisioning_for(name, alias, ctx.created, ctx.config, opts, image));
    const seed::Provisioner& how = seed::provisioner_for(provisioning.method);

    FBX_TRY(store_.ensure_member_dir(name));
    // One helper per cluster: join the one serving a sibling, or start it. The cluster lock
    // is held until this member is reserved on it.
    auto cluster = FBX_TRY(timed(ctx.timings, "helper", [&] {
        return launcher_.join_or_spawn(store_, name, ctx.request.lifetime);
    }));
    ctx.joined = cluster.joined;
    if (cluster.joined)
        note(fmt::format("Adding {} to the cluster (helper pid {})", name, cluster.handle.pid()));
    ctx.helper.emplace(std::move(cluster.handle));
    auto& backend = ctx.helper->client();
    auto network = FBX_TRY(timed(ctx.timings, "network", [&] { return backend.create_network(); }));
    auto reservation = FBX_TRY(backend.reserve(name, ctx.config.ip));
    cluster.lock.reset(); // the member is registered on the helper now

    if (ctx.created) {
        ctx.config = new_vm_config(name, opts.cpus, static_cast<std::int64_t>(opts.memory_mb),
                                   static_cast<std::int64_t>(opts.disk_mb), alias);
        ctx.config.provisioning = std::string(seed::to_string(provisioning.method));
        ctx.config.mac = reservation.mac.empty() ? ctx.config.mac : reservation.mac;
        ctx.config.ip = reservation.ip;
        FBX_CHECK(timed(ctx.timings, "disk", [&] {
            return image::create_overlay(image, ctx.files.disk, opts.disk_mb << 20);
        }));
        FBX_CHECK(timed(ctx.timings, "seed", [&] {
            return write_vm_seed(ctx.files, ctx.config, identity.public_line, network,
                                 reservation.ip, how);
        }));
        FBX_CHECK(store_.create(ctx.config));
        image_lease.reset();
    } else if (reservation.ip != ctx.config.ip) {
        return fail(ErrorKind::Busy, fmt::format("boot {}", name),
                    fmt::format("its address {} is not available on the new network {} (got {})",
                                ctx.config.ip, network.subnet, reservation.ip),
                    fmt::format("recreate it: fleetbox rm -f {} && fleetbox up {}", name, name));
    }

    proto::BootSpec spec;
    spec.name = name;
    spec.member_dir = ctx.files.dir;
    spec.disk_path = ctx.files.disk;
    spec.seed_path = seed_path(ctx.files, provisioning.method);
    spec.kernel_cmdline_extra = provisioning.kernel_cmdline;
    spec.kernel_path = image.kernel_path;
    spec.initrd_path = image.initrd_path;
    spec.mac = ctx.config.mac;
    spec.cpus = ctx.config.cpus;
    spec.memory_mb = static_cast<std::uint64_t>(ctx.config.memory_mb);
    spec.boot_timeout_s = static_cast<int>(ctx.boot_timeout.count());
    auto booted = FBX_TRY(backend.boot(spec));
    for (const auto& t : booted.timings)
        ctx.timings.push_back({t.phase, t.seconds});
    ctx.boot_attempts = booted.boot_attempts;

    auto target = ssh_target(store_, ctx.files, name, ctx.config.ip);
    auto impl =
        std::make_unique<Vm::Impl>(name, ctx.config.ip, store_, target, std::chrono::seconds(30));
    guest::WaitForSshOptions wait;
    wait.serial_log = ctx.files.serial_log;
    FBX_TRY(timed(ctx.timings, "ssh ready",
                  [&] { return impl->shell_.wait_ready(ctx.boot_timeout, wait); }));
    impl->guest_timings_ = guest_phases_of(ctx.files.serial_log);
    (void)write_timings(ctx.files, ctx.timings, ctx.boot_attempts, impl->guest_timings_);
    impl->timings_ = ctx.timings;
    impl->helper_ = std::move(ctx.helper);
    ctx.helper.reset();
    return impl;
}

} // namespace fleetbox::client
