// The invoking user: who fleetbox works for, and SUDO_USER, whom the CLI becomes under sudo.
//
// Why: fleetbox needs root for bridges and taps, so users run it with sudo. Its store and SSH
// key must still live in, and belong to, the real user's home, or the next non-sudo `ssh`
// could not read the key. The CLI gets there by dropping to sudo_user() before it touches
// anything (sys/privileges.hpp), so everything it creates is the user's without a chown.
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
};

// The user this process works for: its effective uid, whose home is $HOME (falling back to
// the passwd entry). A root process is root, SUDO_USER or not: root never works in a store a
// user controls; the CLI drops to sudo_user() first, so for it this is that user.
Result<InvokingUser> invoking_user();
// euid 0 with SUDO_USER set (and not "root") -> that user's passwd entry; nullopt otherwise.
Result<std::optional<InvokingUser>> sudo_user();

} // namespace fleetbox
