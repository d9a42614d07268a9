// plan_cp (see cp_plan.hpp).
#include "copy/cp_plan.hpp"

#include "copy/paths.hpp"

#include <filesystem>

namespace fleetbox::copy {

namespace {

struct Side {
    bool remote = false;
    std::string vm;
    std::string path;
};

Result<Side> parse_side(const std::string& arg) {
    auto colon = arg.find(':');
    if (colon == std::string::npos)
        return Side{false, {}, arg};
    if (colon == 0)
        return fail(ErrorKind::InvalidArgument, "invalid remote syntax: missing VM name before ':'",
                    {}, "write NAME:/path, e.g. web:/etc/hostname");
    return Side{true, arg.substr(0, colon), arg.substr(colon + 1)};
}

bool names_a_directory(const std::string& path,
                       const std::function<bool(const std::string&)>& is_dir) {
    return path == "." || path == ".." || (!path.empty() && path.back() == '/') || is_dir(path);
}

// The name a local source arrives under: its last component, "." and ".." resolved.
Result<std::string> local_base(const std::string& path) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(path, ec).lexically_normal();
    std::string text = abs.string();
    while (text.size() > 1 && text.back() == '/')
        text.pop_back();
    std::string base = host_base(text);
    if (ec || base.empty() || base == "/" || base == "." || base == "..")
        return fail(ErrorKind::InvalidArgument, "cannot copy \"" + path + "\" into a directory", {},
                    "name the guest destination in full");
    return base;
}

std::string join(const std::string& dir, const std::string& name) {
    return dir + (dir.empty() || dir.back() == '/' ? "" : "/") + name;
}

} // namespace

Result<CpPlan> plan_cp(const std::string& src, const std::string& dst,
                       const std::function<bool(const std::string&)>& is_dir) {
    auto from = FBX_TRY(parse_side(src));
    auto to = FBX_TRY(parse_side(dst));
    if (from.remote && to.remote)
        return fail(ErrorKind::InvalidArgument,
                    "VM-to-VM copy is not supported (one side must be a local path)");
    if (!from.remote && !to.remote)
        return fail(
            ErrorKind::InvalidArgument, "either src or dst must use name:/path syntax", {},
            "e.g. fleetbox cp ./app web:/usr/local/bin/ or fleetbox cp web:/etc/hostname .");
    CpPlan plan;
    plan.upload = to.remote;
    if (plan.upload) {
        plan.vm = to.vm;
        plan.local = from.path;
        auto guest = FBX_TRY(parse_guest_path(to.path));
        plan.remote = guest.path;
        if (to.path.back() == '/')
            plan.remote = join(guest.path, FBX_TRY(local_base(from.path)));
        return plan;
    }
    plan.vm = from.vm;
    plan.remote = from.path;
    auto guest = FBX_TRY(parse_guest_path(from.path));
    plan.local = to.path;
    if (names_a_directory(to.path, is_dir)) {
        if (guest.path == "/")
            return fail(ErrorKind::InvalidArgument,
                        "copying the guest root needs an explicit local destination path");
        plan.local = join(to.path, guest.base);
    }
    return plan;
}

} // namespace fleetbox::copy
