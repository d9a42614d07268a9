// prune (see prune.hpp): one helper run in --reconcile mode, its stdout decoded as a report.
// The helper prints "fleetbox-helper: <error> (<hint>)" as its last stderr line on failure;
// that line (without the program prefix) becomes the error's reason. The helper runs as root
// (ChildSpec::regain_root), also when the CLI dropped to the invoking user under sudo.
#include "client/prune.hpp"

#include "client/helper_launcher.hpp"
#include "sys/child_process.hpp"
#include "sys/privileges.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>

namespace fleetbox::client {

namespace {

constexpr std::string_view kHelperPrefix = "fleetbox-helper: ";
constexpr const char* kOperation = "reclaim leftover fleetbox networks";

Error helper_failed(const CommandOutput& run) {
    std::string why = last_line(run.err);
    if (starts_with(why, kHelperPrefix))
        why.erase(0, kHelperPrefix.size());
    if (why.empty())
        why = "fleetbox-helper " + run.status.describe();
    Error e{ErrorKind::ExternalCommand, 0, kOperation, why, {}};
    if (why.find("Operation not permitted") != std::string::npos ||
        why.find("Permission denied") != std::string::npos ||
        why.find("needs root") != std::string::npos) {
        e.kind = ErrorKind::Permission;
        e.hint = "reclaiming networks needs root (CAP_NET_ADMIN): run it with sudo";
    }
    return e;
}

} // namespace

Result<PruneReport> prune(const Store& store, const PruneOptions& options) {
    std::string helper = options.helper_path;
    if (helper.empty())
        helper = FBX_TRY(HelperLauncher::locate());
    ChildSpec spec;
    // The store's owner: the helper checks the store is theirs and reconciles as them.
    spec.argv = {helper,    "--reconcile",
                 "--store", store.root(),
                 "--user",  fmt::format("{}:{}", store.owner().uid, store.owner().gid)};
    if (options.dry_run)
        spec.argv.push_back("--dry-run");
    spec.in = Stream::Null;
    spec.out = Stream::Capture;
    spec.err = Stream::Capture;
    // A process that never had root (a user, maybe with CAP_NET_ADMIN of its own) runs the
    // helper as itself, as before: the helper says what it lacks.
    spec.regain_root = can_regain_root();
    auto run = run_command(spec, options.timeout);
    if (!run)
        return fail(std::move(run).error().wrap(kOperation));
    if (!run->status.ok())
        return fail(helper_failed(*run));
    auto report = proto::decode_prune_report(trim(run->out));
    if (!report)
        return fail(std::move(report).error().wrap(kOperation));
    if (report->dry_run != options.dry_run)
        return fail(ErrorKind::Corrupt, kOperation,
                    "the helper answered for the wrong mode (dry_run is " +
                        std::string(report->dry_run ? "true" : "false") + ")");
    return report;
}

Result<PruneReport> prune(const Store& store, bool dry_run) {
    PruneOptions options;
    options.dry_run = dry_run;
    return prune(store, options);
}

} // namespace fleetbox::client
