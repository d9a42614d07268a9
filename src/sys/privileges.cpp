// drop_to_invoking_user, regain_root_in_child and ScopedRoot over setresuid(2)/setresgid(2)
// and initgroups(3). In the forked child the raw syscalls are used: they change only the
// calling thread, which after fork(2) is the whole process, and are async-signal-safe, unlike
// glibc's wrappers that coordinate every thread. Elsewhere glibc's wrappers are what we want:
// they apply the change to every thread of the process.
#include "sys/privileges.hpp"

#include "sys/user.hpp"

#include <cerrno>
#include <cstdlib>
#include <grp.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>
#include <utility>

namespace fleetbox {

namespace {

bool under_sudo() {
    const char* sudo_user = std::getenv("SUDO_USER");
    return ::geteuid() == 0 && sudo_user != nullptr && *sudo_user != '\0' &&
           std::string(sudo_user) != "root";
}

Status check_dropped(uid_t uid, gid_t gid) {
    uid_t ru = 0, eu = 0, su = 0;
    gid_t rg = 0, eg = 0, sg = 0;
    if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0)
        return fail_errno("check the user ids after dropping root", errno);
    if (ru != uid || eu != uid || rg != gid || eg != gid)
        return fail(ErrorKind::Internal, "drop root to uid " + std::to_string(uid),
                    "the ids did not change");
    return {};
}

} // namespace

Result<bool> drop_to_invoking_user() {
    if (!under_sudo())
        return false;
    auto found = FBX_TRY(sudo_user().map_error(
        [](Error e) { return std::move(e).wrap("drop root to the user running sudo"); }));
    if (!found || found->uid == 0)
        return false;
    const InvokingUser& user = *found;
    const std::string what =
        "drop root to " + user.name + " (uid " + std::to_string(user.uid) + ")";
    if (::initgroups(user.name.c_str(), user.gid) != 0)
        return fail_errno(what + ": initgroups", errno);
    if (::setresgid(user.gid, user.gid, 0) != 0)
        return fail_errno(what + ": setresgid", errno);
    if (::setresuid(user.uid, user.uid, 0) != 0)
        return fail_errno(what + ": setresuid", errno);
    FBX_CHECK(check_dropped(user.uid, user.gid));
    // sudo may leave HOME pointing at root's home; everything after this runs as the user.
    if (!user.home.empty())
        ::setenv("HOME", user.home.c_str(), 1);
    return true;
}

bool can_regain_root() {
    uid_t ru = 0, eu = 0, su = 0;
    if (::getresuid(&ru, &eu, &su) != 0)
        return false;
    return ru == 0 || eu == 0 || su == 0;
}

int regain_root_in_child() noexcept {
    uid_t ru = 1, eu = 1, su = 1;
    gid_t rg = 1, eg = 1, sg = 1;
    if (::syscall(SYS_getresuid, &ru, &eu, &su) == 0 &&
        ::syscall(SYS_getresgid, &rg, &eg, &sg) == 0 && ru == 0 && eu == 0 && su == 0 && rg == 0 &&
        eg == 0 && sg == 0 && ::syscall(SYS_getgroups, 0, nullptr) == 0)
        return 0; // root already, in every id
    if (::syscall(SYS_setresuid, 0, 0, 0) != 0)
        return errno;
    if (::syscall(SYS_setresgid, 0, 0, 0) != 0)
        return errno;
    if (::syscall(SYS_setgroups, 0, nullptr) != 0)
        return errno;
    return 0;
}

Result<ScopedRoot> ScopedRoot::enter(const std::string& why) {
    uid_t ru = 0, eu = 0, su = 0;
    gid_t rg = 0, eg = 0, sg = 0;
    if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0)
        return fail_errno("become root to " + why, errno);
    if (ru == 0 && eu == 0)
        return ScopedRoot(false, 0, eg);
    if (su != 0)
        return fail(ErrorKind::Permission, why, "it needs root", "run it with sudo");
    if (::setresuid(0, 0, static_cast<uid_t>(-1)) != 0)
        return fail_errno("become root to " + why, errno);
    if (::setresgid(0, 0, static_cast<gid_t>(-1)) != 0) {
        const int err = errno;
        (void)!::setresuid(ru, eu, static_cast<uid_t>(-1));
        return fail_errno("become root to " + why, err);
    }
    ScopedRoot scope(true, eu, eg);
    scope.real_uid_ = ru;
    scope.real_gid_ = rg;
    return scope;
}

ScopedRoot::ScopedRoot(ScopedRoot&& other) noexcept
    : elevated_(std::exchange(other.elevated_, false)), uid_(other.uid_), gid_(other.gid_),
      real_uid_(other.real_uid_), real_gid_(other.real_gid_) {}

ScopedRoot::~ScopedRoot() {
    if (!elevated_)
        return;
    // Groups first, while still root. A failure here would leave the process root: end it
    // rather than carry on with more privilege than the caller believes it has.
    if (::setresgid(real_gid_, gid_, static_cast<gid_t>(-1)) != 0 ||
        ::setresuid(real_uid_, uid_, static_cast<uid_t>(-1)) != 0)
        std::abort();
}

} // namespace fleetbox
