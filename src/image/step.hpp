// Running one external step of an image build (mmdebstrap, mkfs.ext4, qemu-img).
//
// Why: every step must (1) keep its full output in the build log, (2) be killable as a
// whole tree when the user presses Ctrl-C (it runs in its own process group, polled every
// 200 ms against interrupted()), (3) die if fleetbox itself is killed (PR_SET_PDEATHSIG),
// and (4) fail with one classified error line (build_errors.hpp).
#pragma once

#include "image/apt_sources.hpp"
#include "util/error.hpp"

#include <functional>
#include <string>
#include <vector>

namespace fleetbox::image {

class Progress;

struct StepSpec {
    std::string alias; // for error messages
    std::vector<std::string> argv;
    std::string package;  // Debian package of argv[0], for "not installed"
    std::string log_path; // output appended here
    int log_fd = -1; // when >= 0: log_path already open O_RDWR|O_APPEND (not owned), used instead
    const MirrorSet* mirrors = nullptr; // for Network errors (mmdebstrap)
    Progress* progress = nullptr;       // gets the last "I: ..." line of mmdebstrap as detail
};

// The build log is capped: a step whose output takes the log past this size is killed and
// fails. A build's log is truncated at its start, so one log holds one build's output (a
// Debian build writes a few MiB); the cap only stops a runaway step from filling the disk.
inline constexpr long long kMaxBuildLogBytes = 256LL << 20;

// Run to completion; Interrupted when interrupted() turns true (the child's whole process
// group is killed first), a classified error when it fails.
Status run_step(const StepSpec& spec);

} // namespace fleetbox::image
