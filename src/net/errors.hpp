// Error helpers shared by the netlink, tun and nftables code of the net layer.
//
// Why: every kernel network change needs CAP_NET_ADMIN; an unprivileged user sees EPERM
// from netlink, from TUNSETIFF and from nf_tables alike. All three turn into the same
// Permission error with one hint saying how to run fleetbox, so the CLI prints
// "error: create bridge fbx-1a2b3c4d: Operation not permitted" + "hint: ...sudo".
#pragma once

#include "util/error.hpp"

#include <string>

namespace fleetbox {

inline constexpr const char* kNetAdminHint =
    "fleetbox needs root (CAP_NET_ADMIN) to create bridges and taps: run it with sudo";

// errno_error(), plus kNetAdminHint when err_no is EPERM or EACCES.
Error net_errno_error(std::string operation, int err_no);

} // namespace fleetbox
