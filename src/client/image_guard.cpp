// refuse_while_in_use: the store's list of VMs naming an image, as one error.
#include "client/image_guard.hpp"

#include "util/strings.hpp"

#include <fmt/format.h>

namespace fleetbox::client {

Status refuse_while_in_use(const Store& store, const std::string& alias,
                           const std::string& operation, const std::string& why) {
    auto users = FBX_TRY(store.list_using_image(alias));
    if (users.empty())
        return {};
    return fail(ErrorKind::Busy, fmt::format("{} image {}", operation, alias),
                fmt::format("{} VM{} use{} it ({}): {}", users.size(), users.size() == 1 ? "" : "s",
                            users.size() == 1 ? "s" : "", join(users, ", "), why),
                fmt::format("remove {} first: fleetbox rm {}", users.size() == 1 ? "it" : "them",
                            join(users, " ")));
}

} // namespace fleetbox::client
