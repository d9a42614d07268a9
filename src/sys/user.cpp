// Invoking-user lookup via getpwnam_r/getpwuid_r, and the SUDO_USER variable sudo sets.
// invoking_user() is whoever this process is: a CLI under sudo has already dropped to
// sudo_user() (sys/privileges.hpp), and a program that stays root (a test run through sudo)
// is root and works in root's own store, never as root inside a user's (ADR 0016).
#include "sys/user.hpp"

#include <cerrno>
#include <cstdlib>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace fleetbox {

namespace {
struct PasswdEntry {
    uid_t uid;
    gid_t gid;
    std::string name;
    std::string home;
};

Result<PasswdEntry> lookup(const char* name, uid_t uid) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    int rc = name ? ::getpwnam_r(name, &pw, buf.data(), buf.size(), &found)
                  : ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
    if (rc != 0)
        return fail_errno("look up user", rc);
    if (found == nullptr)
        return fail(ErrorKind::NotFound, "look up user",
                    name ? std::string("no passwd entry for ") + name
                         : "no passwd entry for uid " + std::to_string(uid));
    return PasswdEntry{pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir};
}
} // namespace

Result<std::optional<InvokingUser>> sudo_user() {
    const char* sudo_user = std::getenv("SUDO_USER");
    if (::geteuid() != 0 || !sudo_user || !*sudo_user || std::string(sudo_user) == "root")
        return std::optional<InvokingUser>();
    auto pw = FBX_TRY(lookup(sudo_user, 0).map_error([](Error e) {
        return std::move(e).wrap("find the home of SUDO_USER");
    }));
    return std::optional<InvokingUser>(InvokingUser{pw.uid, pw.gid, pw.name, pw.home});
}

Result<InvokingUser> invoking_user() {
    InvokingUser user;
    user.uid = ::geteuid();
    user.gid = ::getegid();
    auto pw = lookup(nullptr, user.uid);
    if (pw) {
        user.name = pw->name;
        user.home = pw->home;
    }
    if (const char* home = std::getenv("HOME"); home && *home)
        user.home = home;
    if (user.home.empty())
        return fail(ErrorKind::NotFound, "find the home directory",
                    "HOME is unset and no passwd entry", "set HOME or FLEETBOX_HOME");
    return user;
}

} // namespace fleetbox
