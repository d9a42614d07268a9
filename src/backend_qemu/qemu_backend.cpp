// QemuBackend (see qemu_backend.hpp for why and the threading rules).
#include "backend_qemu/qemu_backend.hpp"

#include "backend_qemu/network_reconcile.hpp"
#include "net/names.hpp"
#include "net/network_record.hpp"
#include "net/subnet_picker.hpp"
#include "net/tap.hpp"
#include "store/mac.hpp"

#include <fmt/format.h>
#include <sys/eventfd.h>

namespace fleetbox::backend {

namespace {
// Graceful powerdown bound: a loaded 2-core host under TCG needs tens of seconds.
constexpr std::chrono::seconds kPowerdownTcg{90};
constexpr std::chrono::seconds kPowerdownKvm{30};
} // namespace

QemuBackend::QemuBackend(const Store& store, AccelChoice accel, SpawnFn spawn,
                         bool drop_network_when_idle)
    : store_(store), accel_(std::move(accel)), spawn_(std::move(spawn)),
      drop_network_when_idle_(drop_network_when_idle),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    // Without the eventfd (fd exhaustion) the watcher still notices exits; it only learns of a
    // new running member at its next tick.
    watcher_ = std::thread([this] { watch(); });
}

QemuBackend::~QemuBackend() {
    (void)shutdown();
    stop_watcher();
}

proto::MemberState QemuBackend::state_name(State state) {
    using proto::MemberState;
    switch (state) {
    case State::Reserved:
    case State::Stopped:
        return MemberState::Stopped;
    case State::Starting:
        return MemberState::Starting;
    case State::Running:
    case State::Stopping:
        return MemberState::Running;
    case State::Failed:
        return MemberState::Error;
    }
    return MemberState::Error;
}

Result<proto::NetworkInfo> QemuBackend::create_network(const proto::CreateNetwork& request) {
    std::lock_guard lock(mutex_);
    if (shutting_down_)
        return fail(ErrorKind::Busy, "create network", "the helper is shutting down");
    if (network_ && !request.subnet.empty() && request.subnet != network_->subnet().cidr)
        return fail(ErrorKind::InvalidArgument, "create network " + request.subnet,
                    "this helper's network is " + network_->subnet().cidr);
    if (!network_)
        FBX_CHECK(build_network(request));
    const auto& subnet = network_->subnet();
    return proto::NetworkInfo{network_->bridge(), subnet.cidr, subnet.gateway, subnet.prefix};
}

Status QemuBackend::build_network(const proto::CreateNetwork& request) {
    const std::string dir = FBX_TRY(store_.networks_dir());
    // Leftovers of a crashed helper first (its subnet may be the one we need). Forwarding is
    // not restored: this helper is about to need it. A failure here is not ours to report.
    (void)reconcile_store_networks(store_, false, /*restore_forwarding=*/false);
    NetworkPlan plan;
    if (!request.subnet.empty()) {
        auto subnet = parse_subnet(request.subnet);
        if (!subnet)
            return fail(std::move(subnet).error().wrap("create network"));
        FBX_CHECK(check_subnet_free(*subnet));
        plan = NetworkPlan{FBX_TRY(new_bridge_name()), *subnet};
    } else {
        std::set<std::string> taken(request.avoid.begin(), request.avoid.end());
        for (const auto& path : FBX_TRY(list_records(dir))) {
            if (auto record = read_record(path))
                taken.insert(record->subnet);
        }
        plan = FBX_TRY(Network::plan(taken));
    }
    auto journal = FBX_TRY(RecordJournal::create(dir, request.cluster));
    network_.emplace(FBX_TRY(Network::create(plan, journal)));
    journal_ = std::move(journal);
    return {};
}

Result<proto::Reservation> QemuBackend::reserve(const std::string& name,
                                                const std::string& ip_hint) {
    std::lock_guard lock(mutex_);
    if (!network_)
        return fail(ErrorKind::InvalidArgument, "reserve " + name, "network not created");
    auto ip = FBX_TRY(network_->addresses().reserve(name, ip_hint));
    auto& member = members_[name];
    member.ip = ip;
    return proto::Reservation{ip, mac_for_name(name)};
}

Result<proto::Booted> QemuBackend::boot(const proto::BootSpec& spec) {
    std::unique_lock lock(mutex_);
    const std::string& name = spec.name;
    if (shutting_down_)
        return fail(ErrorKind::Busy, "boot " + name, "the helper is shutting down");
    auto it = members_.find(name);
    if (!network_ || it == members_.end() || it->second.ip.empty())
        return fail(ErrorKind::InvalidArgument, "boot " + name,
                    fmt::format("member {} was not reserved", name));
    Member& member = it->second;
    if (member.state == State::Starting || member.state == State::Running ||
        member.state == State::Stopping)
        return fail(ErrorKind::Busy, "boot " + name,
                    fmt::format("member {} is already running", name));
    auto tap = FBX_TRY(network_->add_tap());
    member.state = State::Starting;
    member.cancel = false;
    member.error.clear();
    member.tap = tap;
    member.dir = spec.member_dir;
    lock.unlock();

    auto booted = boot_unlocked(spec, member, tap);

    lock.lock();
    if (!booted) {
        member.vm.reset(); // kills and reaps QEMU if it is still running
        if (network_)
            (void)network_->remove_tap(tap);
        member.tap.clear();
        bool cancelled = member.cancel;
        member.state = cancelled ? State::Stopped : State::Failed;
        member.error = booted.error().message();
        changed_.notify_all();
        if (cancelled)
            return fail(ErrorKind::Interrupted, "boot " + name,
                        fmt::format("member {} was stopped during boot", name));
        return booted;
    }
    member.state = State::Running;
    changed_.notify_all();
    wake_watcher(); // watch its QEMU from now on
    return booted;
}

Result<proto::Booted> QemuBackend::boot_unlocked(const proto::BootSpec& spec, Member& member,
                                                 const std::string& tap) {
    if (!spec.disk_path.empty() && spec.base_image_path.empty()) // the disk chain is ours to fix
        return fail(ErrorKind::InvalidArgument, "boot " + spec.name, "spec has no base_image_path",
                    "this fleetbox-helper needs a client of the same version");
    auto machine = parse_machine(spec.machine); // the codec checked it; never trust twice
    if (!machine || (spec.firmware_boot && *machine != Machine::Q35))
        return fail(ErrorKind::InvalidArgument, "boot " + spec.name,
                    fmt::format("cannot boot machine \"{}\"{}", spec.machine,
                                spec.firmware_boot ? " through firmware" : ""));
    QemuConfig config;
    config.name = spec.name;
    config.machine = *machine;
    config.firmware_boot = spec.firmware_boot;
    config.kernel_root = spec.kernel_root;
    config.kernel = spec.kernel_path;
    config.initrd = spec.initrd_path;
    config.disk = spec.disk_path;
    config.base_image = spec.base_image_path;
    config.seed = spec.seed_path;
    config.fixtures = spec.fixture_paths;
    config.cmdline_extra = spec.kernel_cmdline_extra;
    config.mac = spec.mac;
    config.cpus = static_cast<unsigned>(spec.cpus);
    config.memory_mb = static_cast<unsigned>(spec.memory_mb);
    config.serial_log = spec.member_dir + "/serial.log";
    config.qmp_socket = FBX_TRY(store_.qmp_socket_path(spec.name));
    config.accel = accel_.kind;

    LaunchOptions options;
    options.qemu_log = spec.member_dir + "/qemu.log";
    options.open_tap = [tap] { return open_tap(tap); }; // QEMU cannot: it has no CAP_NET_ADMIN
    std::shared_ptr<RecordJournal> journal;
    {
        std::lock_guard lock(mutex_);
        journal = journal_;
    }
    // Every launch (watchdog relaunches too) records the QEMU's pid + start time on its tap.
    options.spawn = [this, journal, tap](const ChildSpec& child_spec) -> Result<ChildProcess> {
        auto child = spawn_ ? spawn_(child_spec) : ChildProcess::spawn(child_spec);
        if (child && journal)
            (void)journal->qemu_launched(tap, child->pid()); // PDEATHSIG covers the gap
        return child;
    };
    options.cancelled = [this, &member] {
        std::lock_guard lock(mutex_);
        return member.cancel;
    };
    auto vm = FBX_TRY(QemuVm::launch(config, options));
    auto report = vm.wait_until_reachable(member.ip, 22, std::chrono::seconds(spec.boot_timeout_s));
    {
        std::lock_guard lock(mutex_);
        member.vm = std::move(vm); // on failure boot() kills it; on success it keeps running
    }
    if (!report)
        return fail(std::move(report).error());
    proto::Booted booted;
    booted.ip = member.ip;
    booted.qemu_pid = member.vm->pid();
    booted.boot_attempts = report->attempts;
    booted.timings = {
        {"qemu start", report->seconds_to_qemu_started},
        {"port 22 open", report->seconds_to_port_open - report->seconds_to_qemu_started}};
    return booted;
}

Result<proto::StatusInfo> QemuBackend::status(const std::string& name) {
    std::lock_guard lock(mutex_);
    proto::StatusInfo info{name, proto::MemberState::Stopped, "", static_cast<int>(::getpid()), 0,
                           ""};
    auto it = members_.find(name);
    if (it == members_.end())
        return info;
    return status_locked(name, it->second);
}

proto::StatusInfo QemuBackend::status_locked(const std::string& name, Member& m) {
    proto::StatusInfo info{name, proto::MemberState::Stopped, "", static_cast<int>(::getpid()), 0,
                           ""};
    if (m.state == State::Running && m.vm && !m.vm->running())
        end_member_locked(name, m); // exited before the watcher woke: the same outcome
    info.state = state_name(m.state);
    info.ip = m.state == State::Running || m.state == State::Starting ? m.ip : "";
    info.qemu_pid = m.vm && m.vm->running() ? m.vm->pid() : 0;
    info.error = m.error;
    return info;
}

Status QemuBackend::release(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = members_.find(name);
    if (it == members_.end())
        return {};
    Member& m = it->second;
    if (m.state == State::Starting || m.state == State::Running || m.state == State::Stopping)
        return fail(ErrorKind::Busy, "release " + name, "member " + name + " is running",
                    "stop it first: fleetbox down " + name);
    if (network_)
        network_->addresses().release(name);
    members_.erase(it);
    return {};
}

Result<proto::MemberList> QemuBackend::list() {
    std::lock_guard lock(mutex_);
    proto::MemberList out;
    if (network_) {
        const auto& subnet = network_->subnet();
        out.network =
            proto::NetworkInfo{network_->bridge(), subnet.cidr, subnet.gateway, subnet.prefix};
    }
    for (auto& [name, m] : members_)
        out.members.push_back(status_locked(name, m));
    return out;
}

Status QemuBackend::stop(const std::string& name) {
    std::unique_lock lock(mutex_);
    Status result;
    if (auto it = members_.find(name); it != members_.end())
        result = stop_member(lock, name, it->second);
    // The helper exits after this reply when nothing is left running.
    if (auto dropped = drop_network_if_idle_locked(); !dropped && result)
        result = fail(std::move(dropped).error());
    return result;
}

Status QemuBackend::stop_member(std::unique_lock<std::mutex>& lock, const std::string& name,
                                Member& m) {
    if (m.state == State::Starting) {
        m.cancel = true;
        changed_.wait(lock, [&] { return m.state != State::Starting; });
        return {};
    }
    if (m.state == State::Stopping) {
        changed_.wait(lock, [&] { return m.state != State::Stopping; });
        return {};
    }
    if (m.state != State::Running && m.state != State::Failed)
        return {};
    m.state = State::Stopping;
    std::optional<QemuVm> vm = std::move(m.vm);
    m.vm.reset();
    lock.unlock();
    Status result;
    if (vm) {
        std::chrono::milliseconds powerdown = abandoned_ ? std::chrono::milliseconds(0)
                                              : accel_.kind == AccelChoice::Kvm
                                                  ? std::chrono::milliseconds(kPowerdownKvm)
                                                  : std::chrono::milliseconds(kPowerdownTcg);
        auto stopped = vm->stop(powerdown);
        if (!stopped)
            result = fail(std::move(stopped).error().wrap("stop " + name));
        vm.reset();
    }
    lock.lock();
    if (network_ && !m.tap.empty())
        (void)network_->remove_tap(m.tap);
    m.tap.clear();
    m.state = State::Stopped;
    m.error.clear(); // a stopped member carries no stale error (e.g. from a QEMU crash)
    changed_.notify_all();
    return result;
}

int QemuBackend::active_members() {
    std::lock_guard lock(mutex_);
    return active_locked();
}

int QemuBackend::active_locked() const {
    int n = 0;
    for (const auto& [name, m] : members_)
        if (m.state == State::Starting || m.state == State::Running || m.state == State::Stopping)
            ++n;
    return n;
}

Status QemuBackend::shutdown() {
    stop_watcher(); // exits from here on are ours, not news
    std::unique_lock lock(mutex_);
    shutting_down_ = true;
    Status result;
    for (auto& [name, m] : members_) {
        auto st = stop_member(lock, name, m);
        if (!st && result)
            result = st;
    }
    if (network_) {
        auto st = network_->destroy(); // removes the record once everything is gone
        if (!st && result)
            result = st;
        network_.reset();
        journal_.reset();
    }
    return result;
}

} // namespace fleetbox::backend
