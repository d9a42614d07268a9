// Turning a failed external step of an image build into one clear error.
//
// Why: mmdebstrap's stderr is hundreds of lines; the user needs the one that matters. apt
// reports an unreachable mirror as "Failed to fetch ... Could not connect" / "Temporary
// failure resolving", a full disk as "No space left on device", a bad package name as
// "Unable to locate package". Those become Network, NoSpace and ExternalCommand errors that
// name the mirror and the file it came from; anything else gets the last "E:" line. The full
// output stays in a build log whose path every error names.
#pragma once

#include "image/apt_sources.hpp"
#include "sys/child_process.hpp"
#include "util/error.hpp"

#include <string>

namespace fleetbox::image {

struct StepFailure {
    std::string alias;   // image being built
    std::string program; // "mmdebstrap", "mkfs.ext4", "qemu-img"
    ExitStatus status;
    std::string output;   // the step's stderr (and stdout)
    std::string log_path; // where the full output was kept
};

// Classify a failed step; `mirrors` names the mirror in Network errors.
Error classify_failure(const StepFailure& failure, const MirrorSet& mirrors);

// The first line of `text` containing `needle` (trimmed), or empty.
std::string line_with(const std::string& text, const std::string& needle);

} // namespace fleetbox::image
