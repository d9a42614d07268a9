// `fleetbox down NAME...|--all` and `fleetbox rm NAME...|--all [-f]`.
//
// Targets resolve like the original: an exact existing name wins; otherwise a pattern
// expands to every VM of that cluster (`web` -> web-1, web-2, never web-prod); otherwise it
// is reported as not found. rm stops a running VM first and deletes its directory only
// after the helper confirmed QEMU is gone; it also removes the kept logs of a failed first
// boot (store failed/<name>/), the only trace a VM that never came up leaves.
#include "cli.hpp"
#include "client/orchestrator.hpp"
#include "store/names.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <iostream>
#include <unistd.h>

namespace fleetbox::cli {

namespace {

struct TargetArgs {
    std::vector<std::string> names;
    bool all = false;
    bool force = false;
};

struct Targets {
    std::vector<std::string> found;
    std::vector<std::string> unknown;
};

Result<Targets> resolve(const Store& store, const TargetArgs& args) {
    if (args.all && !args.names.empty())
        return fail(ErrorKind::InvalidArgument, "cannot combine --all with explicit VM names");
    auto members = FBX_TRY(store.list_members());
    Targets t;
    if (args.all) {
        t.found = members;
        return t;
    }
    if (args.names.empty())
        return fail(ErrorKind::InvalidArgument, "no VMs specified", {}, "name them, or use --all");
    auto add = [&](const std::string& n) {
        if (std::find(t.found.begin(), t.found.end(), n) == t.found.end())
            t.found.push_back(n);
    };
    for (const auto& pattern : args.names) {
        if (std::find(members.begin(), members.end(), pattern) != members.end()) {
            add(pattern);
            continue;
        }
        bool any = false;
        for (const auto& m : members)
            if (cluster_name(m) == pattern) {
                add(m);
                any = true;
            }
        if (!any)
            t.unknown.push_back(pattern);
    }
    return t;
}

Result<int> run_down(const TargetArgs& args) {
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt));
    auto targets = FBX_TRY(resolve(orchestrator.store(), args));
    int failures = 0;
    for (const auto& name : targets.found) {
        auto st = orchestrator.status(name);
        if (!st || !proto::is_active(st->state)) {
            fmt::print("{} is not running\n", name);
            continue;
        }
        fmt::print("Stopping {}...\n", name);
        std::fflush(stdout);
        if (auto r = orchestrator.stop(name); !r) {
            fmt::print(stderr, "{}: stop failed: {}\n", name, r.error().message());
            ++failures;
            continue;
        }
        fmt::print("  stopped\n");
    }
    for (const auto& p : targets.unknown)
        fmt::print(stderr, "VM \"{}\" not found\n", p);
    return failures || !targets.unknown.empty() ? 1 : 0;
}

bool confirm(const std::vector<std::string>& names) {
    fmt::print("Will delete {} VM{}: {}\nContinue? [y/N] ", names.size(),
               names.size() == 1 ? "" : "s", join(names, ", "));
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line))
        return false;
    return line == "y" || line == "Y";
}

// Names that are not VMs but still have the logs of a failed first boot (store failed/):
// `rm` takes those logs away too, without asking (no disk is involved). Moves them out of
// targets.unknown.
Result<std::vector<std::string>> failed_boot_leftovers(const Store& store, const TargetArgs& args,
                                                       Targets& targets) {
    std::vector<std::string> leftovers;
    if (args.all) {
        for (auto& name : FBX_TRY(store.list_failed_boots()))
            if (std::find(targets.found.begin(), targets.found.end(), name) == targets.found.end())
                leftovers.push_back(std::move(name));
        return leftovers;
    }
    std::erase_if(targets.unknown, [&](const std::string& name) {
        auto dir = store.failed_boot_dir(name);
        if (!dir || !is_directory(*dir))
            return false;
        leftovers.push_back(name);
        return true;
    });
    return leftovers;
}

Result<int> run_rm(const TargetArgs& args) {
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt));
    auto targets = FBX_TRY(resolve(orchestrator.store(), args));
    auto leftovers = FBX_TRY(failed_boot_leftovers(orchestrator.store(), args, targets));
    if (!targets.found.empty() && !args.force && !confirm(targets.found))
        return fail(ErrorKind::InvalidArgument, "aborted");
    int failures = 0;
    for (const auto& name : leftovers) {
        fmt::print("Removing the logs of {}'s failed boot...\n", name);
        std::fflush(stdout);
        if (auto st = orchestrator.store().forget_failed_boot(name); !st) {
            fmt::print(stderr, "{}: delete failed: {}\n", name, st.error().message());
            ++failures;
        }
    }
    for (const auto& name : targets.found) {
        fmt::print("Removing {}...\n", name);
        std::fflush(stdout);
        if (auto st = orchestrator.destroy(name); !st) {
            fmt::print(stderr, "{}: delete failed: {}\n", name, st.error().message());
            ++failures;
        }
    }
    for (const auto& p : targets.unknown)
        fmt::print(stderr, "VM \"{}\" not found\n", p);
    return failures || !targets.unknown.empty() ? 1 : 0;
}

void add_target_options(CLI::App* cmd, TargetArgs& args) {
    cmd->add_option("names", args.names, "VM names, or cluster names (web = web-1, web-2, ...)");
    cmd->add_flag("--all", args.all, "Every VM");
}

} // namespace

void install_down(CLI::App& app, Globals& /*globals*/, Action& action) {
    auto args = std::make_shared<TargetArgs>();
    auto* cmd = app.add_subcommand("down", "Stop VMs (their disks are kept)");
    cmd->alias("stop");
    cmd->alias("halt");
    add_target_options(cmd, *args);
    cmd->callback([&action, args] { action = [args] { return run_down(*args); }; });
}

void install_rm(CLI::App& app, Globals& /*globals*/, Action& action) {
    auto args = std::make_shared<TargetArgs>();
    auto* cmd = app.add_subcommand("rm", "Delete VMs and their disks");
    cmd->alias("remove");
    cmd->alias("destroy");
    cmd->alias("delete");
    add_target_options(cmd, *args);
    cmd->add_flag("-f,--force", args->force, "Do not ask for confirmation");
    cmd->callback([&action, args] { action = [args] { return run_rm(*args); }; });
}

} // namespace fleetbox::cli
