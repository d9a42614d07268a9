// Privileges of the client process: dropping to the invoking user under sudo, and the one
// scoped way back to root.
//
// Why: fleetbox's store belongs to the invoking user, and root must never open a path in it
// that the user could have swapped (issue 9, ADR on the threat model). So the CLI run through
// sudo becomes that user for its whole run: real and effective ids are the user's, only the
// saved uid stays 0. Every store file is then created and opened by the user, exactly as a
// non-sudo run would. Root is needed again only in two places: the fleetbox-helper child
// (ChildSpec::regain_root, in the forked child only) and an image build (ScopedRoot), because
// mmdebstrap creates a root filesystem with real ownership.
//
// Kernel behavior relied on (capabilities(7), "Effect of user ID changes on capabilities"):
// while any of real/effective/saved uid is 0 the permitted capability set is kept; moving
// the effective uid from 0 to non-zero clears the effective set, moving it back to 0 copies
// the permitted set into the effective set. setresuid(2) lets an unprivileged process set
// any id to the value of one of its current real/effective/saved ids.
#pragma once

#include "util/error.hpp"

#include <string>
#include <sys/types.h>

namespace fleetbox {

// Under sudo (euid 0, SUDO_USER names a user other than root): initgroups(user),
// setresgid(g, g, 0), setresuid(u, u, 0), then HOME set to the user's home, so every later
// lookup (invoking_user(), ~/.fleetbox, ssh) sees the user. Returns true when it dropped,
// false when there was nothing to do (not root, or plain root without sudo: CI keeps running
// as root with a root-owned store). An error means the process state is unchanged or
// unusable; the caller must stop.
Result<bool> drop_to_invoking_user();

// True when the process can become root again: its saved uid is 0 (after
// drop_to_invoking_user) or it is root already.
bool can_regain_root();

// In a forked child, between fork and exec (async-signal-safe): become root in every uid and
// gid, with no supplementary groups. A no-op returning 0 when already root in all ids;
// otherwise 0 or the errno of the failing call (EPERM when the saved uid is not 0).
int regain_root_in_child() noexcept;

// Process-wide root for one scope: real and effective uid/gid become 0 (real too, because
// perl, and with it mmdebstrap, turns on taint mode when real and effective ids differ), the
// previous ids come back when the scope ends. A no-op when the process is root already. The
// caller documents why it needs root; the image build is the one user.
class ScopedRoot {
public:
    // Permission ("needs root") when the process is neither root nor able to regain it.
    static Result<ScopedRoot> enter(const std::string& why);
    ScopedRoot(ScopedRoot&& other) noexcept;
    ScopedRoot& operator=(ScopedRoot&&) = delete;
    ScopedRoot(const ScopedRoot&) = delete;
    ScopedRoot& operator=(const ScopedRoot&) = delete;
    ~ScopedRoot();

    // Whether this scope changed the ids (false: the process was root before).
    [[nodiscard]] bool elevated() const { return elevated_; }
    // Who to give files made in this scope back to: the ids before the scope.
    [[nodiscard]] uid_t user_uid() const { return uid_; }
    [[nodiscard]] gid_t user_gid() const { return gid_; }

private:
    ScopedRoot(bool elevated, uid_t uid, gid_t gid) : elevated_(elevated), uid_(uid), gid_(gid) {}
    bool elevated_ = false;
    uid_t uid_ = 0; // effective ids before the scope
    gid_t gid_ = 0;
    uid_t real_uid_ = 0; // real ids before the scope
    gid_t real_gid_ = 0;
};

} // namespace fleetbox
