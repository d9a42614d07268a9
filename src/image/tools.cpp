// Preflight checks (see tools.hpp): PATH lookup via find_program, statvfs via free_space.
#include "image/tools.hpp"

#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <unistd.h>

namespace fleetbox::image {

const std::vector<RequiredTool>& required_tools() {
    static const std::vector<RequiredTool> tools = {
        {"mmdebstrap", "mmdebstrap"},
        {"mkfs.ext4", "e2fsprogs"},
        {"qemu-img", "qemu-utils"},
    };
    return tools;
}

Status check_tools(const std::vector<RequiredTool>& tools) {
    std::vector<std::string> programs;
    std::vector<std::string> packages;
    for (const auto& t : tools) {
        if (!find_program(t.program).empty())
            continue;
        programs.push_back(t.program);
        if (std::find(packages.begin(), packages.end(), t.package) == packages.end())
            packages.push_back(t.package);
    }
    if (programs.empty())
        return {};
    std::string what = programs.size() == 1 ? programs[0] + " is" : join(programs, ", ") + " are";
    return fail(ErrorKind::MissingDependency, "build image",
                fmt::format("{} not installed (package {})", what, join(packages, ", ")),
                "install it: sudo apt-get install " + join(packages, " "));
}

Status check_free_space(const std::string& dir, std::uint64_t min_free) {
    auto avail = FBX_TRY(free_space(dir));
    if (avail >= min_free)
        return {};
    return fail(ErrorKind::NoSpace, "build image in " + dir,
                fmt::format("only {} free, a build needs at least {}", format_bytes(avail),
                            format_bytes(min_free)),
                "free some disk space (or point FLEETBOX_HOME at a larger filesystem)");
}

Status check_root() {
    if (::geteuid() == 0)
        return {};
    return fail(ErrorKind::Permission, "build image", "building an image needs root",
                "run it with sudo (mmdebstrap gives correct file ownership only to root)");
}

} // namespace fleetbox::image
