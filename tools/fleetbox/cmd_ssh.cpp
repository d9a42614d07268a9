// `fleetbox ssh NAME [-- CMD...]` and `fleetbox ssh-config`.
//
// ssh execs the system ssh (interactive terminals, agent forwarding, escape sequences all
// behave as users expect), with the VM's pinned host key: UserKnownHostsFile is the VM's own
// known_hosts and StrictHostKeyChecking stays on. The exit code is ssh's (the command's).
#include "cli.hpp"
#include "client/member_files.hpp"
#include "client/orchestrator.hpp"
#include "sys/fs.hpp"

#include <cstring>
#include <fmt/core.h>
#include <unistd.h>

namespace fleetbox::cli {

namespace {

struct SshInvocation {
    std::string name;
    std::vector<std::string> command;
};

// Parses the raw words after the subcommand: NAME [-- CMD...].
Result<SshInvocation> parse_ssh_words(const std::vector<std::string>& words) {
    if (words.empty())
        return fail(ErrorKind::InvalidArgument, "usage: fleetbox ssh <name> [-- cmd]");
    if (words[0] == "--")
        return fail(ErrorKind::InvalidArgument, "missing VM name", {},
                    "usage: fleetbox ssh <name> [-- cmd]");
    SshInvocation inv{words[0], {}};
    if (words.size() > 1) {
        if (words[1] != "--")
            return fail(ErrorKind::InvalidArgument,
                        "to run a command, use: fleetbox ssh <name> -- <cmd>");
        inv.command.assign(words.begin() + 2, words.end());
    }
    return inv;
}

std::vector<std::string> ssh_options(const std::string& key, const std::string& known_hosts) {
    return {"-i", key,
            "-o", "IdentitiesOnly=yes",
            "-o", "UserKnownHostsFile=" + known_hosts,
            "-o", "StrictHostKeyChecking=yes",
            "-o", "LogLevel=ERROR"};
}

} // namespace

Result<int> run_ssh_words(const std::vector<std::string>& words) {
    auto inv = FBX_TRY(parse_ssh_words(words));
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt));
    auto st = FBX_TRY(orchestrator.status(inv.name));
    if (st.state != proto::MemberState::Running)
        return fail(ErrorKind::InvalidArgument, fmt::format("VM \"{}\" is not running", inv.name),
                    {}, "start it with: fleetbox up " + inv.name);
    auto files = FBX_TRY(client::MemberFiles::of(orchestrator.store(), inv.name));
    std::string ssh = find_program("ssh");
    if (ssh.empty())
        return fail(ErrorKind::MissingDependency, "run ssh", "ssh is not installed",
                    "sudo apt-get install openssh-client");
    std::vector<std::string> argv{"ssh"};
    for (auto& o : ssh_options(orchestrator.store().key_path(), files.known_hosts))
        argv.push_back(o);
    argv.push_back("fleetbox@" + st.ip);
    if (!inv.command.empty())
        argv.push_back("--");
    for (auto& c : inv.command)
        argv.push_back(c);
    std::vector<char*> cargv;
    for (auto& a : argv)
        cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(ssh.c_str(), cargv.data());
    return fail_errno("run " + ssh, errno);
}

namespace {

Result<int> run_ssh_config() {
    auto orchestrator = FBX_TRY(client::Orchestrator::open(std::nullopt));
    const auto& store = orchestrator.store();
    for (const auto& name : FBX_TRY(store.list())) {
        auto st = orchestrator.status(name);
        if (!st || st->state != proto::MemberState::Running)
            continue;
        auto files = FBX_TRY(client::MemberFiles::of(store, name));
        fmt::print(
            "Host {}\n  HostName {}\n  User fleetbox\n  IdentityFile {}\n  IdentitiesOnly yes\n"
            "  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n\n",
            name, st->ip, store.key_path(), files.known_hosts);
    }
    return 0;
}

} // namespace

void install_ssh(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand(
        "ssh", "Open a shell in a VM, or run a command: fleetbox ssh NAME -- CMD...");
    cmd->alias("shell");
    // Only reached for `--help`: main() hands `ssh NAME [-- CMD...]` to run_ssh_words.
    cmd->allow_extras();
    cmd->footer("Usage: fleetbox ssh NAME [-- CMD...]\nWithout CMD, opens an interactive shell. "
                "The exit code is the command's.");
    (void)globals;
    (void)action;

    auto* config =
        app.add_subcommand("ssh-config", "Print an ssh_config block for every running VM");
    config->callback([&action] { action = [] { return run_ssh_config(); }; });
}

} // namespace fleetbox::cli
