// Member name and symlink target checks (see entry_rules.hpp). Pure string logic.
#include "copy/entry_rules.hpp"

namespace fleetbox::copy {

namespace {

std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos)
            break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

} // namespace

tl::unexpected<Error> unsafe_entry(std::string_view name, std::string why) {
    return fail(ErrorKind::Corrupt, "unsafe tar entry \"" + std::string(name) + "\"",
                std::move(why),
                "the guest's archive was refused; nothing was written outside "
                "the destination");
}

Result<std::vector<std::string>> member_components(std::string_view name, std::string_view top) {
    if (name.empty())
        return unsafe_entry(name, "empty name");
    if (name.front() == '/')
        return unsafe_entry(name, "absolute path");
    std::vector<std::string> rel;
    bool first = true;
    for (auto part : split(name)) {
        if (part == "..")
            return unsafe_entry(name, "\"..\" in the path");
        if (first) {
            if (part != top)
                return unsafe_entry(name, "not under \"" + std::string(top) + "\"");
            first = false;
            continue;
        }
        if (part.empty() || part == ".")
            continue;
        rel.emplace_back(part);
    }
    return rel;
}

Status check_symlink_target(std::string_view name, const std::vector<std::string>& rel,
                            std::string_view target) {
    std::string quoted = "symlink to \"" + std::string(target) + "\"";
    if (target.empty())
        return unsafe_entry(name, "symlink with an empty target");
    if (target.front() == '/')
        return unsafe_entry(name, quoted + " is absolute");
    // Levels the link may climb: the depth of its directory below the top (-1 for the top).
    long room = static_cast<long>(rel.size()) - 1;
    long climbed = 0;
    bool named = false;
    for (auto part : split(target)) {
        if (part.empty() || part == ".")
            continue;
        if (part == "..") {
            if (named)
                return unsafe_entry(name, quoted + " climbs after a name");
            ++climbed;
            continue;
        }
        named = true;
    }
    if (climbed > room || room < 0)
        return unsafe_entry(name, quoted + " leads outside the destination");
    return {};
}

} // namespace fleetbox::copy
