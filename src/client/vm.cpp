// The public API (include/fleetbox/fleetbox.hpp): fleetbox::start and fleetbox::Vm, thin
// wrappers over the Orchestrator with a bound helper (the VM lives as long as the caller).
#include "client/member_state.hpp"
#include "client/orchestrator.hpp"
#include "client/vm_impl.hpp"

#include <fleetbox/fleetbox.hpp>
#include <fmt/format.h>

namespace fleetbox {

Vm::Vm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vm::Vm(Vm&&) noexcept = default;
Vm& Vm::operator=(Vm&&) noexcept = default;
Vm::~Vm() = default;

const std::string& Vm::name() const {
    return impl_->name_;
}
const std::string& Vm::ip() const {
    return impl_->ip_;
}
const std::vector<PhaseTiming>& Vm::timings() const {
    return impl_->timings_;
}
const std::vector<PhaseTiming>& Vm::guest_timings() const {
    return impl_->guest_timings_;
}

std::string Vm::state() const {
    auto* backend = impl_->client();
    if (backend == nullptr)
        return std::string(proto::to_string(proto::MemberState::Stopped));
    auto st = backend->status(impl_->name_);
    return std::string(proto::to_string(st ? st->state : proto::MemberState::Stopped));
}

Result<ExecResult> Vm::ssh(const std::string& command,
                           std::optional<std::chrono::milliseconds> timeout) {
    ExecOptions options; // the rest of Vm::ssh is in vm_control.cpp
    options.timeout = timeout;
    return ssh(command, options);
}

Status Vm::stop() {
    impl_->shell_.disconnect();
    if (auto* backend = impl_->client()) {
        FBX_CHECK(backend->stop(impl_->name_).map_error([&](Error e) {
            return std::move(e).wrap("stop " + impl_->name_);
        }));
    }
    if (impl_->helper_)
        (void)impl_->helper_->close();
    impl_->helper_.reset();
    impl_->attached_.reset();
    return {};
}

Status Vm::destroy() {
    // Lock, stop, confirm, delete (Orchestrator::destroy says why in this order).
    auto lock = FBX_TRY(impl_->store_.lock_member_wait(impl_->name_, std::chrono::seconds(30)));
    FBX_CHECK(stop());
    FBX_CHECK(client::ensure_member_down(impl_->store_, client::HelperLauncher(std::string()),
                                         impl_->name_));
    return impl_->store_.remove(impl_->name_);
}

Result<Vm> start(const std::string& name, const Options& options) {
    auto orchestrator = FBX_TRY(client::Orchestrator::open(options.store_root, options.log));
    client::StartRequest request;
    request.name = name;
    request.options = options;
    request.lifetime = client::HelperMode::Bound;
    auto impl = FBX_TRY(orchestrator.start(request).map_error(
        [&](Error e) { return std::move(e).wrap(fmt::format("start {}", name)); }));
    return Vm(std::move(impl));
}

} // namespace fleetbox
