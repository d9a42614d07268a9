// One control connection of fleetbox-helper: handshake, peer check, request dispatch.
//
// Why a thread per connection: boot-member blocks until the guest's port 22 accepts (minutes
// under TCG) while status and stop for the same or other members must still be served, and a
// client may keep one connection open for its whole life (the bind lifeline).
#pragma once

#include "helper/server.hpp"

namespace fleetbox::helper {

// Serves requests on `fd` until the peer closes it, a handshake fails, or the server shuts the
// fd down. Runs on its own thread; never throws.
void serve_connection(HelperServer& server, int fd);

} // namespace fleetbox::helper
