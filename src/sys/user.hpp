// The invoking user: who fleetbox works for, even when it runs as root under sudo.
//
// Why: fleetbox needs root for bridges and taps, so users run it with sudo. Its store and SSH
// key must still live in, and belong to, the real user's home, or the next non-sudo `ssh`
// could not read the key.
#pragma once

#include "util/error.hpp"

#include <optional>
#include <string>
#include <sys/types.h>

namespace fleetbox {

struct InvokingUser {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
    std::string home;
    bool via_sudo = false; // from sudo_user(): root running on behalf of SUDO_USER
};

// The user this process works for: its effective uid, whose home is $HOME (falling back to
// the passwd entry). A root process is root, SUDO_USER or not: root never works in a store a
// user controls; the CLI drops to sudo_user() first, so for it this is that user.
Result<InvokingUser> invoking_user();
// euid 0 with SUDO_USER set (and not "root") -> that user's passwd entry; nullopt otherwise.
Result<std::optional<InvokingUser>> sudo_user();
// chown path to the invoking user when running as root under sudo; a no-op otherwise. The CLI
// drops to the invoking user first (sys/privileges.hpp), so for it this is always a no-op; it
// matters only for a library caller that stays root under sudo.
Status give_to_invoking_user(const std::string& path, const InvokingUser& user);

} // namespace fleetbox
