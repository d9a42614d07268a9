// `fleetbox down NAME...|--all` and `fleetbox rm NAME...|--all [-f]`.
//
// Targets resolve in the library (client/targets.hpp): an exact name, else a cluster's VMs,
// else "not found". rm stops a running VM first and deletes its directory only
// after the helper confirmed QEMU is gone, or when no helper answers on its socket at all (a
// socket it may not open, e.g. without sudo, is an error that leaves the files); it also removes
// the kept logs of a failed first boot (store failed/<name>/), the only trace a VM that never came
// up leaves.
#include "cli.hpp"
#include "client/orchestrator.hpp"
#include "client/targets.hpp"
#include "util/strings.hpp"

#include <fmt/core.h>
#include <iostream>
#include <unistd.h>

namespace fleetbox::cli {

namespace {

struct TargetArgs {
    client::TargetSelection selection;
    bool force = false;
};

// "<name>: <what>: <error>" plus the error's hint (e.g. "run with sudo").
void print_failure(const std::string& name, const char* what, const Error& error) {
    fmt::print(stderr, "{}: {}: {}\n", name, what, error.message());
    if (!error.hint.empty())
        fmt::print(stderr, "hint: {}\n", error.hint);
}

Result<int> run_down(const TargetArgs& args) {
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt));
    auto targets = FBX_TRY(client::resolve_targets(orchestrator.store(), args.selection));
    reconcile_quietly();
    int failures = 0;
    for (const auto& name : targets.found) {
        auto st = orchestrator.status(name);
        if (!st) { // unknown is not "not running": say why, and count it
            print_failure(name, "stop failed", st.error());
            ++failures;
            continue;
        }
        // Every state but stopped is ended, an errored member's too (its helper cleans up).
        if (st->state == proto::MemberState::Stopped) {
            fmt::print("{} is not running\n", name);
            continue;
        }
        fmt::print("Stopping {}...\n", name);
        std::fflush(stdout);
        if (auto r = orchestrator.stop(name); !r) {
            print_failure(name, "stop failed", r.error());
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

Result<int> run_rm(const TargetArgs& args) {
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt));
    auto targets = FBX_TRY(client::resolve_targets(orchestrator.store(), args.selection));
    auto leftovers =
        FBX_TRY(client::take_failed_boots(orchestrator.store(), args.selection, targets));
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
            print_failure(name, "delete failed", st.error());
            ++failures;
        }
    }
    for (const auto& p : targets.unknown)
        fmt::print(stderr, "VM \"{}\" not found\n", p);
    return failures || !targets.unknown.empty() ? 1 : 0;
}

void add_target_options(CLI::App* cmd, TargetArgs& args) {
    cmd->add_option("names", args.selection.names,
                    "VM names, or cluster names (web = web-1, web-2, ...)");
    cmd->add_flag("--all", args.selection.all, "Every VM");
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
