// The guest's own boot phases, read from the console markers images fleetbox builds print
// (util/console_markers.hpp): how long the kernel, the initramfs and userspace until sshd
// took, in guest seconds since the kernel started.
//
// Why from the console: the host only sees "QEMU started" and "port 22 open"; the markers
// tell where inside the guest a slow boot spent its time (`up --timings`, bench/boot.sh)
// without logging in. Console text is guest data: only lines that start with a known marker
// and carry a plausible number are used; everything else is ignored.
#pragma once

#include <fleetbox/fleetbox.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::client {

// Phases "kernel" (to the initramfs marker), "initramfs" (to the switch-root marker) and
// "userspace to sshd" (to the sshd marker); with no switch-root marker (images built before
// it) the last is "initramfs + userspace to sshd". A phase whose markers are missing is left
// out. When a console holds several boots, the last one counts.
std::vector<PhaseTiming> guest_phases(std::string_view console);

// guest_phases of a file; empty when it cannot be read (the timings are informational).
std::vector<PhaseTiming> guest_phases_of(const std::string& serial_log);

} // namespace fleetbox::client
