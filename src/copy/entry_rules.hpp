// What an archive from a guest may contain: the rules copy_from enforces before it writes.
//
// Why separate and pure: a guest is not trusted (DESIGN.md §2), so every member name and
// symlink target of its tar stream is checked here, and the rules are unit-tested on crafted
// names. A member must be the single expected top entry or under it, relative, with no ".."
// component. A symlink must stay inside the destination when resolved by the kernel: its
// target is relative, climbs ("..") only as a prefix and never above the copied top; since
// every directory on the way up is a real directory the extractor made, a target that passes
// cannot reach outside even through other links (each of which passed the same rule).
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::copy {

// The components of `name` below `top` (empty for the top entry itself). `top` is the base
// name the guest's tar was asked for ("." for the guest root, whose members read "./x").
// Corrupt `unsafe tar entry "<name>": <why>` otherwise.
Result<std::vector<std::string>> member_components(std::string_view name, std::string_view top);

// Whether a symlink at `rel` (components below the top; empty = the top itself) pointing to
// `target` stays inside the destination. Corrupt `unsafe tar entry "<name>": ...` otherwise.
Status check_symlink_target(std::string_view name, const std::vector<std::string>& rel,
                            std::string_view target);

// Corrupt `unsafe tar entry "<name>": <why>`.
tl::unexpected<Error> unsafe_entry(std::string_view name, std::string why);

} // namespace fleetbox::copy
