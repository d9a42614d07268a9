// The helper's privilege drop: what fleetbox-helper may still do once it serves.
//
// Why: the helper is started as root because bridges, taps, nftables and the forwarding
// sysctls need CAP_NET_ADMIN, but everything else it does (store files, sockets, QEMU) is
// work for the store's owner, the invoking user (`--user UID:GID`). Before it reads a request
// it checks that the store really is that user's (owned by them, not writable by group or
// others: nobody else can plant files in it), sets umask 077, and, when it runs as root,
// keeps CAP_NET_ADMIN only (effective and permitted; the bounding set is cleared except
// for it) and becomes the user. When the user is root itself (CI), it stays uid 0 but with
// CAP_NET_ADMIN only and SECBIT_NOROOT locked, so nothing it executes regains root's
// capabilities. Children (QEMU) therefore never get any capability.
//
// Must run before the helper starts any thread: capabilities are per thread.
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>

namespace fleetbox::helper {

struct HelperUser {
    uid_t uid = 0;
    gid_t gid = 0;
};

// "1000:1000" -> {1000, 1000}; InvalidArgument for anything else.
Result<HelperUser> parse_user(std::string_view text);

// The helper's own real uid and gid: whom it works for without --user.
HelperUser own_user();

// Opens `store_root` (O_DIRECTORY | O_NOFOLLOW) and checks that it is owned by `user` and
// not writable by group or others. Permission error, e.g.
//   the store /home/ann/.fleetbox is owned by uid 1001, not by uid 1000
Status check_store_root(const std::string& store_root, const HelperUser& user);

// umask(077); then, when running as root, keep only CAP_NET_ADMIN and become `user` (or,
// when `user` is root, stay uid 0 with SECBIT_NOROOT locked). Without root, `user` must be
// the helper's own uid/gid. A parent-death signal set by whoever started the helper is
// re-armed after the uid change (which clears it).
Status drop_privileges(const HelperUser& user);

// check_store_root, then drop_privileges: the helper's first step.
Status secure_helper(const std::string& store_root, const HelperUser& user);

} // namespace fleetbox::helper
