// Per-interface IPv4 forwarding through /proc/sys/net/ipv4/conf/<ifname>/forwarding.
//
// Why per interface and never conf/all: flipping the global switch changes routing for the
// whole host (and resets per-interface settings); fleetbox only enables forwarding on its
// own bridge so guest traffic can be routed and masqueraded. The per-bridge sysctl goes
// away with the bridge, so there is nothing to undo on teardown. /proc/sys/net shows the
// namespace of the process that opens it, which keeps tests inside their namespace.
#pragma once

#include "util/error.hpp"

#include <string>

namespace fleetbox {

// Write "1\n" (or "0\n") to conf/<ifname>/forwarding. "all" and "default" are refused.
Status set_forwarding(const std::string& ifname, bool on);
Status enable_forwarding(const std::string& ifname);
// Read conf/<ifname>/forwarding.
Result<bool> forwarding_enabled(const std::string& ifname);
// Read conf/all/forwarding (the host-wide switch fleetbox reads but never writes).
Result<bool> global_forwarding_enabled();

} // namespace fleetbox
