// The `fleetbox image` subcommands, split over cmd_image.cpp (build, rm, recipe and the
// command tree), cmd_image_ls.cpp (ls) and cmd_image_pull.cpp (pull, verify).
#pragma once

#include "cli.hpp"
#include "image/cache.hpp"

#include <string>
#include <vector>

namespace fleetbox::cli {

Result<image::ImageCache> open_image_cache();

Result<int> run_image_ls(const std::string& output);
Result<int> run_image_pull(const std::string& source, bool force, const Globals& globals);
Result<int> run_image_verify(const std::vector<std::string>& names);

} // namespace fleetbox::cli
