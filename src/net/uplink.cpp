// Uplink forwarding with a first-writer-wins marker (see uplink.hpp for the rules and why).
// The marker is created with O_CREAT|O_EXCL and fsynced before the sysctl is written, so a
// crash in between leaves a marker that restores the true original value.
#include "net/uplink.hpp"

#include "net/forwarding.hpp"
#include "net/ipv4.hpp"
#include "net/names.hpp"
#include "net/netlink.hpp"
#include "net/routes.hpp"
#include "sys/fd.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace fleetbox {

namespace {

constexpr std::string_view kMarkerPrefix = "fwd-";
constexpr std::string_view kMarkerSuffix = ".orig";

// "fwd-eth0.orig" -> "eth0"; "" for anything else.
std::string marker_interface(const std::string& file) {
    if (file.size() <= kMarkerPrefix.size() + kMarkerSuffix.size() ||
        !starts_with(file, kMarkerPrefix) ||
        file.compare(file.size() - kMarkerSuffix.size(), kMarkerSuffix.size(), kMarkerSuffix) != 0)
        return {};
    return file.substr(kMarkerPrefix.size(),
                       file.size() - kMarkerPrefix.size() - kMarkerSuffix.size());
}

Status write_marker(const std::string& path) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) {
        if (errno == EEXIST)
            return {}; // an earlier network recorded the original value: keep it
        return fail_errno("create forwarding marker " + path, errno);
    }
    if (::write(fd.get(), "0\n", 2) != 2 || ::fsync(fd.get()) != 0) {
        const int e = errno;
        ::unlink(path.c_str());
        return fail_errno("write forwarding marker " + path, e == 0 ? EIO : e);
    }
    return fsync_dir(parent_dir(path));
}

} // namespace

Result<UplinkState> inspect_uplink() {
    UplinkState state;
    if (FBX_TRY(global_forwarding_enabled()))
        return state;
    const uint32_t probe = FBX_TRY(parse_ipv4(kUplinkProbeAddress));
    state.uplink = FBX_TRY(route_interface_for(probe));
    if (state.uplink.empty() || starts_with(state.uplink, kBridgePrefix)) {
        state.uplink.clear();
        return state;
    }
    state.was_forwarding = FBX_TRY(forwarding_enabled(state.uplink));
    return state;
}

std::string forwarding_marker_path(const std::string& dir, const std::string& uplink) {
    return dir + "/" + std::string(kMarkerPrefix) + uplink + std::string(kMarkerSuffix);
}

Status turn_on_uplink_forwarding(const std::string& dir, const std::string& uplink) {
    if (uplink.empty() || uplink.find('/') != std::string::npos)
        return fail(ErrorKind::InvalidArgument, "turn on forwarding on the uplink",
                    "bad interface name '" + uplink + "'");
    FBX_CHECK(write_marker(forwarding_marker_path(dir, uplink)));
    return set_forwarding(uplink, true);
}

Result<std::vector<RestoredForwarding>> restore_uplink_forwarding(const std::string& dir,
                                                                  bool dry_run) {
    std::vector<RestoredForwarding> restored;
    Status first;
    for (const auto& file : FBX_TRY(list_dir(dir))) {
        const std::string iface = marker_interface(file);
        if (iface.empty())
            continue;
        const std::string path = dir + "/" + file;
        auto text = read_file(path);
        if (!text) {
            if (first)
                first = fail(std::move(text).error());
            continue;
        }
        const int value = trim(*text) == "1" ? 1 : 0;
        if (!dry_run) {
            Status step;
            if (link_exists(iface))
                step = set_forwarding(iface, value == 1);
            if (step && ::unlink(path.c_str()) != 0 && errno != ENOENT)
                step = fail_errno("remove forwarding marker " + path, errno);
            if (!step) {
                if (first)
                    first = std::move(step);
                continue;
            }
        }
        restored.push_back({iface, value});
    }
    if (!first)
        return fail(std::move(first).error());
    return restored;
}

bool no_fleetbox_interfaces() {
    auto links = list_links_with_prefix(kBridgePrefix);
    return links && links->empty();
}

} // namespace fleetbox
