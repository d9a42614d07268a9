// How long a fleetbox-helper lives: part of the contract between the client that starts a
// helper (`--mode bound|detached` on its command line) and the helper itself.
//
// bound: dies with its client (bind-connection EOF, parent-pid poll) and takes its VMs along;
// the library's lifetime. detached: setsid'd by the launcher, outlives the command, exits when
// its last member stops; the CLI's lifetime.
#pragma once

#include <optional>
#include <string_view>

namespace fleetbox::proto {

enum class HelperMode { Bound, Detached };

[[nodiscard]] constexpr std::string_view to_string(HelperMode mode) {
    return mode == HelperMode::Bound ? "bound" : "detached";
}

// The command-line word back to the mode; nullopt for anything else.
[[nodiscard]] constexpr std::optional<HelperMode> parse_helper_mode(std::string_view word) {
    if (word == "bound")
        return HelperMode::Bound;
    if (word == "detached")
        return HelperMode::Detached;
    return std::nullopt;
}

} // namespace fleetbox::proto
