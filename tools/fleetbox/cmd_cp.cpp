// `fleetbox cp SRC DST`: copy a file or tree between the host and a running VM.
//
// One side is NAME:/path (copy/cp_plan.hpp has the rules and messages); the copy itself is
// Vm::copy_to / Vm::copy_from on a handle attached to the running VM, so the CLI and a C++
// test copy the same way (one tar stream over the VM's pinned SSH connection). Prints nothing
// on success; an error is one line (exit 1; Ctrl-C 130, leaving nothing half-copied).
#include "cli.hpp"
#include "client/orchestrator.hpp"
#include "client/vm_impl.hpp"
#include "copy/cp_plan.hpp"
#include "sys/fs.hpp"

#include <fleetbox/fleetbox.hpp>
#include <fmt/core.h>
#include <memory>

namespace fleetbox::cli {

namespace {

struct CpArgs {
    std::string src;
    std::string dst;
    bool root = false;
};

Result<int> run_cp(const CpArgs& args) {
    auto plan = FBX_TRY(
        copy::plan_cp(args.src, args.dst, [](const std::string& p) { return is_directory(p); }));
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt));
    auto st = FBX_TRY(orchestrator.status(plan.vm));
    if (st.state == proto::MemberState::Running && st.ip.empty())
        return fail(ErrorKind::Network,
                    fmt::format("VM \"{}\" has no usable IP (\"{}\")", plan.vm, st.ip));
    Vm vm(FBX_TRY(orchestrator.attach(plan.vm)));
    CopyOptions options;
    options.as_root = args.root;
    if (plan.upload)
        FBX_CHECK(vm.copy_to(plan.local, plan.remote, options));
    else
        FBX_CHECK(vm.copy_from(plan.remote, plan.local, options));
    return 0;
}

} // namespace

void install_cp(CLI::App& app, Globals& globals, Action& action) {
    (void)globals;
    auto args = std::make_shared<CpArgs>();
    auto* cmd = app.add_subcommand(
        "cp", "Copy a file or directory between the host and a VM (one side NAME:/path)");
    cmd->add_option("src", args->src, "Source: a local path, or NAME:/path in a VM")->required();
    cmd->add_option("dst", args->dst, "Destination: a local path, or NAME:/path in a VM")
        ->required();
    cmd->add_flag("--root", args->root, "Run tar in the guest as root (sudo), e.g. to write /etc");
    cmd->footer("Examples:\n  fleetbox cp ./bin web:/usr/local/bin/    # lands at "
                "/usr/local/bin/bin\n  fleetbox cp web:/etc/hostname .          # lands at "
                "./hostname\nA guest path must be absolute. A download into an existing "
                "directory, '.', '..' or a path ending in '/' gets the source's name; an upload "
                "to a guest path ending in '/' likewise. Otherwise the destination is exact: "
                "an existing file is replaced, an existing directory is replaced by a "
                "directory. Modes and symlinks are kept, ownership is not.");
    cmd->callback([&action, args] { action = [args] { return run_cp(*args); }; });
}

} // namespace fleetbox::cli
