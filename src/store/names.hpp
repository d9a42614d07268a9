// VM names and the cluster a member belongs to.
//
// Why: a VM name is used verbatim as a directory name under the store, as the guest hostname
// and as the cloud-init instance-id. The original tool did not validate it, so "../x" escaped
// the store and "a/b" made nested directories. Here a name must be a valid DNS label in
// lowercase (RFC 1123): that is safe as a path component and usable as a hostname.
// The cluster is derived from the name by stripping one trailing "-<digits>", so web-1 and
// web-2 share clusters/web/ (and one network); there is no cluster record anywhere.
#pragma once

#include "util/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace fleetbox {

inline constexpr std::size_t kMaxVmNameLength = 63; // one DNS label

// Ok for names of 1..63 characters from [a-z0-9-] that start and end with a letter or digit.
// Otherwise InvalidArgument, one line naming the name and the first thing wrong with it, e.g.
//   invalid VM name "Web": 'W' is uppercase; a VM name uses lowercase letters, ...
Status validate_vm_name(std::string_view name);
[[nodiscard]] bool is_valid_vm_name(std::string_view name);

// Strip one trailing "-<digits>": web-3 -> web, web-1-2 -> web-1, node-2024 -> node;
// dev, web-, web-x and -5 are returned unchanged.
[[nodiscard]] std::string cluster_name(std::string_view member);

// The name as it should appear inside an error message: quoted, control bytes escaped,
// cut after 70 characters (so a pasted megabyte does not flood the terminal).
[[nodiscard]] std::string quote_name(std::string_view name);

} // namespace fleetbox
