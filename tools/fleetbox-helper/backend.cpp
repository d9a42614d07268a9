// make_backend for the real fleetbox-helper: the QEMU + netlink + nftables backend.
//
// QEMU is forked through the helper's MainThreadExecutor so that its PR_SET_PDEATHSIG is
// tied to the helper's main thread, which lives exactly as long as the helper.
#include "backend_qemu/qemu_backend.hpp"
#include "helper/helper_context.hpp"
#include "host/accel.hpp"

namespace fleetbox::helper {

Result<std::unique_ptr<backend::Backend>> make_backend(const HelperContext& context) {
    auto accel = FBX_TRY(choose_accel());
    auto* executor = &context.executor;
    auto spawn = [executor](const ChildSpec& spec) {
        return executor->run([&] { return ChildProcess::spawn(spec); });
    };
    return std::unique_ptr<backend::Backend>(
        std::make_unique<backend::QemuBackend>(context.store, std::move(accel), std::move(spawn)));
}

} // namespace fleetbox::helper
