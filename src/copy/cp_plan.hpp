// The rules of `fleetbox cp SRC DST`: which side is the VM, and where the copy lands.
//
// Why in the library and pure: the rules decide where files land, so they are unit-tested
// without a VM; the CLI file only parses flags and calls this, then the copy itself.
// A side naming a VM contains ':' (the VM name is the text before the first colon).
// Download: a local destination that is ".", "..", ends with '/' or is an existing directory
// receives <dst>/<base(src)>; the guest root needs an explicit local path. Upload: a guest
// destination ending with '/' receives <dst>/<base(src)> (as cp and scp do); otherwise it is
// exact. Guest paths must be absolute.
#pragma once

#include "util/error.hpp"

#include <functional>
#include <string>

namespace fleetbox::copy {

struct CpPlan {
    bool upload = false;
    std::string vm;
    std::string local;  // host path (download: where the copy lands)
    std::string remote; // guest path (upload: where the copy lands)
};

// InvalidArgument with the CLI's messages: "VM-to-VM copy is not supported (one side must be
// a local path)", "either src or dst must use name:/path syntax", "invalid remote syntax:
// missing VM name before ':'", `guest path "x" must be absolute`, "copying the guest root
// needs an explicit local destination path". `is_dir` answers whether a local path is an
// existing directory.
Result<CpPlan> plan_cp(const std::string& src, const std::string& dst,
                       const std::function<bool(const std::string&)>& is_dir);

} // namespace fleetbox::copy
