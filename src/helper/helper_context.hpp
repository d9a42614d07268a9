// HelperContext and the backend factory seam of fleetbox-helper.
//
// Why a link-time factory: the helper server is the same for every binary; which Backend it
// drives is decided by the binary that links it. tools/fleetbox-helper defines make_backend
// with the real (QEMU + netlink + nftables) backend; the test-only fleetbox-helper-fake
// defines it with the fake. There is deliberately no runtime switch a user could flip.
// reconcile_store is the same seam for the helper's reconcile mode.
#pragma once

#include "backend/backend.hpp"
#include "helper/main_thread_executor.hpp"
#include "proto/helper_mode.hpp"
#include "proto/prune_report.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace fleetbox::helper {

using proto::HelperMode;
using proto::to_string;

struct HelperContext {
    const Store& store;
    std::string member; // the member the helper was started for
    HelperMode mode;
    MainThreadExecutor& executor; // fork children that carry PR_SET_PDEATHSIG through this
};

// Defined once per helper binary. Called on the main thread before the helper listens; a
// failure is printed as "fleetbox-helper: <error>" and the helper exits 1.
Result<std::unique_ptr<backend::Backend>> make_backend(const HelperContext& context);

// Defined once per helper binary, for `fleetbox-helper --reconcile`: reclaim the networks
// that dead fleetbox processes left in `store` (dry_run: report only). The real helper runs
// the net layer's reconcile over store.networks_dir(); the fake owns no host network and
// reports nothing.
Result<proto::PruneReport> reconcile_store(const Store& store, bool dry_run);

} // namespace fleetbox::helper
