// Guest path parsing and shell quoting (see paths.hpp).
#include "copy/paths.hpp"

#include <vector>

namespace fleetbox::copy {

namespace {

std::vector<std::string_view> components(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        auto slash = path.find('/');
        auto part = path.substr(0, slash);
        if (!part.empty() && part != ".")
            out.push_back(part);
        if (slash == std::string_view::npos)
            break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

} // namespace

Result<GuestPath> parse_guest_path(std::string_view path) {
    std::string quoted = "guest path \"" + std::string(path) + "\"";
    if (path.empty() || path.front() != '/')
        return fail(ErrorKind::InvalidArgument, quoted + " must be absolute", {},
                    "give the full path in the guest, e.g. /home/fleetbox/" +
                        (path.empty() ? std::string("file") : std::string(path)));
    auto parts = components(path);
    GuestPath out;
    for (auto p : parts) {
        if (p == "..")
            return fail(ErrorKind::InvalidArgument, quoted + " must not contain \"..\"");
        out.path += "/" + std::string(p);
    }
    if (parts.empty()) {
        out.path = "/";
        out.dir = "/";
        out.base = ".";
        return out;
    }
    out.base = std::string(parts.back());
    out.dir = out.path.substr(0, out.path.size() - out.base.size() - 1);
    if (out.dir.empty())
        out.dir = "/";
    return out;
}

std::string host_base(std::string_view path) {
    while (path.size() > 1 && path.back() == '/')
        path.remove_suffix(1);
    if (path == "/")
        return "/";
    auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

} // namespace fleetbox::copy
