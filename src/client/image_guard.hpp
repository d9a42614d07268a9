// The image-in-use rule (ADR 0011), for every caller that removes or rebuilds a cached image.
//
// Why in the library: VM disks are qcow2 overlays naming the cached base by path, so removing
// or rebuilding the base under them would silently corrupt every one. The CLI's `image rm` /
// `image build --force` and a C++ program must refuse the same way. The cache asks this guard
// under the alias lock, which a starting VM holds (shared) until its config names the image,
// so no `up` can slip in between the check and the removal.
#pragma once

#include "store/store.hpp"
#include "util/error.hpp"

#include <string>

namespace fleetbox::client {

// Busy while any VM's config names `alias` (one line naming them, and a hint to remove them);
// `operation` is "remove" or "rebuild", `why` says what would break.
Status refuse_while_in_use(const Store& store, const std::string& alias,
                           const std::string& operation, const std::string& why);

} // namespace fleetbox::client
