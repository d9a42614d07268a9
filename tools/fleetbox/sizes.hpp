// Size arguments: "2G", "1536M", "2" (GiB) -> MiB, with one clear error for anything else.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>

namespace fleetbox::cli {

Result<std::uint64_t> parse_size_mib(const std::string& text, const std::string& flag);

} // namespace fleetbox::cli
