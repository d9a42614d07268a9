// Orchestrator::start_group: several members of one cluster booted in parallel on one helper.
//
// Order of a start (each step's failure rolls back exactly what the steps before it did):
//  1. lock every member named (in name order, so two overlapping groups cannot deadlock);
//     members already running are attached and never touched again;
//  2. prepare each member to boot (image, provisioning method);
//  3. join the cluster's live helper or spawn one (under the cluster lock), then create the
//     network on the cluster's stored /24 (or a fresh one the store does not hold for any
//     other cluster), and reserve every member's address: a stored one, else the lowest one
//     no member of the cluster holds in the store;
//  4. create the new members' files (their seeds already list every peer's address);
//  5. boot all in parallel under ONE deadline; the first failure stops the others at once.
// Rollback (the original's disk-safe rule): members this call created are destroyed (their
// logs kept in failed/), members that existed are only stopped; a member that was running
// before the call is never touched.
#include "client/cluster_hosts.hpp"
#include "client/fixtures.hpp"
#include "client/group_boot.hpp"
#include "client/preflight.hpp"
#include "store/names.hpp"
#include "sys/user.hpp"
#include "util/clock.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <set>
#include <thread>

namespace fleetbox::client {

namespace {

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

// The lowest host address of a /24 ("a.b.c.0/24") that is not in `taken` ("" when full).
std::string lowest_free_address(const std::string& subnet, const std::set<std::string>& taken) {
    const std::string stem = subnet.substr(0, subnet.rfind('.') + 1);
    for (int host = 2; host <= 254; ++host)
        if (std::string ip = stem + std::to_string(host); !taken.count(ip))
            return ip;
    return {};
}

} // namespace

Status check_member_names(const std::vector<std::string>& names) {
    if (names.empty())
        return fail(ErrorKind::InvalidArgument, "start VMs", "no VM names given");
    std::set<std::string> seen;
    for (const auto& name : names) {
        FBX_CHECK(validate_vm_name(name));
        if (!seen.insert(name).second)
            return fail(ErrorKind::InvalidArgument, "start VMs",
                        fmt::format("{} is named twice", quote_name(name)));
    }
    return {};
}

Result<std::unique_ptr<Vm::Impl>> Orchestrator::start(const StartRequest& req) {
    GroupRequest group;
    group.names = {req.name};
    group.options = req.options;
    group.options_given = req.options_given;
    group.lifetime = req.lifetime;
    group.image_progress = req.image_progress;
    auto started = FBX_TRY(start_group(group));
    auto vm = std::move(started.vms.front());
    if (started.helper && !started.started.empty()) {
        vm->attached_.reset();
        vm->helper_ = std::move(started.helper); // a bound helper lives as long as this handle
    }
    return vm;
}

Result<GroupStart> Orchestrator::start_group(const GroupRequest& request) {
    FBX_CHECK(check_member_names(request.names));
    FBX_CHECK(check_start_options(request.options));
    auto caps = FBX_TRY(preflight());
    GroupBoot group;
    group.request = request;
    group.boot_timeout = request.options.boot_timeout.count() > 0 ? request.options.boot_timeout
                                                                  : default_boot_timeout(caps);

    // Serialize with any other start/stop of these names; a loser then finds them running.
    std::vector<std::string> lock_order = request.names;
    std::sort(lock_order.begin(), lock_order.end());
    std::vector<FileLock> locks;
    for (const auto& name : lock_order) {
        auto lock = store_.lock_member_wait(name, group.boot_timeout + std::chrono::seconds(60));
        if (!lock)
            return fail(ErrorKind::Busy,
                        fmt::format("VM \"{}\" is in use by another fleetbox process", name), {},
                        "wait for it to finish, or stop it with: fleetbox down " + name);
        locks.push_back(std::move(*lock));
    }

    GroupStart out;
    std::vector<std::unique_ptr<Vm::Impl>> running(request.names.size());
    std::string first_existing_cluster;
    for (std::size_t i = 0; i < request.names.size(); ++i) {
        const auto& name = request.names[i];
        auto member = std::make_unique<MemberBoot>();
        member->name = name;
        member->created = !store_.exists(name);
        if (!member->created) {
            member->config = FBX_TRY(store_.load(name));
            if (first_existing_cluster.empty())
                first_existing_cluster = member->config.cluster;
            auto st = FBX_TRY(status(name));
            if (st.state == proto::MemberState::Running) {
                if (request.options_given)
                    note(fmt::format("note: {} is already running; options ignored", name));
                running[i] = FBX_TRY(attach(name));
                continue;
            }
            if (proto::is_active(st.state))
                return fail(ErrorKind::Busy, fmt::format("VM \"{}\" is {} in another process", name,
                                                         proto::to_string(st.state)));
            if (request.options_given || !request.options.fixtures.empty())
                note(fmt::format("note: {} already exists; --cpus/--mem/--disk/--image/"
                                 "--provisioning/--fixture ignored (rm + up to change)",
                                 name));
        }
        member->files = FBX_TRY(MemberFiles::of(store_, name));
        group.members.push_back(std::move(member));
    }
    group.cluster = !request.cluster.empty()          ? request.cluster
                    : !first_existing_cluster.empty() ? first_existing_cluster
                                                      : cluster_name(request.names.front());
    for (const auto& name : request.names) {
        if (!store_.exists(name))
            continue;
        auto recorded = cluster_of(store_, name);
        if (recorded != group.cluster)
            return fail(ErrorKind::InvalidArgument,
                        fmt::format("start {} as cluster {}", name, group.cluster),
                        fmt::format("{} belongs to cluster {}", name, recorded),
                        fmt::format("start it with its own cluster: fleetbox up {}", name));
    }
    out.cluster = group.cluster;
    // Fixtures are checked before anything of a new member exists (member dir, disk, seed).
    if (std::any_of(group.members.begin(), group.members.end(),
                    [](const auto& m) { return m->created; }))
        group.fixtures = FBX_TRY(resolve_fixtures(request.options.fixtures));

    if (!group.members.empty()) {
        if (!caps.accel_note.empty())
            note("info: " + caps.accel_note);
        group.identity = FBX_TRY(ssh::ensure_identity(store_.key_path()));
        if (auto booted = boot_group(group); !booted)
            return fail(rollback(group, std::move(booted).error()));
        for (auto& m : group.members) {
            if (m->created)
                (void)store_.forget_failed_boot(m->name); // an earlier attempt's logs are stale
            out.started.push_back(m->name);
        }
        publish_names(group);
    }

    for (std::size_t i = 0, next = 0; i < request.names.size(); ++i) {
        if (running[i]) {
            out.vms.push_back(std::move(running[i]));
            continue;
        }
        auto& vm = group.members[next++]->vm;
        if (auto remote = launcher_.attach(store_, vm->name_))
            vm->attached_ = std::move(*remote);
        out.vms.push_back(std::move(vm));
    }
    out.helper = std::move(group.helper);
    out.joined = group.joined;
    return out;
}

Status Orchestrator::boot_group(GroupBoot& group) {
    const auto& request = group.request;
    for (auto& m : group.members)
        FBX_CHECK(prepare_member(*m, request));
    MemberBoot& first = *group.members.front();

    // A bound group gets a helper (and so a network) of its own: it cannot take the cluster's
    // /24 while other members of the cluster run on another helper's network.
    if (request.lifetime == HelperMode::Bound && request.join_sibling.empty() &&
        request.on_helper == nullptr) {
        for (const auto& stored : FBX_TRY(view_cluster(store_, group.cluster)).members) {
            if (std::find(request.names.begin(), request.names.end(), stored.name) !=
                request.names.end())
                continue;
            auto st = status(stored.name);
            if (st && proto::is_active(st->state))
                return fail(ErrorKind::InvalidArgument, "start " + first.name,
                            fmt::format("{} of cluster {} runs under another helper (pid {}), "
                                        "which holds the cluster's network",
                                        stored.name, group.cluster, st->helper_pid),
                            fmt::format("join it with fleetbox::add_member(\"{}\", \"{}\"), or "
                                        "stop the cluster first: fleetbox down {}",
                                        stored.name, first.name, group.cluster));
        }
    }

    auto cluster_lock = FBX_TRY(attach_group_helper(group));
    auto& client = *group.client;
    if (group.joined)
        for (const auto& m : group.members)
            note(fmt::format("Adding {} to the cluster (helper pid {})", m->name,
                             client.helper_pid()));

    // Under the cluster lock: what the store holds now (a concurrent `up` of this cluster
    // has reserved and recorded its member before releasing the lock).
    group.view = FBX_TRY(view_cluster(store_, group.cluster));
    proto::CreateNetwork wanted{group.cluster, group.view.subnet, group.view.other_subnets};
    auto t0 = std::chrono::steady_clock::now();
    group.network = FBX_TRY(client.create_network(wanted));
    first.timings.push_back({"network", seconds_since(t0)});
    std::set<std::string> taken;
    for (const auto& stored : group.view.members)
        if (!stored.ip.empty())
            taken.insert(stored.ip);
    for (auto& m : group.members) {
        std::string hint = m->config.ip;
        if (hint.empty())
            hint = lowest_free_address(group.network.subnet, taken);
        m->reservation = FBX_TRY(client.reserve(m->name, hint));
        m->reserved = true;
        taken.insert(m->reservation.ip);
        if (!m->created && m->reservation.ip != m->config.ip)
            return fail(ErrorKind::Busy, "boot " + m->name,
                        fmt::format("its address {} is not available on its cluster's network {} "
                                    "(got {})",
                                    m->config.ip, group.network.subnet, m->reservation.ip),
                        fmt::format("stop the cluster's running members (fleetbox down {}) and "
                                    "start them together; its disk is untouched",
                                    group.cluster));
    }
    cluster_lock.reset(); // every member is registered on the helper now

    for (auto& m : group.members)
        if (m->created)
            FBX_CHECK(create_member(*m, group));
    group.deadline = std::chrono::steady_clock::now() + group.boot_timeout;
    return boot_all(group);
}

Result<std::optional<FileLock>> Orchestrator::attach_group_helper(GroupBoot& group) {
    const auto& request = group.request;
    MemberBoot& first = *group.members.front();
    if (request.on_helper != nullptr) { // Cluster::add: the cluster's own (bound) helper
        group.client = request.on_helper;
        group.joined = true;
        return std::optional<FileLock>{};
    }
    std::vector<std::string> siblings;
    if (!request.join_sibling.empty()) {
        siblings.push_back(request.join_sibling);
    } else {
        for (const auto& stored : FBX_TRY(view_cluster(store_, group.cluster)).members)
            siblings.push_back(stored.name);
    }
    auto mode = request.join_sibling.empty() ? request.lifetime : HelperMode::Detached;
    auto t0 = std::chrono::steady_clock::now();
    auto cluster = FBX_TRY(launcher_.join_or_spawn(store_, first.name, mode, group.cluster,
                                                   siblings, !request.join_sibling.empty()));
    first.timings.push_back({"helper", seconds_since(t0)});
    group.joined = cluster.joined;
    group.helper.emplace(std::move(cluster.handle));
    group.client = &group.helper->client();
    return std::move(cluster.lock);
}

void Orchestrator::publish_names(GroupBoot& group) {
    // A lone member's seed already says all there is (no peers); otherwise every running
    // member learns the current list, including the members this call just added.
    auto view = view_cluster(store_, group.cluster);
    if (!view || view->members.size() < 2)
        return;
    // Nor is there anything to push when this call created every member the store holds now
    // (a new `up web -n 3`): each seed was written after all of them were reserved and lists
    // them all. A member recorded since (a concurrent `up web-4`) makes the store differ, and
    // one that records itself after this check pushes to these members itself. Saves one
    // SSH login per member (~3 s of a 3-member `up` under TCG).
    auto created_here = [&group](const std::string& name) {
        return std::any_of(group.members.begin(), group.members.end(),
                           [&](const auto& m) { return m->created && m->name == name; });
    };
    if (std::all_of(view->members.begin(), view->members.end(),
                    [&](const auto& stored) { return created_here(stored.name); }))
        return;
    std::vector<std::string> running;
    if (auto list = group.client->list()) {
        for (const auto& member : list->members)
            if (member.state == proto::MemberState::Running)
                running.push_back(member.name);
    }
    auto report = sync_cluster_hosts(store_, group.cluster, running);
    if (!report) {
        note("warning: could not update the cluster's /etc/hosts: " + report.error().message());
        return;
    }
    for (const auto& failed : report->failed)
        note(fmt::format("warning: {} may not resolve its peers by name yet: {}", failed.member,
                         failed.error.message()));
}

Status Orchestrator::boot_all(GroupBoot& group) {
    // A member still in boot-member when the group is cancelled. Under failure_mutex, so a
    // member either sees the cancel before it sends boot-member or is seen here.
    auto still_booting = [&](const MemberBoot& self) {
        std::vector<std::string> names;
        std::lock_guard lock(group.failure_mutex);
        for (const auto& other : group.members)
            if (other.get() != &self && other->in_boot_rpc)
                names.push_back(other->name);
        return names;
    };
    auto run = [&](MemberBoot& m) {
        auto booted = boot_member(m, group);
        if (booted)
            return;
        {
            std::lock_guard lock(group.failure_mutex);
            if (group.failure)
                return; // the cause is already known (this is often its cancellation)
            group.failure = std::move(booted).error();
            group.failed_member = m.name;
            group.cancelled = true;
        }
        // A stop of a member whose QEMU is starting ends its boot-member at once. A stop that
        // reaches the helper just before that member's boot-member does is a no-op, so repeat
        // until no other member is left in boot-member.
        for (auto names = still_booting(m); !names.empty(); names = still_booting(m)) {
            for (const auto& name : names)
                (void)group.client->stop(name);
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    };
    if (group.members.size() == 1) {
        run(*group.members.front());
    } else {
        std::vector<std::thread> threads;
        threads.reserve(group.members.size());
        for (auto& m : group.members)
            threads.emplace_back(run, std::ref(*m));
        for (auto& t : threads)
            t.join();
    }
    if (group.failure)
        return fail(*group.failure);
    return {};
}

Error Orchestrator::rollback(GroupBoot& group, Error error) {
    if (group.client != nullptr) {
        // Stop (and give back the addresses of) every member this call booted, in parallel:
        // a graceful stop under TCG can take tens of seconds each.
        auto& client = *group.client;
        std::vector<std::thread> stops;
        for (auto& m : group.members) {
            if (!m->reserved)
                continue;
            stops.emplace_back([&client, name = m->name] {
                (void)client.stop(name);
                (void)client.release(name);
            });
        }
        for (auto& t : stops)
            t.join();
    }
    if (group.helper)
        (void)group.helper->close(); // a joined helper keeps serving its other members
    for (auto& m : group.members) {
        if (!m->created)
            continue;
        auto kept = store_.keep_failed_boot_logs(m->name, MemberFiles::log_names());
        (void)store_.remove(m->name);
        if (kept && !kept->empty())
            error = point_at_kept_logs(std::move(error), m->files.dir, *kept);
    }
    if (group.is_group())
        return std::move(error).wrap("start cluster " + group.cluster);
    return error;
}

} // namespace fleetbox::client
