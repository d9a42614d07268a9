// The helper's privilege drop (see privileges.hpp for why). Relies on libcap-ng:
// capng_change_id keeps the capabilities prepared with capng_update across setresuid
// (PR_SET_KEEPCAPS), drops supplementary groups and clears the bounding set; capng_lock sets
// SECBIT_NOROOT and SECBIT_NO_SETUID_FIXUP and locks both, so a uid-0 helper's execs gain
// nothing. A uid change also clears PR_SET_PDEATHSIG and makes the process non-dumpable
// (its /proc files then belong to root, so the user cannot read its memory); the first is
// re-armed here, the second is kept on purpose.
#include "helper/privileges.hpp"

#include "sys/fd.hpp"

#include <cap-ng.h>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::helper {

namespace {

constexpr const char* kDropOp = "drop the helper's privileges";

template <typename T>
bool parse_id(std::string_view text, T& out) {
    unsigned long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
        value >= static_cast<unsigned long>(static_cast<T>(-1)))
        return false;
    out = static_cast<T>(value);
    return true;
}

Status capng_failed(const char* step, int rc) {
    return fail(ErrorKind::Permission, kDropOp, fmt::format("{} failed ({})", step, rc));
}

// CAP_NET_ADMIN alone, effective and permitted, and alone in the bounding set.
void prepare_net_admin_only() {
    capng_clear(CAPNG_SELECT_ALL);
    capng_update(CAPNG_ADD,
                 static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET),
                 CAP_NET_ADMIN);
}

Status become_user(const HelperUser& user) {
    prepare_net_admin_only();
    // The bounding set first, while CAP_SETPCAP is still ours.
    if (int rc = capng_apply(CAPNG_SELECT_BOUNDS); rc != 0)
        return capng_failed("clearing the bounding set", rc);
    int rc = capng_change_id(static_cast<int>(user.uid), static_cast<int>(user.gid),
                             static_cast<capng_flags_t>(CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_AMBIENT));
    if (rc != 0)
        return capng_failed(fmt::format("switching to uid {} gid {}", user.uid, user.gid).c_str(),
                            rc);
    return {};
}

Status stay_root_with_net_admin_only() {
    if (::setgroups(0, nullptr) != 0)
        return fail_errno(std::string(kDropOp) + ": drop supplementary groups", errno);
    if (int rc = capng_lock(); rc != 0)
        return capng_failed("locking SECBIT_NOROOT", rc);
    prepare_net_admin_only();
    if (int rc = capng_apply(CAPNG_SELECT_ALL); rc != 0)
        return capng_failed("keeping CAP_NET_ADMIN only", rc);
    return {};
}

} // namespace

Result<HelperUser> parse_user(std::string_view text) {
    HelperUser user;
    auto colon = text.find(':');
    if (colon == std::string_view::npos || !parse_id(text.substr(0, colon), user.uid) ||
        !parse_id(text.substr(colon + 1), user.gid))
        return fail(ErrorKind::InvalidArgument, "--user " + std::string(text),
                    "expected numeric UID:GID, e.g. 1000:1000");
    return user;
}

HelperUser own_user() {
    return HelperUser{::getuid(), ::getgid()};
}

Status check_store_root(const std::string& store_root, const HelperUser& user) {
    const std::string op = "check the store " + store_root;
    Fd dir(::open(store_root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
        int e = errno;
        if (e == ELOOP || e == ENOTDIR)
            return fail(ErrorKind::Permission, op, "it is not a directory (or is a symlink)",
                        "FLEETBOX_HOME must name a real directory of your own");
        return fail_errno(op, e);
    }
    struct stat st {};
    if (::fstat(dir.get(), &st) != 0)
        return fail_errno(op, errno);
    if (st.st_uid != user.uid)
        return fail(ErrorKind::Permission, op,
                    fmt::format("it is owned by uid {}, not by uid {}", st.st_uid, user.uid),
                    "use a store of your own (FLEETBOX_HOME)");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return fail(ErrorKind::Permission, op,
                    fmt::format("it is writable by {} (mode {:04o})",
                                (st.st_mode & S_IWOTH) ? "others" : "its group",
                                st.st_mode & 07777),
                    "chmod go-w " + store_root);
    return {};
}

Status drop_privileges(const HelperUser& user) {
    ::umask(077);
    if (::geteuid() != 0) {
        if (user.uid != ::getuid() || user.gid != ::getgid())
            return fail(
                ErrorKind::Permission, kDropOp,
                fmt::format("running as uid {}, it cannot work for uid {}", ::getuid(), user.uid),
                "start fleetbox-helper as root or without --user");
        return {};
    }
    int death_signal = 0;
    (void)::prctl(PR_GET_PDEATHSIG, &death_signal);
    const pid_t parent = ::getppid();
    FBX_CHECK(user.uid == 0 ? stay_root_with_net_admin_only() : become_user(user));
    if (death_signal != 0) {
        (void)::prctl(PR_SET_PDEATHSIG, death_signal);
        if (::getppid() != parent) // the parent died while the signal was not armed
            return fail(ErrorKind::Interrupted, kDropOp, "the helper's parent exited");
    }
    return {};
}

Status secure_helper(const std::string& store_root, const HelperUser& user) {
    FBX_CHECK(check_store_root(store_root, user));
    return drop_privileges(user);
}

} // namespace fleetbox::helper
