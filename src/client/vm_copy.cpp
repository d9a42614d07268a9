// Vm::copy_to / Vm::copy_from: the public face of src/copy, on the handle's shared SSH
// connection (so a copy costs no new login), with the errors named after the VM.
#include "client/vm_impl.hpp"
#include "copy/copy.hpp"

#include <fleetbox/fleetbox.hpp>

namespace fleetbox {

namespace {

copy::CopySettings settings_of(const CopyOptions& options) {
    copy::CopySettings s;
    s.as_root = options.as_root;
    s.limits.timeout = options.timeout;
    s.limits.cancel = options.cancel;
    return s;
}

} // namespace

Status Vm::copy_to(const std::string& host_path, const std::string& guest_path,
                   const CopyOptions& options) {
    return copy::upload(impl_->shell_, host_path, guest_path, settings_of(options))
        .map_error([&](Error e) { return std::move(e).wrap("copy to " + impl_->name_); });
}

Status Vm::copy_from(const std::string& guest_path, const std::string& host_path,
                     const CopyOptions& options) {
    return copy::download(impl_->shell_, guest_path, host_path, settings_of(options))
        .map_error([&](Error e) { return std::move(e).wrap("copy from " + impl_->name_); });
}

} // namespace fleetbox
