// Store root resolution: FLEETBOX_HOME, else the invoking user's ~/.fleetbox.
// Relative paths are resolved with getcwd(3) once, so a later chdir cannot move the store.
#include "store/paths.hpp"

#include "sys/user.hpp"

#include <cerrno>
#include <cstdlib>
#include <unistd.h>
#include <vector>

namespace fleetbox {

namespace {
std::string drop_trailing_slashes(std::string path) {
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    return path;
}
} // namespace

Result<std::string> absolute_path(const std::string& path) {
    if (path.empty())
        return fail(ErrorKind::InvalidArgument, "resolve path", "the path is empty");
    if (path.front() == '/')
        return drop_trailing_slashes(path);
    std::vector<char> buf(4096);
    while (::getcwd(buf.data(), buf.size()) == nullptr) {
        if (errno != ERANGE)
            return fail_errno("resolve " + path + ": get the current directory", errno);
        buf.resize(buf.size() * 2);
    }
    std::string cwd = buf.data();
    std::string rel = path;
    while (rel.size() >= 2 && rel.compare(0, 2, "./") == 0)
        rel.erase(0, 2);
    if (rel == ".")
        return cwd;
    return drop_trailing_slashes((cwd == "/" ? "" : cwd) + "/" + rel);
}

Result<std::string> resolve_store_root() {
    if (const char* env = std::getenv("FLEETBOX_HOME"); env != nullptr && *env != '\0')
        return absolute_path(env).map_error(
            [](Error e) { return std::move(e).wrap("use FLEETBOX_HOME"); });
    auto user = invoking_user();
    if (!user)
        return fail(
            std::move(user)
                .error()
                .wrap("find the fleetbox store")
                .with_hint("set FLEETBOX_HOME to the directory fleetbox should keep its VMs in"));
    std::string home = drop_trailing_slashes(user->home);
    return (home == "/" ? "" : home) + "/.fleetbox";
}

} // namespace fleetbox
