// Which VMs a command names (`down`/`rm` targets), and what a failed first boot left behind.
//
// Why in the library: the CLI and a C++ program must resolve "web" the same way. As in the
// original: an exact existing name wins; otherwise a name expands to every VM of that cluster
// (`web` -> web-1, web-2, never web-prod); otherwise it is unknown. `--all` is every VM.
#pragma once

#include "store/store.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace fleetbox::client {

struct TargetSelection {
    std::vector<std::string> names; // names or cluster names, as given
    bool all = false;               // every VM (not combinable with names)
};

struct Targets {
    std::vector<std::string> found;   // existing VMs, in the order named, no duplicates
    std::vector<std::string> unknown; // names that matched no VM
};

// InvalidArgument for --all with names, or for neither.
Result<Targets> resolve_targets(const Store& store, const TargetSelection& selection);

// Names that are not VMs but still have the logs of a failed first boot (store failed/):
// with --all every such name, else those of targets.unknown (which are moved out of it).
// `rm` removes those logs too, without asking (no disk is involved).
Result<std::vector<std::string>>
take_failed_boots(const Store& store, const TargetSelection& selection, Targets& targets);

} // namespace fleetbox::client
