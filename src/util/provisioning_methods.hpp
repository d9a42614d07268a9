// The names of the ways a guest can be configured, as they are written in an image's
// manifest, a VM's config.json and on the command line (`up --provisioning`).
//
// Why here, at the bottom layer: the store (config.json), the image (manifest), the seed
// layer (which writes each method's seed) and the CLI must spell them the same way without
// depending on each other. What each method is: seed/provisioner.hpp and ADR 0012.
#pragma once

namespace fleetbox {

inline constexpr const char* kMethodFleetboxSeed = "fleetbox-seed"; // the fast path
inline constexpr const char* kMethodNoCloud = "nocloud";            // cloud-init's NoCloud seed

} // namespace fleetbox
