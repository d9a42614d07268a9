// The fleetbox-helper process entry: command-line options and the helper's whole life.
//
//   fleetbox-helper --store ROOT --member NAME --mode bound|detached [--parent-pid PID]
//                   [--idle-exit-after SECONDS] [--user UID:GID]
//   fleetbox-helper --reconcile --store ROOT [--dry-run] [--user UID:GID]
//
// The second form (reconcile mode) needs CAP_NET_ADMIN like the helper itself: it reclaims
// the networks of dead fleetbox processes, prints one JSON report (proto/prune_report.hpp)
// on stdout and exits 0, or prints "fleetbox-helper: <error>" on stderr and exits 1.
//
// Why split from main(): the real binary (tools/fleetbox-helper) and the test-only
// fleetbox-helper-fake share everything except make_backend() and, for the fake only, a
// --protocol-version flag that lets tests provoke a version mismatch. Users never see
// either difference.
#pragma once

#include "helper/server.hpp"

namespace CLI {
class App;
}

namespace fleetbox::helper {

// Registers --store, --member, --mode, --parent-pid, --idle-exit-after, --reconcile, --dry-run
// and --user. --member and --mode are required unless --reconcile is given (and refused with it).
void add_helper_options(CLI::App& app, HelperOptions& options);

// Runs the helper until it shuts down; returns the process exit code (0 after a graceful
// shutdown, 1 when it could not start: the reason is printed as "fleetbox-helper: ...").
int run_helper(const HelperOptions& options);

// Parse argv with add_helper_options, then run_helper.
int helper_main(int argc, char** argv);

} // namespace fleetbox::helper
