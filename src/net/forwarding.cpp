// Per-interface forwarding sysctl (see forwarding.hpp for why never the global switch).
#include "net/forwarding.hpp"

#include "net/errors.hpp"
#include "sys/fd.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace fleetbox {

namespace {

std::string sysctl_path(const std::string& ifname) {
    return "/proc/sys/net/ipv4/conf/" + ifname + "/forwarding";
}

Status check_name(const std::string& ifname, const std::string& operation) {
    if (ifname.empty() || ifname == "." || ifname == ".." ||
        ifname.find('/') != std::string::npos || ifname == "all" || ifname == "default") {
        return fail(ErrorKind::InvalidArgument, operation, "not a single interface name");
    }
    return {};
}

} // namespace

Status set_forwarding(const std::string& ifname, bool on) {
    const std::string op = std::string(on ? "enable" : "disable") + " IPv4 forwarding on " + ifname;
    FBX_CHECK(check_name(ifname, op));
    const std::string path = sysctl_path(ifname);
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd)
        return fail(net_errno_error(op + ": open " + path, errno));
    const char* value = on ? "1\n" : "0\n";
    const ssize_t n = ::write(fd.get(), value, 2);
    if (n != 2)
        return fail(net_errno_error(op + ": write " + path, n < 0 ? errno : EIO));
    return {};
}

Status enable_forwarding(const std::string& ifname) {
    return set_forwarding(ifname, true);
}

Result<bool> forwarding_enabled(const std::string& ifname) {
    const std::string op = "read IPv4 forwarding of " + ifname;
    FBX_CHECK(check_name(ifname, op));
    auto text = read_file(sysctl_path(ifname));
    if (!text)
        return fail(std::move(text).error().wrap(op));
    return trim(*text) == "1";
}

Result<bool> global_forwarding_enabled() {
    auto text = read_file(sysctl_path("all"));
    if (!text)
        return fail(std::move(text).error().wrap("read IPv4 forwarding of all interfaces"));
    return trim(*text) == "1";
}

} // namespace fleetbox
