// VM name validation (lowercase RFC 1123 label) and cluster-name derivation.
//
// Validation works on bytes: any byte >= 0x80 (every non-ASCII UTF-8 sequence) is refused, so
// no Unicode normalization question can arise for paths or hostnames.
#include "store/names.hpp"

#include <algorithm>
#include <cstdio>

namespace fleetbox {

namespace {

constexpr std::string_view kRule = "a VM name uses lowercase letters, digits and '-', starts and "
                                   "ends with a letter or digit, and has at most 63 characters";

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Why the character at position i (0-based) is not allowed, in words.
std::string describe_bad_char(std::string_view name, std::size_t i) {
    const char c = name[i];
    const auto b = static_cast<unsigned char>(c);
    std::string where = " at position " + std::to_string(i + 1);
    if (c >= 'A' && c <= 'Z')
        return std::string("'") + c + "'" + where + " is uppercase";
    if (b >= 0x80)
        return "non-ASCII character" + where;
    if (b < 0x20 || b == 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", b);
        return std::string("control character ") + buf + where;
    }
    if (c == ' ')
        return "space" + where;
    return std::string("'") + c + "'" + where + " is not allowed";
}

// The first problem with the name, or empty when it is valid.
std::string problem(std::string_view name) {
    if (name.empty())
        return "the name is empty";
    if (name.size() > kMaxVmNameLength)
        return "the name has " + std::to_string(name.size()) + " characters";
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!is_lower_alnum(name[i]) && name[i] != '-')
            return describe_bad_char(name, i);
    }
    if (name.front() == '-')
        return "the name starts with '-'";
    if (name.back() == '-')
        return "the name ends with '-'";
    return {};
}

} // namespace

Status validate_vm_name(std::string_view name) {
    std::string why = problem(name);
    if (why.empty())
        return {};
    return fail(ErrorKind::InvalidArgument, "invalid VM name " + quote_name(name),
                why + "; " + std::string(kRule));
}

bool is_valid_vm_name(std::string_view name) {
    return problem(name).empty();
}

std::string cluster_name(std::string_view member) {
    const auto dash = member.find_last_of('-');
    // No dash, a leading dash ("-5": nothing would be left) or nothing after it: unchanged.
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == member.size())
        return std::string(member);
    for (std::size_t i = dash + 1; i < member.size(); ++i) {
        if (!is_digit(member[i]))
            return std::string(member);
    }
    return std::string(member.substr(0, dash));
}

std::string quote_name(std::string_view name) {
    // Cut after 70 bytes, backing up so a UTF-8 sequence is not split.
    std::size_t shown = std::min<std::size_t>(name.size(), 70);
    while (shown > 0 && shown < name.size() &&
           (static_cast<unsigned char>(name[shown]) & 0xc0) == 0x80)
        --shown;
    std::string out = "\"";
    for (std::size_t i = 0; i < shown; ++i) {
        const auto b = static_cast<unsigned char>(name[i]);
        if (name[i] == '"' || name[i] == '\\') {
            out += '\\';
            out += name[i];
        } else if (b < 0x20 || b == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", b);
            out += buf;
        } else {
            out += name[i];
        }
    }
    out += '"';
    if (shown < name.size())
        out += "...";
    return out;
}

} // namespace fleetbox
