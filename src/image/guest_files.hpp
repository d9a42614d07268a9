// Files baked into images fleetbox builds for the fast path (ADR 0012), as pure text.
//
// Why in the image and not in the seed: the guest's side of the fast path is code (a unit
// and a POSIX sh script), the seed is only data (seed/fast_seed.hpp). Keeping the code in
// the image means a seed can never make the guest run anything; the script copies the seed's
// files to fixed places with fixed modes and configures one static address with `ip`.
//
// What the image gets:
//  - /usr/lib/fleetbox/fleetbox-seed and fleetbox-seed.service: run early (before
//    sysinit.target, ssh and the network) when the kernel command line has fleetbox.seed=DEV;
//    per boot: hostname, /etc/hosts, the address and default route; once per disk: the host
//    key and the login key. Prints kMarkerSeed, or kMarkerSeedFailed with the reason (the
//    host then fails the boot at once).
//  - fleetbox-growfs(.service): once per disk, in parallel with the rest of early boot but
//    before sshd (so `df /` is right when SSH answers): resize2fs of the root to the disk.
//  - a drop-in that skips ssh.service's `sshd -t` config check (a second sshd start-up);
//  - the user fleetbox (uid 1000) with passwordless sudo, so no step creates it at boot;
//  - sshd serving only the ed25519 host key (the one fleetbox pins);
//  - an empty /etc/machine-id (systemd makes a unique one at each VM's first boot) and a
//    preset that keeps networkd off (cloud-init's path uses ifupdown, the fast path `ip`).
#pragma once

#include <string>

namespace fleetbox::image {

inline constexpr const char* kGuestUser = "fleetbox";
inline constexpr const char* kSeedScriptPath = "usr/lib/fleetbox/fleetbox-seed";
inline constexpr const char* kSeedUnitName = "fleetbox-seed.service";
inline constexpr const char* kGrowfsScriptPath = "usr/lib/fleetbox/fleetbox-growfs";
inline constexpr const char* kGrowfsUnitName = "fleetbox-growfs.service";

// The kernel command line words that select each method on images built with these files.
// Fast path: cloud-init's generator stands down, ifupdown's units are masked (their udev
// settle alone is ~2.5 s under TCG), the NIC keeps the kernel name eth0.
std::string fast_path_cmdline(const std::string& seed_device);
// NoCloud: cloud-config and cloud-final only compete with sshd for the vCPUs.
std::string nocloud_cmdline();

std::string seed_script();
std::string seed_unit();
std::string growfs_script();
std::string growfs_unit();
std::string sshd_unit_dropin();
std::string sudoers_file();
std::string sshd_config_dropin();
std::string preset_file();

} // namespace fleetbox::image
