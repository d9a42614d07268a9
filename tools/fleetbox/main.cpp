// fleetbox: the command-line face of the library. Parses arguments with CLI11, dispatches to
// one subcommand from the table, and turns a returned Error into one printed line.
//
// Before anything else it sets umask 077 (every file it creates in the store is the owner's
// alone) and, when run through sudo, drops to the invoking user for the whole run
// (sys/privileges.hpp): the store is that user's, so every file in it is created and opened
// as the user, never by root through a path the user could have swapped. Root comes back
// only in the forked fleetbox-helper child and for an image build (documented there).
#include "cli.hpp"
#include "sys/interrupt.hpp"
#include "sys/privileges.hpp"

#include <csignal>
#include <cstdio>
#include <fmt/core.h>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace {

const fleetbox::cli::Command kCommands[] = {
    {"up", fleetbox::cli::install_up},       {"ls", fleetbox::cli::install_ls},
    {"ssh", fleetbox::cli::install_ssh},     {"cp", fleetbox::cli::install_cp},
    {"logs", fleetbox::cli::install_logs},   {"down", fleetbox::cli::install_down},
    {"rm", fleetbox::cli::install_rm},       {"prune", fleetbox::cli::install_prune},
    {"image", fleetbox::cli::install_image}, {"version", fleetbox::cli::install_version},
};

} // namespace

int main(int argc, char** argv) {
    ::umask(077);
    if (auto dropped = fleetbox::drop_to_invoking_user(); !dropped)
        return fleetbox::cli::report_error(dropped.error());
    CLI::App app{"fleetbox: real Linux VMs as test fixtures and clusters", "fleetbox"};
    app.require_subcommand(1);
    app.footer("Defaults: image=debian-12, cpus=2, mem=2G, disk=20G\nRun 'fleetbox COMMAND --help' "
               "for a command's options.");
    fleetbox::cli::Globals globals;
    fleetbox::cli::Action action;
    for (const auto& command : kCommands)
        command.install(app, globals, action);

    // `ssh NAME -- CMD...` is parsed by hand: its words after NAME belong to the remote
    // command, and CLI11 would swallow the `--` that marks them.
    if (argc >= 2 && (std::string_view(argv[1]) == "ssh" || std::string_view(argv[1]) == "shell") &&
        !(argc >= 3 &&
          (std::string_view(argv[2]) == "-h" || std::string_view(argv[2]) == "--help"))) {
        fleetbox::install_interrupt_handlers();
        auto result = fleetbox::cli::run_ssh_words(std::vector<std::string>(argv + 2, argv + argc));
        return result ? *result : fleetbox::cli::report_error(result.error());
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // A first word that is no command leaves none parsed: CLI11 then only says one is
        // required, which hides the typo (or a command this build does not have).
        if (app.get_subcommands().empty() && argc >= 2 && argv[1][0] != '-') {
            fmt::print(stderr,
                       "error: unknown command \"{}\"\nhint: run '{} --help' for the "
                       "commands\n",
                       argv[1], app.get_name());
            return 2;
        }
        fmt::print(stderr, "error: {}\nhint: run '{} --help' for usage\n", e.what(),
                   app.get_name());
        return 2;
    }
    if (!action)
        return 0;

    fleetbox::install_interrupt_handlers();
    auto result = action();
    if (!result) {
        int code = fleetbox::cli::report_error(result.error());
        if (int sig = fleetbox::interrupt_signal(); sig != 0) {
            // Cleanup is done: die of the signal so the shell sees the usual status.
            std::signal(sig, SIG_DFL);
            std::raise(sig);
        }
        return code;
    }
    return *result;
}
