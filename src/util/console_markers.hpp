// Lines that images fleetbox builds print on the serial console, and that the host reads.
//
// Why here, at the bottom layer: the image recipe (which bakes them into the guest), the VM
// layer (which fails a boot early when the guest reports a failure) and the client (which
// turns them into per-phase boot timings) must agree on the exact text, without depending on
// each other. Each progress marker is followed by " uptime=<guest seconds>". Console output
// is guest data: it is matched against these prefixes, never interpreted further.
#pragma once

namespace fleetbox {

// Progress, in boot order.
inline constexpr const char* kMarkerInitramfs = "fleetbox: stage=initramfs"; // initramfs /init runs
inline constexpr const char* kMarkerSwitchRoot = "fleetbox: stage=switch-root"; // initramfs is done
inline constexpr const char* kMarkerSystemd = "fleetbox: stage=systemd"; // before sysinit.target
inline constexpr const char* kMarkerSeed = "fleetbox: stage=seed";       // fast seed applied
inline constexpr const char* kMarkerSshd = "fleetbox: stage=sshd";       // sshd listening

// The fast seed could not be applied; the rest of the line says why.
inline constexpr const char* kMarkerSeedFailed = "fleetbox: seed failed:";

} // namespace fleetbox
