// `fleetbox ls`: the VMs in the store, with their cluster (recorded at create: web-1's is web,
// `up a b c` makes all three "a"; members of one cluster share a helper and a network) and
// their live state asked of their helpers.
#include "cli.hpp"
#include "client/member_files.hpp"
#include "client/orchestrator.hpp"
#include "store/names.hpp"
#include "store/timestamp.hpp"

#include <chrono>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace fleetbox::cli {

namespace {

struct LsArgs {
    bool quiet = false;
    std::string output = "table";
};

std::string age_since(const std::string& created_at) {
    auto t = parse_rfc3339(created_at);
    if (!t)
        return "-";
    auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *t)
            .count();
    if (secs < 0)
        secs = 0;
    std::string out;
    if (secs >= 86400)
        out += fmt::format("{}d", secs / 86400);
    if (secs >= 3600)
        out += fmt::format("{}h", secs % 86400 / 3600);
    if (secs >= 60)
        out += fmt::format("{}m", secs % 3600 / 60);
    return out + fmt::format("{}s", secs % 60);
}

void warn_unknown(const std::string& name, const Error& error) {
    fmt::print(stderr, "warning: state of {} unknown: {}\n", name, error.message());
    if (!error.hint.empty())
        fmt::print(stderr, "hint: {}\n", error.hint);
}

Result<int> run_ls(const LsArgs& args) {
    if (args.output != "table" && args.output != "json")
        return fail(ErrorKind::InvalidArgument, fmt::format("invalid --output \"{}\"", args.output),
                    "want \"table\" or \"json\"");
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt));
    const auto& store = orchestrator.store();
    if (args.quiet) {
        for (const auto& name : FBX_TRY(store.list_members()))
            fmt::print("{}\n", name);
        return 0;
    }
    std::vector<std::vector<std::string>> rows{
        {"NAME", "CLUSTER", "IP", "STATE", "CPUS", "MEM", "DISK", "AGE"}};
    nlohmann::json json = nlohmann::json::array();
    for (const auto& name : FBX_TRY(store.list())) {
        auto config = store.load(name);
        if (!config)
            continue; // unreadable config: `fleetbox rm` can still remove it
        // A state that could not be learned is "unknown", never "stopped" (a VM behind a
        // socket we may not open may well be running); the reason goes to stderr.
        auto st = orchestrator.status(name);
        std::string state = st ? std::string(proto::to_string(st->state)) : "unknown";
        if (!st)
            warn_unknown(name, st.error());
        std::string ip = st && !st->ip.empty() ? st->ip : "";
        rows.push_back({name, config->cluster, ip.empty() ? "-" : ip, state,
                        std::to_string(config->cpus), fmt::format("{}GB", config->memory_mb / 1024),
                        fmt::format("{}GB", config->disk_mb / 1024),
                        age_since(config->created_at)});
        nlohmann::json timings = nlohmann::json::array();
        if (auto files = client::MemberFiles::of(store, name))
            for (const auto& t : client::read_timings(*files))
                timings.push_back({{"phase", t.phase}, {"seconds", t.seconds}});
        json.push_back({{"name", name},
                        {"cluster", config->cluster},
                        {"ip", ip},
                        {"state", state},
                        {"cpus", config->cpus},
                        {"memory_mb", config->memory_mb},
                        {"disk_mb", config->disk_mb},
                        {"image", config->image},
                        {"created_at", config->created_at},
                        {"timings", timings}});
    }
    if (args.output == "json") {
        fmt::print("{}\n", json.dump(2));
        return 0;
    }
    if (rows.size() == 1) {
        fmt::print("No VMs found\n");
        return 0;
    }
    print_table(rows);
    return 0;
}

} // namespace

void install_ls(CLI::App& app, Globals& /*globals*/, Action& action) {
    auto args = std::make_shared<LsArgs>();
    auto* cmd = app.add_subcommand("ls", "List VMs");
    cmd->alias("list");
    auto* q = cmd->add_flag("-q,--quiet", args->quiet, "Only names");
    auto* o = cmd->add_option("-o,--output", args->output, "table or json")->capture_default_str();
    q->excludes(o);
    cmd->callback([&action, args] { action = [args] { return run_ls(*args); }; });
}

} // namespace fleetbox::cli
