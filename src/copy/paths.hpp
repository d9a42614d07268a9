// Path rules shared by both copy directions: guest paths, shell quoting, archive names.
//
// Why here and pure: the guest is reached through a shell command line, so every guest path
// is validated and single-quoted in one place, and the same rules are unit-tested without a VM.
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>

namespace fleetbox::copy {

// An absolute guest path, normalized ("//" and "/./" collapsed, trailing "/" dropped).
struct GuestPath {
    std::string path; // "/a/b"
    std::string dir;  // "/a" ("/" for "/a")
    std::string base; // "b" ("." for the root itself)
};

// InvalidArgument `guest path "x" must be absolute`, or `... must not contain ".."`.
Result<GuestPath> parse_guest_path(std::string_view path);

// The last component of a host path ("a/b/" -> "b", "/" -> "/"), like basename(1).
std::string host_base(std::string_view path);

} // namespace fleetbox::copy
