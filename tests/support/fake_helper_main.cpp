// fleetbox-helper-fake: the TEST-ONLY helper binary. It is the real helper server driving the
// FakeBackend (instant boots, one `sleep` stand-in per member, calls recorded to
// FLEETBOX_FAKE_RECORD), so coordination tests need neither root nor VMs. It alone accepts
// --protocol-version, to provoke a version mismatch. It is never installed. In --reconcile
// mode it reports an empty reclaim (it owns no host network).
// CLI11 2.1's inline CLI::detail::split trips g++ 12's -Wnull-dereference (false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include "backend_fake/fake_backend.hpp"
#include "helper/helper_context.hpp"
#include "helper/helper_main.hpp"

namespace fleetbox::helper {

Result<std::unique_ptr<backend::Backend>> make_backend(const HelperContext& context) {
    backend::FakeOptions options = backend::FakeOptions::from_env();
    MainThreadExecutor& executor = context.executor;
    // Stand-ins carry PR_SET_PDEATHSIG, so they are forked from the helper's main thread.
    options.spawn = [&executor](const ChildSpec& spec) {
        return executor.run([&] { return ChildProcess::spawn(spec); });
    };
    return std::unique_ptr<backend::Backend>(new backend::FakeBackend(std::move(options)));
}

// The fake backend makes no host network, so there is never anything to reclaim.
Result<proto::PruneReport> reconcile_store(const Store& /*store*/, bool dry_run) {
    proto::PruneReport report;
    report.dry_run = dry_run;
    return report;
}

} // namespace fleetbox::helper

int main(int argc, char** argv) {
    CLI::App app{"fleetbox-helper-fake: fleetbox-helper with the fake backend (tests only)",
                 "fleetbox-helper-fake"};
    fleetbox::helper::HelperOptions options;
    fleetbox::helper::add_helper_options(app, options);
    app.add_option("--protocol-version", options.protocol_version,
                   "speak this protocol version (tests)");
    bool no_capabilities = false;
    app.add_flag("--no-capabilities", no_capabilities,
                 "announce no capabilities, like an older helper (tests)");
    // The launcher passes --user UID:GID; until the shared helper options know it, accept and
    // ignore it here (the fake drops no privileges either way).
    std::string user;
    if (app.get_option_no_throw("--user") == nullptr)
        app.add_option("--user", user, "UID:GID of the store's owner (ignored by the fake)");
    CLI11_PARSE(app, argc, argv);
    if (no_capabilities)
        options.capabilities.clear();
    return fleetbox::helper::run_helper(options);
}
