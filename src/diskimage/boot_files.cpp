// Kernel choice rules (see boot_files.hpp).
#include "diskimage/boot_files.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace fleetbox::diskimage {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

} // namespace

int compare_versions(std::string_view a, std::string_view b) {
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() && j < b.size()) {
        if (is_digit(a[i]) && is_digit(b[j])) {
            std::size_t ei = i;
            std::size_t ej = j;
            while (ei < a.size() && is_digit(a[ei]))
                ++ei;
            while (ej < b.size() && is_digit(b[ej]))
                ++ej;
            std::string_view na = a.substr(i, ei - i);
            std::string_view nb = b.substr(j, ej - j);
            while (na.size() > 1 && na[0] == '0')
                na.remove_prefix(1);
            while (nb.size() > 1 && nb[0] == '0')
                nb.remove_prefix(1);
            if (na.size() != nb.size())
                return na.size() < nb.size() ? -1 : 1;
            if (int c = na.compare(nb); c != 0)
                return c < 0 ? -1 : 1;
            i = ei;
            j = ej;
            continue;
        }
        if (a[i] != b[j])
            return a[i] < b[j] ? -1 : 1;
        ++i;
        ++j;
    }
    if (i < a.size())
        return 1;
    if (j < b.size())
        return -1;
    return 0;
}

bool is_safe_version(std::string_view version) {
    return !version.empty() && version.size() <= 128 &&
           std::all_of(version.begin(), version.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
                      c == '+' || c == '~' || c == '-';
           });
}

std::string version_from_kernel_name(std::string_view name) {
    if (auto slash = name.rfind('/'); slash != std::string_view::npos)
        name.remove_prefix(slash + 1);
    constexpr std::string_view prefix = "vmlinuz-";
    if (name.substr(0, prefix.size()) != prefix)
        return {};
    std::string_view version = name.substr(prefix.size());
    if (!is_safe_version(version) || ends_with(version, ".old"))
        return {};
    return std::string(version);
}

std::optional<KernelPair> choose_versioned(const std::vector<std::string>& names) {
    std::set<std::string> present(names.begin(), names.end());
    std::optional<KernelPair> best;
    for (const auto& name : names) {
        std::string version = version_from_kernel_name(name);
        if (version.empty())
            continue;
        std::string initrd;
        for (std::string candidate : {"initrd.img-" + version, "initramfs-" + version + ".img"})
            if (present.count(candidate) != 0) {
                initrd = candidate;
                break;
            }
        if (initrd.empty())
            continue;
        if (!best || compare_versions(version, best->version) > 0)
            best = KernelPair{name, initrd, version};
    }
    return best;
}

std::string version_from_bzimage(std::string_view head) {
    // Setup header: "HdrS" at 0x202, protocol version at 0x206, kernel_version (a pointer
    // relative to 0x200) at 0x20e, valid from protocol 2.00 when non-zero.
    if (head.size() < 0x210 || head.substr(0x202, 4) != "HdrS")
        return {};
    auto u16 = [&](std::size_t off) {
        return static_cast<std::size_t>(static_cast<unsigned char>(head[off])) |
               (static_cast<std::size_t>(static_cast<unsigned char>(head[off + 1])) << 8);
    };
    std::size_t pointer = u16(0x20e);
    if (pointer == 0 || u16(0x206) < 0x200)
        return {};
    std::size_t start = 0x200 + pointer;
    if (start >= head.size())
        return {};
    std::string_view rest = head.substr(start, std::min<std::size_t>(256, head.size() - start));
    std::size_t end = rest.find_first_of(std::string_view(" \0", 2));
    std::string_view version = rest.substr(0, end == std::string_view::npos ? rest.size() : end);
    return is_safe_version(version) ? std::string(version) : std::string();
}

std::string pretty_name(std::string_view os_release) {
    std::size_t pos = 0;
    while (pos < os_release.size()) {
        std::size_t eol = os_release.find('\n', pos);
        if (eol == std::string_view::npos)
            eol = os_release.size();
        std::string_view line = os_release.substr(pos, eol - pos);
        pos = eol + 1;
        constexpr std::string_view key = "PRETTY_NAME=";
        if (line.substr(0, key.size()) != key)
            continue;
        std::string_view raw = line.substr(key.size());
        while (!raw.empty() && (raw.back() == '\r' || raw.back() == ' '))
            raw.remove_suffix(1);
        char quote = 0;
        if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
            quote = raw.front();
            raw.remove_prefix(1);
        }
        std::string value;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            char c = raw[i];
            if (quote != 0 && c == quote)
                break;
            if (c == '\\' && quote != '\'' && i + 1 < raw.size())
                c = raw[++i];
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                continue; // no control characters from the image into a terminal
            value += c;
        }
        if (value.size() > 128)
            value.resize(128);
        return value;
    }
    return {};
}

bool has_mbr_boot_code(std::string_view first_sector) {
    if (first_sector.size() < 512 || static_cast<unsigned char>(first_sector[510]) != 0x55 ||
        static_cast<unsigned char>(first_sector[511]) != 0xAA)
        return false;
    std::string_view code = first_sector.substr(0, 440);
    return std::any_of(code.begin(), code.end(), [](char c) { return c != 0; });
}

} // namespace fleetbox::diskimage
