// The mmdebstrap command line that builds an image's root filesystem (a pure function).
//
// Why a separate, pure function: it is the single definition of "the package set" — the
// builder runs it, `fleetbox image recipe` prints it, and bench/image-build.sh runs the same
// command without our hooks as the baseline the build time is measured against.
//
// What the hooks do (traps from reference/boot-tcg.md):
//  - setup hook (before any package is unpacked): initramfs-tools config for a small initrd,
//    MODULES=list plus a hook that force-loads the virtio modules (the cloud kernel has
//    virtio_blk/virtio_mmio/virtio_pci as modules, so without them the guest cannot mount
//    its root). It goes to conf.d/ and hooks/, never to the conffiles initramfs.conf or
//    modules, so dpkg never sees a locally modified conffile.
//  - customize hook (after all packages are installed): remove the build host's
//    /etc/resolv.conf, the build-time /etc/ssh/ssh_host_* keys (every VM gets its own) and
//    /etc/hostname; make the hostname always resolve (nss-myhostname), else sudo stalls on
//    DNS; write /etc/fstab for the whole-disk ext4 root; restrict cloud-init to NoCloud; bake
//    in the guest side of the fast path (guest_files.hpp: seed and growfs units, the user and
//    its sudo rule, an empty machine-id); mask units that only cost boot time in a test VM;
//    drop caches and logs.
//  - both: boot-progress markers on the serial console, visible with `quiet`:
//    "fleetbox: stage=initramfs uptime=N" (initramfs init-top), "fleetbox: stage=systemd
//    uptime=N" (before sysinit.target), "fleetbox: stage=sshd uptime=N" (sshd listening).
#pragma once

#include "image/apt_sources.hpp"
#include "image/catalog.hpp"
#include "util/console_markers.hpp"

#include <string>
#include <vector>

namespace fleetbox::image {

// mmdebstrap --mode: "unshare" as root keeps every mount of the build in a private mount
// namespace (a killed build can never leak /dev or /proc bind mounts into the build
// directory) and still produces correct file ownership.
inline constexpr const char* kMmdebstrapMode = "unshare";

// Console markers: util/console_markers.hpp.

// The full argv (argv[0] = "mmdebstrap") building `entry` into `target_dir`.
std::vector<std::string> mmdebstrap_argv(const CatalogEntry& entry, const std::string& target_dir,
                                         const std::vector<std::string>& mirrors);

// What the recipe is: the sha256 of its mmdebstrap argv (package set, hooks, options; not
// the target or the mirrors). A manifest records it, so a cached image built by another
// recipe (an older fleetbox) can be told apart from one this binary would build.
std::string recipe_fingerprint(const CatalogEntry& entry);

// The two hook scripts (single-line POSIX sh, "$1" is the chroot), exposed for tests.
std::string setup_hook(const CatalogEntry& entry);
std::string customize_hook(const CatalogEntry& entry);

// The mirrors an entry is built from: the host's configured Debian mirror for its suite.
Result<MirrorSet> mirrors_for(const CatalogEntry& entry, const std::string& apt_dir = "/etc/apt");

} // namespace fleetbox::image
