// Console marker parsing for guest boot phases (see guest_phases.hpp).
#include "client/guest_phases.hpp"

#include "sys/fs.hpp"
#include "util/console_markers.hpp"
#include "util/strings.hpp"

#include <charconv>
#include <map>
#include <optional>

namespace fleetbox::client {

namespace {

constexpr double kMaxUptime = 86400.0; // a marker claiming more than a day is not a boot marker

// "<marker> uptime=12.34" → 12.34; nullopt for anything else.
std::optional<double> marker_uptime(std::string_view line, std::string_view marker) {
    if (!starts_with(line, marker))
        return std::nullopt;
    std::string_view rest = line.substr(marker.size());
    if (!starts_with(rest, " uptime="))
        return std::nullopt;
    std::string_view number = trim(rest.substr(8));
    if (number.empty() || number.size() > 16)
        return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value,
                                     std::chars_format::fixed);
    if (ec != std::errc() || end != number.data() + number.size() ||
        !(value >= 0 && value <= kMaxUptime))
        return std::nullopt;
    return value;
}

} // namespace

std::vector<PhaseTiming> guest_phases(std::string_view console) {
    std::map<std::string_view, double> seen;
    const std::string_view markers[] = {kMarkerInitramfs, kMarkerSwitchRoot, kMarkerSshd};
    for (const auto& raw : split(console, '\n')) {
        std::string_view line = trim(raw);
        for (auto marker : markers) {
            if (auto up = marker_uptime(line, marker)) {
                if (marker == kMarkerInitramfs)
                    seen.clear(); // a new boot starts
                seen[marker] = *up;
            }
        }
    }
    std::vector<PhaseTiming> phases;
    auto at = [&](std::string_view m) -> std::optional<double> {
        auto it = seen.find(m);
        return it == seen.end() ? std::nullopt : std::optional<double>(it->second);
    };
    auto initramfs = at(kMarkerInitramfs), switch_root = at(kMarkerSwitchRoot),
         sshd = at(kMarkerSshd);
    if (initramfs)
        phases.push_back({"kernel", *initramfs});
    if (initramfs && switch_root && *switch_root >= *initramfs)
        phases.push_back({"initramfs", *switch_root - *initramfs});
    if (switch_root && sshd && *sshd >= *switch_root)
        phases.push_back({"userspace to sshd", *sshd - *switch_root});
    else if (!switch_root && initramfs && sshd && *sshd >= *initramfs)
        phases.push_back({"initramfs + userspace to sshd", *sshd - *initramfs});
    return phases;
}

std::vector<PhaseTiming> guest_phases_of(const std::string& serial_log) {
    auto text = read_file(serial_log);
    if (!text)
        return {};
    return guest_phases(*text);
}

} // namespace fleetbox::client
