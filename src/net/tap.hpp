// Persistent tap devices for QEMU's `-netdev tap,fd=N`.
//
// Why persistent taps made by us: the helper (CAP_NET_ADMIN) creates the tap, enslaves it to
// the bridge and brings it up before QEMU starts, so QEMU needs no network scripts and no
// privileges of its own. A tap made with TUNSETIFF + TUNSETPERSIST outlives the fd that
// made it; the helper then attaches a fresh fd to it for each QEMU launch (TUNSETIFF on an
// existing persistent tap attaches rather than creates) and hands that fd over. It
// disappears only when deleted (delete_tap) or when its network namespace goes away.
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <string>

namespace fleetbox {

// Create a persistent tap (IFF_TAP | IFF_NO_PI). Fails with AlreadyExists when any
// interface already has the name (IFF_TUN_EXCL), so we never adopt someone else's device.
Status create_tap(const std::string& name);
// Delete a tap; a missing one is success.
Status delete_tap(const std::string& name);
// Attach to an existing persistent tap exactly as QEMU would (IFF_TAP | IFF_NO_PI |
// IFF_VNET_HDR); NotFound when it does not exist. The returned fd carries frames: the
// helper hands it to QEMU (-netdev tap,fd=N), which has no CAP_NET_ADMIN to attach itself.
Result<Fd> open_tap(const std::string& name);

} // namespace fleetbox
