// String helpers: kept here so no layer re-implements splitting, quoting or unit formatting.
#include "util/strings.hpp"

#include <fmt/format.h>

namespace fleetbox {

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        size_t pos = s.find(sep, start);
        out.emplace_back(s.substr(start, pos - start));
        if (pos == std::string_view::npos)
            break;
        start = pos + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i)
            out += sep;
        out += parts[i];
    }
    return out;
}

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n";
    size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos)
        return {};
    size_t e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.starts_with(prefix);
}

std::string shell_quote(std::string_view arg) {
    if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789@%_+=:,./-") == std::string_view::npos)
        return std::string(arg);
    return shell_single_quote(arg);
}

std::string shell_single_quote(std::string_view arg) {
    std::string out = "'";
    for (char c : arg) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string shell_join(const std::vector<std::string>& argv) {
    std::string out;
    for (size_t i = 0; i < argv.size(); ++i) {
        if (i)
            out += ' ';
        out += shell_quote(argv[i]);
    }
    return out;
}

std::string last_line(std::string_view text) {
    auto lines = split(text, '\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        auto t = trim(*it);
        if (!t.empty())
            return std::string(t);
    }
    return {};
}

std::string format_duration(double seconds) {
    if (seconds < 1.0)
        return fmt::format("{:.0f} ms", seconds * 1000.0);
    if (seconds < 120.0)
        return fmt::format("{:.1f} s", seconds);
    auto total = static_cast<long>(seconds);
    return fmt::format("{}m{:02}s", total / 60, total % 60);
}

std::string format_bytes(unsigned long long bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    auto value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    if (unit == 0)
        return fmt::format("{} B", bytes);
    return fmt::format("{:.1f} {}", value, units[unit]);
}

} // namespace fleetbox
