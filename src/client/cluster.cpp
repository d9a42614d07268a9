// The public cluster API (include/fleetbox/fleetbox.hpp): fleetbox::Cluster, start_cluster,
// add_member (thin wrappers over Orchestrator::start_group) and prune (client::prune).
//
// Why the Cluster owns the helper and its members only attach: one bound helper serves every
// member, so the members' lifetime is the Cluster's (closing it stops them all and removes
// the network at once), while each Vm handle can still stop or ssh into its own member.
#include "client/cluster_view.hpp"
#include "client/orchestrator.hpp"
#include "client/prune.hpp"
#include "client/vm_impl.hpp"
#include "store/names.hpp"

#include <fleetbox/fleetbox.hpp>
#include <fmt/format.h>

namespace fleetbox {

class Cluster::Impl {
public:
    Impl(client::Orchestrator orchestrator, std::string name, Options options)
        : orchestrator_(std::move(orchestrator)), name_(std::move(name)),
          options_(std::move(options)) {}

    client::GroupRequest request(std::vector<std::string> names, const Options& options) {
        client::GroupRequest r;
        r.names = std::move(names);
        r.options = options;
        r.lifetime = client::HelperMode::Bound;
        r.cluster = name_;
        if (helper_)
            r.on_helper = &helper_->client();
        return r;
    }

    // Keep what a start produced: the helper (first start only) and the new handles.
    void adopt(client::GroupStart started) {
        if (started.helper && !helper_)
            helper_ = std::move(started.helper);
        for (auto& impl : started.vms) {
            impl->cluster_helper_ = helper_ ? &*helper_ : nullptr;
            impls_.push_back(impl.get());
            vms_.push_back(std::make_unique<Vm>(std::move(impl)));
        }
    }

    Status close() {
        // The cluster's helper is bound to us until a keep() turns it detached: then it
        // outlives us, so stop the members that were not kept (keep() of one member keeps the
        // shared helper, not its siblings).
        if (helper_ && helper_->mode() == client::HelperMode::Detached) {
            for (auto* impl : impls_)
                if (!impl->kept_)
                    (void)helper_->client().stop(impl->name_);
        }
        impls_.clear();
        vms_.clear(); // their SSH connections; the members are stopped with the helper
        if (!helper_)
            return {};
        auto ended = helper_->close();
        helper_.reset();
        if (!ended)
            return fail(std::move(ended).error().wrap("close cluster " + name_));
        return {};
    }

    client::Orchestrator orchestrator_;
    std::string name_;
    Options options_;
    std::optional<client::HelperHandle> helper_;
    std::vector<std::unique_ptr<Vm>> vms_;
    std::vector<Vm::Impl*> impls_; // vms_'s, for keep() bookkeeping
};

Cluster::Cluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cluster::Cluster(Cluster&&) noexcept = default;
Cluster& Cluster::operator=(Cluster&& other) noexcept {
    if (this != &other) {
        if (impl_)
            (void)impl_->close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}
Cluster::~Cluster() {
    if (impl_)
        (void)impl_->close();
}

const std::string& Cluster::name() const {
    return impl_->name_;
}

Result<Vm*> Cluster::add(const std::string& name, const Options& options) {
    auto started = FBX_TRY(
        impl_->orchestrator_.start_group(impl_->request({name}, options)).map_error([&](Error e) {
            return std::move(e).wrap(fmt::format("add {} to cluster {}", name, impl_->name_));
        }));
    impl_->adopt(std::move(started));
    return impl_->vms_.back().get();
}

std::vector<Vm*> Cluster::vms() const {
    std::vector<Vm*> out;
    for (const auto& vm : impl_->vms_)
        out.push_back(vm.get());
    return out;
}

Vm* Cluster::vm(const std::string& name) const {
    for (const auto& vm : impl_->vms_)
        if (vm->name() == name)
            return vm.get();
    return nullptr;
}

Status Cluster::close() {
    return impl_->close();
}

Status Cluster::destroy() {
    std::vector<std::string> names;
    for (const auto& vm : impl_->vms_)
        names.push_back(vm->name());
    FBX_CHECK(impl_->close());
    Status first;
    for (const auto& name : names)
        if (auto removed = impl_->orchestrator_.destroy(name); !removed && first)
            first = std::move(removed);
    return first;
}

Status Cluster::keep() {
    if (!impl_->helper_)
        return fail(ErrorKind::InvalidArgument, "keep cluster " + impl_->name_,
                    "none of its members is running", "add members first, then keep them");
    FBX_CHECK(impl_->helper_->keep().map_error(
        [&](Error e) { return std::move(e).wrap("keep cluster " + impl_->name_); }));
    for (auto* impl : impl_->impls_)
        impl->kept_ = true;
    return {};
}

Result<Cluster> new_cluster(const std::string& name, const Options& options) {
    FBX_CHECK(validate_vm_name(name).map_error(
        [](Error e) { return std::move(e).wrap("create cluster"); }));
    auto orchestrator = FBX_TRY(client::Orchestrator::open(options.store_root, options.log));
    return Cluster(std::make_unique<Cluster::Impl>(std::move(orchestrator), name, options));
}

Result<Cluster> start_cluster(const std::vector<std::string>& names, const Options& options) {
    if (names.empty())
        return fail(ErrorKind::InvalidArgument, "start cluster", "no member names given");
    FBX_CHECK(validate_vm_name(names.front()));
    auto orchestrator = FBX_TRY(client::Orchestrator::open(options.store_root, options.log));
    auto impl = std::make_unique<Cluster::Impl>(std::move(orchestrator),
                                                cluster_name(names.front()), options);
    auto request = impl->request(names, options);
    request.cluster.clear(); // an existing member's recorded cluster wins, else the first name's
    auto started = FBX_TRY(impl->orchestrator_.start_group(request));
    impl->name_ = started.cluster;
    impl->adopt(std::move(started));
    return Cluster(std::move(impl));
}

Result<Cluster> start_cluster(const std::string& prefix, int n, const Options& options) {
    if (n < 1)
        return fail(ErrorKind::InvalidArgument, "start cluster " + prefix,
                    fmt::format("a cluster needs at least 1 member, got {}", n));
    std::vector<std::string> names;
    for (int i = 1; i <= n; ++i)
        names.push_back(fmt::format("{}-{}", prefix, i));
    return start_cluster(names, options);
}

Result<Vm> add_member(const std::string& sibling, const std::string& name, const Options& options) {
    FBX_CHECK(validate_vm_name(sibling));
    auto orchestrator = FBX_TRY(client::Orchestrator::open(options.store_root, options.log));
    client::GroupRequest request;
    request.names = {name};
    request.options = options;
    request.lifetime = client::HelperMode::Detached;
    request.join_sibling = sibling;
    request.cluster = client::cluster_of(orchestrator.store(), sibling);
    auto started = FBX_TRY(orchestrator.start_group(request).map_error([&](Error e) {
        return std::move(e).wrap(fmt::format("add {} next to {}", name, sibling));
    }));
    auto impl = std::move(started.vms.front());
    if (started.helper) {
        impl->attached_.reset();
        impl->helper_ = std::move(started.helper); // detached: closing only drops connections
    }
    return Vm(std::move(impl));
}

Result<PruneReport> prune(bool dry_run, std::optional<std::string> store_root) {
    auto store = FBX_TRY(Store::open(std::move(store_root)));
    auto report = FBX_TRY(client::prune(store, dry_run));
    PruneReport out;
    out.dry_run = report.dry_run;
    for (auto& net : report.reclaimed)
        out.reclaimed.push_back({net.bridge, net.subnet, net.cluster, net.owner_pid, net.taps,
                                 net.killed_qemu_pids, net.removed, net.errors});
    for (const auto& live : report.live)
        out.live.push_back(live.bridge);
    for (const auto& fwd : report.forwarding_restored)
        out.forwarding_restored.push_back(fwd.interface + "=" + std::to_string(fwd.value));
    out.errors = std::move(report.errors);
    return out;
}

} // namespace fleetbox
