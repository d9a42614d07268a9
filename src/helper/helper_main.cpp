// fleetbox-helper startup and teardown order.
//
// SIGTERM and SIGINT are blocked before any thread exists, so every thread inherits the mask
// and the signals arrive only through the server's signalfd. SIGPIPE is ignored (a client
// that vanished must not kill the helper mid-write). A detached helper makes sure it leads
// its own session (setsid) and leaves the caller's working directory, like any daemon.
// Teardown order matters: the server joins every connection thread before the backend is
// destroyed, and the backend's destructor kills anything still running. The very first step,
// before any thread exists (capabilities are per thread), is the privilege drop
// (privileges.hpp): store check, umask 077, CAP_NET_ADMIN only, the invoking user's uid.
#include "helper/helper_main.hpp"

// CLI11 2.1's inline CLI::detail::split trips g++ 12's -Wnull-dereference (a false positive
// inside std::vector<std::string> reallocation); silence it for that header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include "helper/privileges.hpp"
#include "proto/prune_report.hpp"
#include "store/names.hpp"

#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace fleetbox::helper {

namespace {

void block_termination_signals() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);
}

int startup_failure(const Error& error) {
    std::string line = "fleetbox-helper: " + error.message();
    if (!error.hint.empty())
        line += " (" + error.hint + ")";
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
    return 1;
}

Result<int> run(const HelperOptions& options) {
    Store store = FBX_TRY(Store::open(options.store_root));
    FBX_CHECK(validate_vm_name(options.member));
    FBX_TRY(store.ensure_member_dir(options.member));
    FBX_CHECK(ensure_no_live_helper(store, options.member)); // before the backend touches anything
    auto executor = FBX_TRY(MainThreadExecutor::create());
    HelperContext context{store, options.member, options.mode, *executor};
    auto backend = FBX_TRY(make_backend(context));
    auto server = FBX_TRY(HelperServer::create(store, options, *executor, *backend));
    FBX_CHECK(server->add_member(options.member));
    server->log(fmt::format("fleetbox-helper {} serving {} ({}, protocol {})", ::getpid(),
                            options.member, to_string(options.mode), options.protocol_version));
    int code = server->serve();
    server.reset();
    backend.reset();
    return code;
}

// --reconcile: one JSON object on stdout, nothing else.
int run_reconcile(const HelperOptions& options) {
    auto report = [&]() -> Result<proto::PruneReport> {
        Store store = FBX_TRY(Store::open(options.store_root));
        return reconcile_store(store, options.dry_run);
    }();
    if (!report)
        return startup_failure(report.error());
    const std::string line = proto::encode_prune_report(*report) + "\n";
    std::fputs(line.c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
}

} // namespace

void add_helper_options(CLI::App& app, HelperOptions& options) {
    app.add_option("--store", options.store_root, "store root (FLEETBOX_HOME)")->required();
    auto* member =
        app.add_option("--member", options.member, "the member this helper serves first");
    app.add_option_function<std::string>(
        "--mode",
        [&options](const std::string& mode) {
            auto parsed = proto::parse_helper_mode(mode);
            if (!parsed)
                throw CLI::ValidationError("--mode", "must be bound or detached, not " + mode);
            options.mode = *parsed;
        },
        "bound (dies with its client) or detached (outlives it)");
    app.add_option("--parent-pid", options.parent_pid, "bound: exit when this parent goes away");
    app.add_option_function<long>(
           "--idle-exit-after",
           [&options](long seconds) {
               if (seconds < 0)
                   throw CLI::ValidationError("--idle-exit-after", "must be 0 or more seconds");
               options.idle_exit_after = std::chrono::seconds(seconds);
           },
           "detached: exit after this many seconds with no member running and no client "
           "(0: never; default 30)")
        ->type_name("SECONDS");
    auto* reconcile = app.add_flag("--reconcile", options.reconcile,
                                   "reclaim networks of dead fleetbox processes, print a JSON "
                                   "report and exit");
    app.add_flag("--dry-run", options.dry_run, "with --reconcile: report only, change nothing")
        ->needs(reconcile);
    app.add_option("--user", options.user,
                   "UID:GID of the store's owner: the helper checks the store is theirs and "
                   "drops to them, keeping only CAP_NET_ADMIN (default: its own uid:gid)");
    reconcile->excludes(member)
        ->excludes("--mode")
        ->excludes("--parent-pid")
        ->excludes("--idle-exit-after");
    app.callback([&app, &options] {
        if (options.reconcile)
            return;
        for (const char* required : {"--member", "--mode"}) {
            if (app.count(required) == 0)
                throw CLI::RequiredError(required);
        }
    });
}

int run_helper(const HelperOptions& options) {
    auto secured = [&]() -> Status {
        HelperUser user = options.user.empty() ? own_user() : FBX_TRY(parse_user(options.user));
        return secure_helper(options.store_root, user);
    }();
    if (!secured)
        return startup_failure(secured.error());
    if (options.reconcile)
        return run_reconcile(options);
    block_termination_signals();
    if (options.mode == HelperMode::Detached) {
        if (::getsid(0) != ::getpid())
            (void)::setsid();
        if (::chdir("/") != 0) { /* keep the old cwd; the store path is absolute */
        }
    }
    auto code = run(options);
    if (!code)
        return startup_failure(code.error());
    return *code;
}

int helper_main(int argc, char** argv) {
    CLI::App app{"fleetbox-helper: holds a fleetbox network and its VMs", "fleetbox-helper"};
    HelperOptions options;
    add_helper_options(app, options);
    CLI11_PARSE(app, argc, argv);
    return run_helper(options);
}

} // namespace fleetbox::helper
