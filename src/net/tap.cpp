// Tap devices through /dev/net/tun ioctls (see tap.hpp for why they are persistent).
// Kernel behavior relied on: TUNSETIFF with IFF_TUN_EXCL returns EBUSY when the name
// exists; TUNSETPERSIST 1 keeps the device after close; TUNSETIFF without IFF_TUN_EXCL on
// an existing persistent tap attaches this fd to it. Opening /dev/net/tun is a plain file
// permission check: a helper that dropped to the invoking user needs the device to be
// usable by that user (mode 0666, udev's default on Debian).
#include "net/tap.hpp"

#include "net/errors.hpp"
#include "net/netlink.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace fleetbox {

namespace {

constexpr const char* kTunDevice = "/dev/net/tun";

Result<Fd> open_tun(const std::string& operation) {
    Fd fd(::open(kTunDevice, O_RDWR | O_CLOEXEC));
    if (!fd) {
        const int e = errno;
        if (e == ENOENT || e == ENODEV || e == ENXIO) {
            return fail(ErrorKind::MissingDependency, operation, "the kernel has no /dev/net/tun",
                        "load the tun module: modprobe tun");
        }
        if (e == EACCES && ::geteuid() != 0) {
            // The helper runs as the invoking user with CAP_NET_ADMIN only (no DAC override).
            Error error = net_errno_error(operation + ": open " + kTunDevice, e);
            error.hint = "the fleetbox helper runs as you: /dev/net/tun must be readable and "
                         "writable by you (Debian's default mode is 0666)";
            return fail(std::move(error));
        }
        return fail(net_errno_error(operation + ": open " + kTunDevice, e));
    }
    return fd;
}

Status set_iff(int fd, const std::string& name, int flags, const std::string& operation) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = static_cast<short>(flags); // IFF_TUN_EXCL is the sign bit of the short
    if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
        const int e = errno;
        if (e == EBUSY && (flags & IFF_TUN_EXCL) != 0) {
            return fail(ErrorKind::AlreadyExists, operation,
                        "an interface named " + name + " already exists");
        }
        return fail(net_errno_error(operation, e));
    }
    return {};
}

Status check_name(const std::string& name, const std::string& operation) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return fail(ErrorKind::InvalidArgument, operation,
                    "interface names are 1 to 15 characters");
    }
    return {};
}

} // namespace

Status create_tap(const std::string& name) {
    const std::string op = "create tap " + name;
    FBX_CHECK(check_name(name, op));
    auto fd = FBX_TRY(open_tun(op));
    FBX_CHECK(set_iff(fd.get(), name, IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL, op));
    if (::ioctl(fd.get(), TUNSETPERSIST, 1) != 0) {
        return fail(net_errno_error(op + ": make it persistent", errno));
    }
    return {}; // closing fd leaves the persistent tap behind
}

Status delete_tap(const std::string& name) {
    return delete_link(name);
}

Result<Fd> open_tap(const std::string& name) {
    const std::string op = "open tap " + name;
    FBX_CHECK(check_name(name, op));
    if (!link_exists(name))
        return fail(ErrorKind::NotFound, op, "no network interface named " + name);
    auto fd = FBX_TRY(open_tun(op));
    FBX_CHECK(set_iff(fd.get(), name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, op));
    return fd;
}

} // namespace fleetbox
