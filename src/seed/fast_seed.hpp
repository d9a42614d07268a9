// The fast seed: a VM's identity as a tar of ready-made files, applied in the guest by a
// small unit baked into images fleetbox builds (no cloud-init on the boot path).
//
// Why (ADR 0012): under TCG, cloud-init's two Python start-ups cost ~20 s before sshd, for
// work whose every input fleetbox knows at create. The host renders the files here, as pure
// functions a unit test can read; the guest's `fleetbox-seed` script (image/guest_files.hpp)
// only checks the format line and copies each file to its fixed place with fixed modes, so
// the guest never parses anything richer than `key=value` lines.
//
// Entries (all at the archive's top level):
//   format                     "fleetbox-seed 1": the guest refuses any other
//   hostname                   the VM's name
//   hosts                      /etc/hosts (hosts_file.hpp)
//   network                    mac=, address= (CIDR), gateway=, dns= (repeatable) lines
//   authorized_keys            the login key of user fleetbox
//   ssh_host_ed25519_key[.pub] the VM's own host key (private: 0600, root only in the guest)
//   mounts                     "LABEL=<label> <guest path>" lines (read-only fixture disks)
#pragma once

#include "seed/cloud_config.hpp"
#include "seed/tar_image.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace fleetbox::seed {

inline constexpr const char* kFastSeedFormat = "fleetbox-seed 1";

// The archive's entries for a spec (validated first: InvalidArgument naming the field).
Result<std::vector<TarEntry>> render_fast_seed(const SeedSpec& spec);

// render_fast_seed, written atomically as a 0600 tar file.
Status write_fast_seed(const SeedSpec& spec, const std::string& out_path);

} // namespace fleetbox::seed
