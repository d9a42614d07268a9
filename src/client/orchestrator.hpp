// Orchestrator: the client side of a VM's lifecycle.
//
// It resolves the per-call dependencies once (store, SSH identity, image), builds the disk
// overlay, host key and seed at create, spawns the helper and drives it over the control
// protocol (through HelperClient: no QEMU or netlink code is linked here), then waits for
// an authenticated SSH exec. The member lock serializes lifecycle calls on one name, so two
// concurrent starts never put two QEMUs on one disk: the second one finds the VM running.
// A failed start rolls back what it created (a VM created by this call is removed; an
// existing VM is only stopped, its disk kept).
#pragma once

#include "client/helper_launcher.hpp"
#include "image/progress.hpp"
#include "proto/messages.hpp"
#include "store/store.hpp"

#include <chrono>
#include <fleetbox/fleetbox.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace fleetbox::client {

struct StartRequest {
    std::string name;
    Options options;
    bool options_given = false; // the caller set create-only options explicitly (for the note)
    HelperMode lifetime = HelperMode::Bound;
    image::ProgressMode image_progress = image::ProgressMode::Quiet;
};

// cpus >= 1, memory >= 256 MiB, disk > 0 (one clear error naming the flag otherwise).
Status check_start_options(const Options& options);

class Orchestrator {
public:
    static Result<Orchestrator> open(std::optional<std::string> store_root,
                                     std::function<void(const std::string&)> log = {});

    Result<std::unique_ptr<Vm::Impl>> start(const StartRequest& request);
    // A handle on a running VM (NotFound / "is not running" errors otherwise).
    Result<std::unique_ptr<Vm::Impl>> attach(const std::string& name);
    // Running, starting, stopped or error; a VM with no live helper is stopped.
    Result<proto::StatusInfo> status(const std::string& name) const;
    // Stops a running VM; success (with was_running=false) when it is not running.
    Result<bool> stop(const std::string& name);
    // Stops it if running, then deletes its directory. A missing VM is NotFound.
    Status destroy(const std::string& name);

    [[nodiscard]] const Store& store() const { return store_; }

private:
    Orchestrator(Store store, HelperLauncher launcher, std::function<void(const std::string&)> log)
        : store_(std::move(store)), launcher_(std::move(launcher)), log_(std::move(log)) {}
    struct BootContext;
    Result<std::unique_ptr<Vm::Impl>> boot(const StartRequest& request,
                                           const struct HostCapabilities& caps,
                                           std::chrono::seconds boot_timeout);
    Result<std::unique_ptr<Vm::Impl>> boot_steps(BootContext& ctx);
    // Stops what boot started; removes a VM this call created, keeping its logs. Returns the
    // directory they were kept in ("" when none were or the VM existed before).
    std::string rollback(BootContext& ctx);
    void note(const std::string& line) const {
        if (log_)
            log_(line);
    }

    Store store_;
    HelperLauncher launcher_;
    std::function<void(const std::string&)> log_;
};

} // namespace fleetbox::client
