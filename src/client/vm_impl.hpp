// Vm::Impl: what a VM handle holds: the helper it talks to (owned when this handle booted the
// VM, attached otherwise), the one reused SSH connection, and the boot's timings.
#pragma once

#include "client/helper_launcher.hpp"
#include "client/remote_backend.hpp"
#include "guest/guest_shell.hpp"
#include "store/store.hpp"

#include <fleetbox/fleetbox.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fleetbox {

class Vm::Impl {
public:
    Impl(std::string name, std::string ip, Store store, guest::SshTarget target,
         std::chrono::milliseconds connect_timeout)
        : name_(std::move(name)), ip_(std::move(ip)), store_(std::move(store)),
          shell_(std::move(target), connect_timeout) {}

    std::string name_;
    std::string ip_;
    Store store_;
    guest::GuestShell shell_;
    std::vector<PhaseTiming> timings_;
    std::vector<PhaseTiming> guest_timings_;
    std::optional<client::HelperHandle> helper_;      // this handle booted the VM
    std::unique_ptr<client::RemoteBackend> attached_; // the VM was already running

    backend::Backend* backend() {
        if (helper_)
            return &helper_->backend();
        return attached_.get();
    }
};

} // namespace fleetbox
