// Acceleration probe: open(2) /dev/kvm O_RDWR (what QEMU itself does), then look for
// /sys/module/kvm_intel or /sys/module/kvm_amd, which exist only while that module is loaded.
// kvm_pvm also provides /dev/kvm but cannot run stock kernels, so it never counts as hardware
// KVM; its presence is only named in the info line.
#include "host/accel.hpp"

#include "sys/fd.hpp"
#include "sys/fs.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>

namespace fleetbox {

namespace {

constexpr const char* kTcgTail =
    "using TCG software emulation (a boot takes 10-30 s, more on a busy host)";

AccelChoice tcg_because(const std::string& why) {
    return {AccelChoice::Tcg, fmt::format("hardware KVM unusable ({}): {}", why, kTcgTail)};
}

// 0 when /dev/kvm opens read-write, else the errno of the open.
int open_errno(const std::string& dev_kvm) {
    Fd fd(::open(dev_kvm.c_str(), O_RDWR | O_CLOEXEC));
    return fd ? 0 : errno;
}

std::string describe_open_errno(const std::string& dev_kvm, int e) {
    if (e == ENOENT)
        return dev_kvm + " does not exist";
    return fmt::format("cannot open {}: {}", dev_kvm, std::strerror(e));
}

std::string loaded_vendor_module(const AccelProbe& probe) {
    for (const char* name : {"kvm_intel", "kvm_amd"})
        if (is_directory(probe.sys_module_dir + "/" + name))
            return name;
    return {};
}

AccelChoice probe_auto(const AccelProbe& probe) {
    if (int e = open_errno(probe.dev_kvm); e != 0)
        return tcg_because(describe_open_errno(probe.dev_kvm, e));
    std::string module = loaded_vendor_module(probe);
    if (module.empty()) {
        bool pvm = is_directory(probe.sys_module_dir + "/kvm_pvm");
        return tcg_because(fmt::format("{} present but neither kvm_intel nor kvm_amd is loaded{}",
                                       probe.dev_kvm,
                                       pvm ? "; kvm_pvm cannot run stock kernels" : ""));
    }
    return {AccelChoice::Kvm, fmt::format("hardware KVM ({} with {})", probe.dev_kvm, module)};
}

} // namespace

std::string_view to_string(AccelChoice::Kind kind) {
    return kind == AccelChoice::Kvm ? "kvm" : "tcg";
}

Result<AccelChoice> choose_accel(std::string_view setting, const AccelProbe& probe) {
    if (setting.empty() || setting == "auto")
        return probe_auto(probe);
    if (setting == "tcg")
        return AccelChoice{AccelChoice::Tcg, fmt::format("FLEETBOX_ACCEL=tcg: {}", kTcgTail)};
    if (setting == "kvm") {
        if (int e = open_errno(probe.dev_kvm); e != 0)
            return fail(
                e == ENOENT ? ErrorKind::NotFound : ErrorKind::Permission,
                "use hardware KVM (FLEETBOX_ACCEL=kvm)", describe_open_errno(probe.dev_kvm, e),
                "load kvm_intel or kvm_amd and join the kvm group, or unset FLEETBOX_ACCEL");
        return AccelChoice{AccelChoice::Kvm, "FLEETBOX_ACCEL=kvm: hardware KVM forced"};
    }
    return fail(ErrorKind::InvalidArgument, "read FLEETBOX_ACCEL",
                fmt::format("unknown value \"{}\"", setting), "use kvm, tcg or auto");
}

Result<AccelChoice> choose_accel(const AccelProbe& probe) {
    const char* env = std::getenv("FLEETBOX_ACCEL");
    return choose_accel(env ? std::string_view(env) : std::string_view(), probe);
}

} // namespace fleetbox
