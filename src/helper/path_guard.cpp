// Path guard: realpath(3) of the store root and of the path (or of its deepest existing
// ancestor, with the not-yet-existing rest appended), then a component-wise prefix check.
// realpath resolves every symlink, so "store/x -> /etc" is judged as /etc.
#include "helper/path_guard.hpp"

#include "util/strings.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <optional>
#include <utility>

namespace fleetbox::helper {

namespace {

Error outside(const std::string& path, const std::string& root) {
    return Error{ErrorKind::InvalidArgument, 0, "boot-member",
                 "path " + path + " is outside the store " + root,
                 "the helper only uses files inside its own store (FLEETBOX_HOME)"};
}

std::optional<std::string> real_path(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) == nullptr)
        return std::nullopt;
    return std::string(buf);
}

// realpath of the deepest existing ancestor of `path`, plus the remaining components.
std::optional<std::string> resolve(const std::string& path) {
    std::string head = path;
    std::string tail;
    while (true) {
        if (auto real = real_path(head))
            return *real + tail;
        auto slash = head.rfind('/');
        if (slash == std::string::npos || head == "/")
            return std::nullopt;
        tail = head.substr(slash) + tail;
        head = slash == 0 ? "/" : head.substr(0, slash);
    }
}

bool has_dotdot(const std::string& path) {
    for (const auto& part : split(path, '/'))
        if (part == "..")
            return true;
    return false;
}

} // namespace

Status check_inside_store(const std::string& store_root, const std::string& path) {
    if (path.empty() || path[0] != '/' || has_dotdot(path))
        return tl::unexpected(outside(path, store_root));
    auto root = real_path(store_root);
    if (!root)
        return fail_errno("resolve the store " + store_root, errno);
    auto resolved = resolve(path);
    if (!resolved)
        return tl::unexpected(outside(path, store_root));
    if (*resolved == *root || starts_with(*resolved, *root + "/"))
        return {};
    return tl::unexpected(outside(path, store_root));
}

Status check_boot_paths(const std::string& store_root, const proto::BootSpec& spec) {
    const std::pair<const char*, const std::string*> required[] = {{"member_dir", &spec.member_dir},
                                                                   {"disk_path", &spec.disk_path},
                                                                   {"seed_path", &spec.seed_path}};
    for (const auto& [field, value] : required) {
        if (value->empty())
            return fail(ErrorKind::InvalidArgument, "boot-member " + spec.name,
                        std::string("spec has no ") + field);
        FBX_CHECK(check_inside_store(store_root, *value));
    }
    for (const std::string* optional :
         {&spec.base_image_path, &spec.kernel_path, &spec.initrd_path})
        if (!optional->empty())
            FBX_CHECK(check_inside_store(store_root, *optional));
    // Fixture images are built per boot in the member's own directory: nowhere else (not
    // even elsewhere in the store, e.g. another member's disk).
    for (const auto& fixture : spec.fixture_paths) {
        auto inside = check_inside_store(spec.member_dir, fixture);
        if (!inside || fixture == spec.member_dir)
            return fail(ErrorKind::InvalidArgument, "boot-member " + spec.name,
                        "fixture image " + fixture + " is outside the member directory " +
                            spec.member_dir,
                        "the helper only attaches fixture images the client built for this VM");
    }
    return {};
}

} // namespace fleetbox::helper
