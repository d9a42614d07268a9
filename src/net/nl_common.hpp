// libnl plumbing shared by the net layer's rtnetlink files (netlink.cpp, routes.cpp); not
// used outside src/net.
//
// Why one place: every call opens its own NETLINK_ROUTE socket (so it acts on the calling
// thread's current network namespace) and turns libnl's negative NLE_* codes back into
// errno, so EPERM gets the same "run it with sudo" hint everywhere.
#pragma once

#include "util/error.hpp"

#include <memory>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <string>

namespace fleetbox::nl {

struct SockFree {
    void operator()(nl_sock* p) const { nl_socket_free(p); }
};
struct CacheFree {
    void operator()(nl_cache* p) const { nl_cache_free(p); }
};
struct MsgFree {
    void operator()(nl_msg* p) const { nlmsg_free(p); }
};
using SockPtr = std::unique_ptr<nl_sock, SockFree>;
using CachePtr = std::unique_ptr<nl_cache, CacheFree>;
using MsgPtr = std::unique_ptr<nl_msg, MsgFree>;

// errno for a (negative) NLE_* code; 0 when libnl's code has no errno equivalent.
int errno_of(int nlerr);
// The object is not there (NLE_NODEV, NLE_OBJ_NOTFOUND).
bool is_missing(int nlerr);
// An Error for a failed libnl call, with the root hint for EPERM/EACCES.
Error error(std::string operation, int nlerr);
// A new socket connected to NETLINK_ROUTE in the caller's network namespace.
Result<SockPtr> connect_route(const std::string& operation);

} // namespace fleetbox::nl
