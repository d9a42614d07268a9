// fleetbox::check_host (include/fleetbox/host.hpp): the client's preflight (QEMU, CAP_NET_ADMIN,
// acceleration) plus the one thing it leaves to the helper: /dev/net/tun, which every VM's
// tap is opened through. Opening it creates nothing (a tap exists only after TUNSETIFF).
#include "client/preflight.hpp"
#include "sys/fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fleetbox/host.hpp>

namespace fleetbox {

Status check_host() {
    (void)FBX_TRY(client::preflight());
    Fd tun(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!tun && errno == ENOENT)
        return fail(ErrorKind::MissingDependency, "start VM", "/dev/net/tun does not exist",
                    "load the tun module (sudo modprobe tun), or in a container pass the "
                    "device through (--device /dev/net/tun)");
    if (!tun && (errno == EACCES || errno == EPERM))
        return fail(ErrorKind::Permission, "start VM", "/dev/net/tun cannot be opened by this user",
                    "run it with sudo");
    if (!tun)
        return fail_errno("open /dev/net/tun", errno);
    return {};
}

} // namespace fleetbox
