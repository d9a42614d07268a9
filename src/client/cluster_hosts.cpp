// Cluster host lists from the store, and their push to running members (cluster_hosts.hpp).
//
// Each push is one SSH login with the member's pinned host key (its known_hosts in the
// store) and one command, the fixed program of seed/cluster_block.hpp with the block on
// stdin, run through `sudo -n` (the guest user has passwordless sudo in every image fleetbox
// configures). The pushes run on one thread each, so a cluster is updated in about one
// login's time (~1 s under TCG) and a member that does not answer costs at most the
// timeouts, not the others' updates. Every address dialled is a member's own, on the
// cluster's bridge.
#include "client/cluster_hosts.hpp"

#include "client/cluster_view.hpp"
#include "client/member_files.hpp"
#include "guest/ssh_session.hpp"
#include "seed/cluster_block.hpp"
#include "store/names.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <exception>
#include <fmt/format.h>
#include <system_error>
#include <thread>

namespace fleetbox::client {

namespace {

// Rewrites one member's block with the list as the store has it after the login.
Status push_member(const Store& store, const std::string& name, const HostsSyncOptions& options) {
    const std::string what = "update the cluster names in /etc/hosts of VM " + name;
    auto config = FBX_TRY(store.load(name));
    if (config.ip.empty())
        return fail(ErrorKind::NotFound, what, "it has no address in its config.json");
    auto files = FBX_TRY(MemberFiles::of(store, name));
    auto session = FBX_TRY(guest::SshSession::connect(ssh_target(store, files, name, config.ip),
                                                      options.connect_timeout));
    auto entries = FBX_TRY(cluster_host_entries(store, name));
    auto block = FBX_TRY(seed::render_cluster_block(entries));
    guest::ExecIo io;
    io.input = block;
    const std::string command = seed::cluster_block_command(options.hosts_path, options.sudo);
    auto run = FBX_TRY(session.exec(command, io, options.command_timeout).map_error([&](Error e) {
        return std::move(e).wrap(what);
    }));
    if (run.exit_code != 0)
        return fail(ErrorKind::ExternalCommand, what,
                    fmt::format("the guest command exited with {}: {}", run.exit_code,
                                last_line(run.err.empty() ? run.out : run.err)));
    return {};
}

Status push_member_noexcept(const Store& store, const std::string& name,
                            const HostsSyncOptions& options) noexcept {
    try {
        return push_member(store, name, options);
    } catch (const std::exception& e) {
        return fail(ErrorKind::Internal, "update /etc/hosts of VM " + name, e.what());
    }
}

} // namespace

Result<std::vector<seed::HostEntry>> cluster_host_entries(const Store& store,
                                                          const std::string& member) {
    FBX_CHECK(validate_vm_name(member));
    const std::string cluster = cluster_of(store, member);
    std::vector<seed::HostEntry> entries;
    for (const auto& name : FBX_TRY(store.list())) {
        if (name == member)
            continue;
        auto config = store.load(name);
        if (!config || config->ip.empty() || config->cluster != cluster)
            continue;
        seed::HostEntry entry{config->ip, name};
        if (seed::validate_host_entries({entry}))
            entries.push_back(std::move(entry));
    }
    return entries;
}

Result<HostsSyncReport> sync_cluster_hosts(const Store& store, const std::string& cluster,
                                           const std::vector<std::string>& running,
                                           const HostsSyncOptions& options) {
    auto members = FBX_TRY(store.list());
    std::vector<std::string> targets;
    for (const auto& name : running) {
        bool member = cluster_of(store, name) == cluster &&
                      std::find(members.begin(), members.end(), name) != members.end();
        if (member && std::find(targets.begin(), targets.end(), name) == targets.end())
            targets.push_back(name);
    }
    std::vector<Status> results(targets.size());
    {
        std::vector<std::jthread> threads;
        threads.reserve(targets.size());
        for (std::size_t i = 0; i < targets.size(); ++i) {
            auto push = [&, i] { results[i] = push_member_noexcept(store, targets[i], options); };
            try {
                threads.emplace_back(push);
            } catch (const std::system_error&) {
                push(); // no thread to be had: this one waits its turn
            }
        }
    } // joined here
    HostsSyncReport report;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        if (results[i])
            report.updated.push_back(targets[i]);
        else
            report.failed.push_back({targets[i], std::move(results[i]).error()});
    }
    return report;
}

} // namespace fleetbox::client
