// Vm::Impl: what a VM handle holds: the helper it talks to (owned when this handle booted the
// VM, attached otherwise), the one reused SSH connection, and the boot's timings.
#pragma once

#include "client/helper_client.hpp"
#include "client/helper_launcher.hpp"
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
    std::optional<client::HelperHandle> helper_;     // this handle booted the VM
    std::unique_ptr<client::HelperClient> attached_; // the VM was already running
    // A Cluster member: the cluster's helper (owned by the Cluster, which outlives this
    // handle), so keep() can turn it detached.
    client::HelperHandle* cluster_helper_ = nullptr;
    bool kept_ = false; // keep() succeeded: closing the Cluster leaves this member running

    // The helper serving this VM: the one this handle started, or the one it attached to.
    client::HelperClient* client() {
        if (helper_)
            return &helper_->client();
        return attached_.get();
    }
};

} // namespace fleetbox
