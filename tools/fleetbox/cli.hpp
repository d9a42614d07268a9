// The CLI's shared plumbing: the subcommand table, global flags and error printing.
//
// Why a table: each subcommand lives in its own file, registers its flags on the CLI11 app
// and returns an exit code; main.cpp only wires the table. Errors travel as fleetbox::Error
// and are printed in one place as "error: <what>: <why>" plus "hint: <what to do>".
#pragma once

// CLI11 2.1's headers trip g++ 12's -Wnull-dereference; they are not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop
#include "util/error.hpp"

#include <functional>
#include <string>
#include <vector>

namespace fleetbox::cli {

struct Globals {
    bool quiet = false;
};

// A subcommand registers itself on `app` and sets the action run when it is chosen.
// The action returns the process exit code, or an Error to print (exit 1).
using Action = std::function<Result<int>()>;
struct Command {
    const char* name;
    std::function<void(CLI::App& app, Globals& globals, Action& action)> install;
};

void install_version(CLI::App& app, Globals& globals, Action& action);
void install_image(CLI::App& app, Globals& globals, Action& action);
void install_up(CLI::App& app, Globals& globals, Action& action);
void install_ls(CLI::App& app, Globals& globals, Action& action);
void install_ssh(CLI::App& app, Globals& globals, Action& action);
void install_cp(CLI::App& app, Globals& globals, Action& action);
void install_logs(CLI::App& app, Globals& globals, Action& action);
void install_down(CLI::App& app, Globals& globals, Action& action);
void install_rm(CLI::App& app, Globals& globals, Action& action);
void install_prune(CLI::App& app, Globals& globals, Action& action);

// Reclaim what crashed fleetbox processes left (as `prune`), printing only notes of what was
// reclaimed; a failure is one warning line, never an error (up and down run it first).
void reconcile_quietly();

// `fleetbox ssh` with the raw words after the subcommand (NAME [-- CMD...]).
Result<int> run_ssh_words(const std::vector<std::string>& words);

// Prints "error: ..." (and "hint: ...") on stderr; returns the exit code for the error.
int report_error(const Error& error);

// Tab-aligned table with two spaces of padding (like `docker ps`, `ip -br`).
void print_table(const std::vector<std::vector<std::string>>& rows);

} // namespace fleetbox::cli
