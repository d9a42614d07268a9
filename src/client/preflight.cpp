// Preflight checks: qemu present, CAP_NET_ADMIN in the effective set, acceleration choice.
// The capability is read from /proc/self/status (CapEff) rather than assuming euid 0, so a
// process given CAP_NET_ADMIN without root passes and a root process stripped of it fails.
// A CLI that dropped to the invoking user under sudo has an empty effective set but keeps
// root's permitted set (its saved uid is 0), and the helper it spawns regains root
// (ChildSpec::regain_root): CapPrm counts then.
#include "client/preflight.hpp"

#include "host/accel.hpp"
#include "sys/fs.hpp"
#include "sys/privileges.hpp"

#include <fmt/format.h>
#include <sstream>

namespace fleetbox::client {

namespace {
constexpr int kCapNetAdmin = 12;

// Whether the capability set `field` ("CapEff", "CapPrm") holds CAP_NET_ADMIN.
bool has_cap_net_admin(const std::string& field) {
    auto status = read_file("/proc/self/status");
    if (!status)
        return false;
    std::istringstream in(*status);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) != 0)
            continue;
        unsigned long long caps = std::stoull(line.substr(field.size() + 1), nullptr, 16);
        return (caps >> kCapNetAdmin) & 1ULL;
    }
    return false;
}

bool has_cap_net_admin() {
    return has_cap_net_admin("CapEff") || (can_regain_root() && has_cap_net_admin("CapPrm"));
}
} // namespace

Result<HostCapabilities> preflight() {
    if (find_program("qemu-system-x86_64").empty())
        return fail(ErrorKind::MissingDependency, "start VM", "qemu-system-x86_64 is not installed",
                    "install it: sudo apt-get install qemu-system-x86 qemu-utils");
    if (!has_cap_net_admin())
        return fail(ErrorKind::Permission, "start VM",
                    "fleetbox needs root (CAP_NET_ADMIN) to create the bridge and the VM's tap",
                    "run it with sudo");
    auto accel = FBX_TRY(choose_accel());
    HostCapabilities caps;
    caps.hardware_kvm = accel.kind == AccelChoice::Kvm;
    if (!caps.hardware_kvm)
        caps.accel_note = accel.reason;
    return caps;
}

std::chrono::seconds default_boot_timeout(const HostCapabilities& caps) {
    return caps.hardware_kvm ? std::chrono::seconds(180) : std::chrono::seconds(600);
}

} // namespace fleetbox::client
