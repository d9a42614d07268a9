// The per-VM NoCloud seed ISO: volume id "cidata", publisher "fleetbox", root files
// meta-data, user-data and network-config.
//
// Why a per-VM seed: cloud-init's NoCloud datasource finds the disk by its "cidata" label and
// configures the VM once from it (user, login key, host key, static address). It is written
// once, at create.
#pragma once

#include "seed/cloud_config.hpp"
#include "util/error.hpp"

#include <string>

namespace fleetbox::seed {

inline constexpr const char* kSeedVolumeId = "cidata";
inline constexpr const char* kSeedPublisher = "fleetbox";

// Renders the three documents (validating the spec) and writes the ISO atomically.
Status write_seed_iso(const SeedSpec& spec, const std::string& out_path);

} // namespace fleetbox::seed
