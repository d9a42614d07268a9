// fleetbox::check_host: can this host boot a VM right now?
//
// Why a public call of its own: a test suite wants to skip (not fail) on a machine that cannot
// run VMs, and a tool wants to say why before it creates anything. It runs the same preflight
// start() runs first, without touching the store, the network or any image.
#pragma once

#include <fleetbox/error.hpp>
#include <fleetbox/export.hpp>

namespace fleetbox {

// Ok when this process can boot VMs: qemu-system-x86_64 on PATH, CAP_NET_ADMIN (root, for the
// bridge and taps its helper creates), /dev/net/tun usable, and FLEETBOX_ACCEL (if set)
// valid. Otherwise the first thing missing, one line plus a hint: MissingDependency (no QEMU,
// no /dev/net/tun), Permission (not root / no CAP_NET_ADMIN), InvalidArgument (a bad
// FLEETBOX_ACCEL), NotFound / Permission (FLEETBOX_ACCEL=kvm without a usable /dev/kvm). Owns
// nothing; blocks only for a few stat/open calls (microseconds).
FLEETBOX_API Status check_host();

} // namespace fleetbox
