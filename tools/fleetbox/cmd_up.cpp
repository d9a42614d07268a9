// `fleetbox up [NAME]`: create and boot a VM, or boot a stopped one, or report a running one.
// The helper is detached, so the VM keeps running after this command exits.
#include "cli.hpp"
#include "client/orchestrator.hpp"
#include "client/vm_impl.hpp"
#include "sizes.hpp"
#include "store/names.hpp"

#include <fmt/core.h>

namespace fleetbox::cli {

namespace {

struct UpArgs {
    std::string name = "default";
    int cpus = 2;
    std::string mem = "2G";
    std::string disk = "20G";
    std::string image = "debian-12";
    std::string provisioning;
    bool timings = false;
    int boot_timeout_s = 0;
};

// One table of phases and their sum: the host's ("total"), or the guest's own from its
// console markers (guest seconds since the kernel started: the sum is sshd's uptime).
void print_phases(const char* heading, const std::vector<PhaseTiming>& timings,
                  const char* sum_label) {
    if (timings.empty())
        return;
    double total = 0;
    std::vector<std::vector<std::string>> rows{{heading, "SECONDS"}};
    for (const auto& t : timings) {
        rows.push_back({t.phase, fmt::format("{:.2f}", t.seconds)});
        total += t.seconds;
    }
    rows.push_back({sum_label, fmt::format("{:.2f}", total)});
    print_table(rows);
}

Result<int> run_up(const UpArgs& args, const CLI::App& cmd) {
    client::StartRequest req;
    req.name = args.name;
    req.options.cpus = args.cpus;
    req.options.memory_mb = FBX_TRY(parse_size_mib(args.mem, "--mem"));
    req.options.disk_mb = FBX_TRY(parse_size_mib(args.disk, "--disk"));
    req.options.image = args.image;
    req.options.provisioning = args.provisioning;
    req.options.boot_timeout = std::chrono::seconds(args.boot_timeout_s);
    for (const char* flag : {"--cpus", "--mem", "--disk", "--image", "--provisioning"})
        if (cmd.count(flag) > 0)
            req.options_given = true;
    req.lifetime = client::HelperMode::Detached;
    req.image_progress = image::ProgressMode::Auto;
    FBX_CHECK(validate_vm_name(req.name));
    FBX_CHECK(client::check_start_options(req.options));
    auto log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt, log));

    auto st = orchestrator.status(args.name);
    bool running = st && st->state == proto::MemberState::Running;
    if (!running)
        fmt::print("Starting {}...\n", args.name);
    auto vm = FBX_TRY(orchestrator.start(req));
    fmt::print("  {}  IP: {}  SSH: fleetbox ssh {}\n", vm->name_, vm->ip_, vm->name_);
    if (args.timings) {
        print_phases("PHASE", vm->timings_, "total");
        print_phases("GUEST PHASE", vm->guest_timings_, "sshd up (uptime)");
    }
    return 0;
}

} // namespace

void install_up(CLI::App& app, Globals& /*globals*/, Action& action) {
    auto args = std::make_shared<UpArgs>();
    auto* cmd = app.add_subcommand("up", "Create and boot a VM (or boot a stopped one)");
    cmd->alias("start");
    cmd->add_option("name", args->name, "VM name (lowercase letters, digits, '-')")
        ->capture_default_str();
    cmd->add_option("--cpus", args->cpus, "Virtual CPUs")->capture_default_str();
    cmd->add_option("--mem", args->mem, "Memory, e.g. 2G or 1536M (plain numbers are GiB)")
        ->capture_default_str();
    cmd->add_option("--disk", args->disk,
                    "Disk size, e.g. 20G (thin: only what is written uses space)")
        ->capture_default_str();
    cmd->add_option("--image", args->image, "Guest image alias")->capture_default_str();
    cmd->add_option(
        "--provisioning", args->provisioning,
        "How the guest is configured at create: fleetbox-seed (fast, images fleetbox builds) or "
        "nocloud (cloud-init); default: the image's preferred");
    cmd->add_option("--boot-timeout", args->boot_timeout_s,
                    "Seconds to wait for SSH (0: automatic)");
    cmd->add_flag("--timings", args->timings, "Print how long each boot phase took");
    cmd->callback([&action, args, cmd] { action = [args, cmd] { return run_up(*args, *cmd); }; });
}

} // namespace fleetbox::cli
