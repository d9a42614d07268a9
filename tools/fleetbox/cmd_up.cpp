// `fleetbox up [NAME...] [-n N]`: create and boot VMs, or boot stopped ones, or report running
// ones. `up web -n 3` is web-1..web-3 and `up a b c` is a, b and c, each as ONE cluster: one
// detached helper, one network, booted in parallel (all or nothing). A member whose siblings
// already run joins their helper. The helper is detached, so the VMs keep running after this
// command exits. `--fixture HOSTDIR:GUESTDIR` (repeatable) adds read-only fixtures at create.
#include "cli.hpp"
#include "client/orchestrator.hpp"
#include "client/vm_impl.hpp"
#include "sizes.hpp"
#include "store/names.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

namespace fleetbox::cli {

namespace {

struct UpArgs {
    std::vector<std::string> names; // none: "default"
    int count = 1;
    int cpus = 2;
    std::string mem = "2G";
    std::string disk = "20G";
    std::string image = "debian-12";
    std::string provisioning;
    bool timings = false;
    int boot_timeout_s = 0;
    std::vector<std::string> fixtures; // HOSTDIR:GUESTDIR, as given
};

// `--fixture HOSTDIR:GUESTDIR`, split at the last colon (a host path may hold one); the
// library checks the rest (fixtures.hpp) when it creates the VM.
Result<Fixture> parse_fixture(const std::string& value) {
    auto colon = value.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
        return fail(ErrorKind::InvalidArgument,
                    fmt::format("invalid --fixture \"{}\": expected host:guest", value), {},
                    "e.g. --fixture ./testdata:/srv/testdata");
    Fixture f{value.substr(0, colon), value.substr(colon + 1)};
    if (f.guest_path.front() != '/')
        return fail(ErrorKind::InvalidArgument,
                    fmt::format("invalid --fixture \"{}\": guest path \"{}\" must be absolute",
                                value, f.guest_path),
                    {}, "e.g. --fixture ./testdata:/srv/testdata");
    return f;
}

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

// The members `up` names: NAME, or NAME-1..NAME-N with -n N (N > 1), or several names.
Result<std::vector<std::string>> member_names(const UpArgs& args) {
    if (args.count < 1)
        return fail(ErrorKind::InvalidArgument, "-n must be at least 1",
                    fmt::format("got -n {}", args.count));
    std::vector<std::string> names =
        args.names.empty() ? std::vector<std::string>{"default"} : args.names;
    if (args.count == 1) {
        for (const auto& name : names)
            FBX_CHECK(validate_vm_name(name));
        return names;
    }
    if (names.size() != 1)
        return fail(ErrorKind::InvalidArgument,
                    "with -n, give exactly one name to use as the cluster prefix",
                    fmt::format("got {} names", names.size()),
                    fmt::format("fleetbox up {} -n {}", names.front(), args.count));
    const std::string prefix = names.front(); // a copy: names is rebuilt below
    FBX_CHECK(validate_vm_name(prefix));
    const std::string last = fmt::format("{}-{}", prefix, args.count);
    if (last.size() > kMaxVmNameLength)
        return fail(
            ErrorKind::InvalidArgument,
            fmt::format("cluster prefix {} is too long for -n {}", quote_name(prefix), args.count),
            fmt::format("its last member {} would have {} characters; a VM name has at "
                        "most {}",
                        quote_name(last), last.size(), kMaxVmNameLength),
            "use a shorter prefix");
    names.clear();
    for (int i = 1; i <= args.count; ++i)
        names.push_back(fmt::format("{}-{}", prefix, i));
    return names;
}

Result<int> run_up(const UpArgs& args, const CLI::App& cmd) {
    client::GroupRequest req;
    req.names = FBX_TRY(member_names(args));
    req.options.cpus = args.cpus;
    req.options.memory_mb = FBX_TRY(parse_size_mib(args.mem, "--mem"));
    req.options.disk_mb = FBX_TRY(parse_size_mib(args.disk, "--disk"));
    req.options.image = args.image;
    req.options.provisioning = args.provisioning;
    req.options.boot_timeout = std::chrono::seconds(args.boot_timeout_s);
    for (const auto& value : args.fixtures)
        req.options.fixtures.push_back(FBX_TRY(parse_fixture(value)));
    for (const char* flag : {"--cpus", "--mem", "--disk", "--image", "--provisioning", "--fixture"})
        if (cmd.count(flag) > 0)
            req.options_given = true;
    req.lifetime = client::HelperMode::Detached;
    req.image_progress = image::ProgressMode::Auto;
    FBX_CHECK(client::check_member_names(req.names));
    FBX_CHECK(client::check_start_options(req.options));
    auto log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt, log));
    reconcile_quietly();

    std::vector<std::string> starting;
    for (const auto& name : req.names) {
        auto st = orchestrator.status(name);
        if (!st || st->state != proto::MemberState::Running)
            starting.push_back(name);
    }
    if (!starting.empty())
        fmt::print("Starting {}...\n", fmt::join(starting, ", "));
    std::fflush(stdout); // before the notes on stderr ("Adding web-2 to the cluster ...")
    auto started = FBX_TRY(orchestrator.start_group(req));
    for (const auto& vm : started.vms)
        fmt::print("  {}  IP: {}  SSH: fleetbox ssh {}\n", vm->name_, vm->ip_, vm->name_);
    if (args.timings) {
        for (const auto& vm : started.vms) {
            if (started.vms.size() > 1)
                fmt::print("{}\n", vm->name_);
            print_phases("PHASE", vm->timings_, "total");
            print_phases("GUEST PHASE", vm->guest_timings_, "sshd up (uptime)");
        }
    }
    return 0;
}

} // namespace

void install_up(CLI::App& app, Globals& /*globals*/, Action& action) {
    auto args = std::make_shared<UpArgs>();
    auto* cmd = app.add_subcommand(
        "up", "Create and boot VMs (or boot stopped ones); several form one cluster");
    cmd->alias("start");
    cmd->add_option("names", args->names,
                    "VM names (lowercase letters, digits, '-'); several names start one cluster; "
                    "default: default");
    cmd->add_option("-n", args->count, "Cluster size: NAME-1..NAME-N on one network")
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
    cmd->add_option("--fixture", args->fixtures,
                    "HOSTDIR:GUESTDIR: show a host directory read-only at GUESTDIR (repeatable; "
                    "fixed when the VM is created, repacked from HOSTDIR at every boot)")
        ->type_name("HOST:GUEST")
        ->allow_extra_args(false);
    cmd->add_option("--boot-timeout", args->boot_timeout_s,
                    "Seconds to wait for SSH (0: automatic)");
    cmd->add_flag("--timings", args->timings, "Print how long each boot phase took");
    cmd->callback([&action, args, cmd] { action = [args, cmd] { return run_up(*args, *cmd); }; });
}

} // namespace fleetbox::cli
