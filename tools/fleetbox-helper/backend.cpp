// make_backend for the real fleetbox-helper: the QEMU + netlink + nftables backend.
//
// Placeholder until the QEMU backend lands: the helper starts, reports that it has no VM
// backend, and exits 1, so a client gets one clear error instead of a half-working helper.
// The QEMU backend must fork QEMU through context.executor (see helper/helper_context.hpp).
#include "helper/helper_context.hpp"

namespace fleetbox::helper {

Result<std::unique_ptr<backend::Backend>> make_backend(const HelperContext&) {
    return fail(ErrorKind::Internal, "start the VM backend",
                "this build of fleetbox-helper has no QEMU backend yet");
}

} // namespace fleetbox::helper
