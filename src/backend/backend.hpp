// Backend: the small seam between "what to do with VMs" and "how it is done".
//
// Why: the helper serves the control protocol by calling a Backend; the real one drives
// netlink, nftables and QEMU, the fake one is an instant in-process state machine that
// records every call (coordination tests without root or VMs). The client programs against
// the same interface through HelperClient, whose every call is a protocol RPC, so the
// orchestrator never links hypervisor or netlink code and can be tested against the fake.
//
// Threading: boot() blocks until the guest is reachable (minutes under TCG) and may be
// called from a connection thread; status() and stop() must work concurrently with it
// (stop during boot makes boot() return an error and leaves no process behind).
#pragma once

#include "proto/messages.hpp"
#include "util/error.hpp"

#include <functional>
#include <string>

namespace fleetbox::backend {

// A member whose VM process ended by itself (guest poweroff, crash, kill), not through stop():
// the state it now has (stopped after a clean exit, error otherwise) and, for an error, why.
// `idle`: no member is starting or running any more (a detached helper exits on it).
struct MemberExit {
    std::string name;
    proto::MemberState state = proto::MemberState::Stopped;
    std::string error;
    bool idle = false;
};
using MemberExitHandler = std::function<void(const MemberExit&)>;

class Backend {
public:
    virtual ~Backend() = default;
    // Create the network, or return the one already created (idempotent). A requested
    // subnet is used exactly (an error names what holds it when it is not free); otherwise
    // the first free /24 outside request.avoid. A request for another subnet than the one
    // already created is an error.
    virtual Result<proto::NetworkInfo> create_network(const proto::CreateNetwork& request) = 0;
    // Reserve an address for a member (idempotent per name). Needs create_network first.
    virtual Result<proto::Reservation> reserve(const std::string& name,
                                               const std::string& ip_hint) = 0;
    // Boot a reserved member; returns once its port 22 accepts connections.
    // A member that is already starting or running is refused (ErrorKind::Busy).
    virtual Result<proto::Booted> boot(const proto::BootSpec& spec) = 0;
    // State of a member this backend knows; unknown members read as "stopped".
    virtual Result<proto::StatusInfo> status(const std::string& name) = 0;
    // Stop a member (graceful, bounded escalation); returns once its VM process is gone.
    // Stopping a member that is not running is success.
    virtual Status stop(const std::string& name) = 0;
    // Forget a member that is not starting or running (Busy otherwise): its reservation and
    // address are freed. Releasing an unknown member is success.
    virtual Status release(const std::string& name) = 0;
    // Every member this backend knows (sorted by name, with their states) and the network
    // (subnet empty before create_network).
    virtual Result<proto::MemberList> list() = 0;
    // Number of members starting or running.
    virtual int active_members() = 0;
    // Stop every member and remove the network. Idempotent.
    virtual Status shutdown() = 0;
    // Called (on a backend thread, never with the backend's lock held) each time a member's VM
    // process ends by itself, once the backend has cleaned up after it. An empty handler (the
    // default) unsets it; once this returns, the previous handler is no longer running.
    virtual void on_member_exit(MemberExitHandler handler) { (void)handler; }
    // The helper turned detached (the `detach` request): from now on the stop (or exit) of the
    // last active member also removes the network, as in a helper started detached.
    virtual void set_detached() {}
    // The bound client is gone (its bind connection reached EOF, or its process exited): from
    // now on a stop skips the guest's ACPI powerdown and quits QEMU at once (its disk writes
    // are flushed; the guest is not shut down), so a killed test binary leaves nothing running
    // within seconds instead of waiting for each guest's shutdown.
    virtual void set_abandoned() {}
};

} // namespace fleetbox::backend
