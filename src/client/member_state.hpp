// A member's live state as its helper reports it, and "make sure it is down" before its
// files are deleted.
//
// Why one place: "the helper did not answer" has many causes, and only two of them mean the
// VM is not running: no socket file (ENOENT) and a socket nobody listens on (ECONNREFUSED).
// A permission error (a helper of root, reached without sudo), a socket served by another
// user, a helper of another protocol version or a timeout all leave the VM's state unknown.
// Reading those as "stopped" once made `rm -f` without sudo delete the disk of a running VM
// and the live helper's socket. Every caller that decides from a member's state (ls, down,
// rm, up, the library's destroy) goes through these two functions.
#pragma once

#include "client/helper_launcher.hpp"
#include "proto/messages.hpp"
#include "store/store.hpp"

#include <string>

namespace fleetbox::client {

// The helper's status of `name`; Stopped when no helper answers on its socket; an error
// (Permission, InvalidArgument for another version, Timeout, ...) otherwise.
Result<proto::StatusInfo> member_status(const Store& store, const HelperLauncher& launcher,
                                        const std::string& name);

// Returns once `name` is known to be down: no helper answers on its socket, or its helper
// says it is stopped (after a stop this call sent, when it was not). The helper is then asked
// to release the member's address (best effort). Any other outcome is an error, and the
// caller must not delete the member's files. Call it holding the member's lock.
Status ensure_member_down(const Store& store, const HelperLauncher& launcher,
                          const std::string& name);

} // namespace fleetbox::client
