// `fleetbox version` (and `--version`): "fleetbox <ver> (commit <c>, built <d>)".
#include "build_info.hpp"
#include "cli.hpp"

#include <fmt/core.h>

namespace fleetbox::cli {

namespace {
std::string version_line() {
    return fmt::format("fleetbox {} (commit {}, built {})", FLEETBOX_VERSION, FLEETBOX_COMMIT,
                       FLEETBOX_BUILD_DATE);
}
} // namespace

void install_version(CLI::App& app, Globals& /*globals*/, Action& action) {
    app.set_version_flag("--version", version_line(), "Print the version and exit");
    auto* cmd = app.add_subcommand("version", "Print the version");
    cmd->callback([&action] {
        action = [] {
            fmt::print("{}\n", version_line());
            return Result<int>(0);
        };
    });
}

} // namespace fleetbox::cli
