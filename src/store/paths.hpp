// Where the store lives.
//
// Why: fleetbox runs both as the user and under sudo (for bridges and taps). Both must see the
// same VMs, images and SSH key, so under sudo the store is in the invoking user's home, not
// root's. FLEETBOX_HOME overrides everything (tests and CI point it at a scratch directory).
#pragma once

#include "util/error.hpp"

#include <string>

namespace fleetbox {

// FLEETBOX_HOME when set and non-empty (made absolute against the current directory when it
// is relative, trailing slashes dropped); otherwise <invoking user's home>/.fleetbox
// (sys/user.hpp: SUDO_USER's passwd home under sudo, else $HOME).
Result<std::string> resolve_store_root();

// `path` made absolute against the current directory, with trailing slashes removed.
Result<std::string> absolute_path(const std::string& path);

} // namespace fleetbox
