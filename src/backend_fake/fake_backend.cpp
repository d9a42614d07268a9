// FakeBackend: instant state machine with one real stand-in process per booted member.
//
// Every member's state lives in one map under one mutex; a condition variable wakes a boot
// that is waiting out its fake delay when stop() or shutdown() cancels it. Cancellation is an
// epoch counter per member (bumped by stop), so a boot that started before a stop can tell it
// was overtaken even if the member was stopped and booted again meanwhile. Stand-ins are
// killed (SIGKILL + waitpid) under the mutex, so stop() returns only once the process is gone.
#include "backend_fake/fake_backend.hpp"

#include "util/clock.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fleetbox::backend {

namespace {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// The fake's subnets: documentation ranges (RFC 5737), never routed, handed out in order.
constexpr std::array<const char*, 3> kFakeSubnets = {kFakeSubnet, "198.51.100.0/24",
                                                     "192.0.2.0/24"};

// "a.b.c." of a "a.b.c.0/24" subnet.
std::string stem_of(const std::string& subnet) {
    return subnet.substr(0, subnet.rfind('.') + 1);
}

// Host part (0..255) of an address inside the /24 whose stem is given, or -1.
int host_of(const std::string& stem, const std::string& ip) {
    in_addr addr{};
    if (::inet_pton(AF_INET, ip.c_str(), &addr) != 1 || ip.rfind(stem, 0) != 0)
        return -1;
    return static_cast<int>(ntohl(addr.s_addr) & 0xFFu);
}

std::string mac_for(int host) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "52:54:00:fa:4b:%02x", host);
    return buf;
}

bool active(proto::MemberState state) {
    return proto::is_active(state);
}

} // namespace

FakeOptions FakeOptions::from_env() {
    FakeOptions o;
    o.record_path = env_or_empty("FLEETBOX_FAKE_RECORD");
    o.fail_boot = env_or_empty("FLEETBOX_FAKE_FAIL_BOOT");
    std::string delay = env_or_empty("FLEETBOX_FAKE_BOOT_DELAY_MS");
    if (!delay.empty())
        o.boot_delay_ms = static_cast<int>(std::strtol(delay.c_str(), nullptr, 10));
    return o;
}

FakeBackend::FakeBackend(FakeOptions options) : options_(std::move(options)) {
    if (!options_.spawn)
        options_.spawn = [](const ChildSpec& spec) { return ChildProcess::spawn(spec); };
}

FakeBackend::~FakeBackend() = default; // each Member's ChildProcess kills and reaps its stand-in

void FakeBackend::record(const std::string& call, const std::string& name, nlohmann::json details) {
    if (options_.record_path.empty())
        return;
    nlohmann::json line = {{"call", call}};
    if (!name.empty())
        line["name"] = name;
    if (details.is_object())
        line.update(details);
    std::string text = line.dump() + "\n";
    int fd = ::open(options_.record_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return; // a test that asked for a record will notice it is missing
    (void)!::write(fd, text.data(), text.size());
    ::close(fd);
}

proto::NetworkInfo FakeBackend::network_info() const {
    return proto::NetworkInfo{kFakeBridge, subnet_, stem_of(subnet_) + "1", 24};
}

Result<proto::NetworkInfo> FakeBackend::create_network(const proto::CreateNetwork& request) {
    record("create_network", request.cluster,
           {{"subnet", request.subnet}, {"avoid", request.avoid}});
    std::lock_guard lock(mutex_);
    if (shut_down_)
        return fail(ErrorKind::Interrupted, "create network", "the helper is shutting down");
    if (network_) {
        if (!request.subnet.empty() && request.subnet != subnet_)
            return fail(ErrorKind::InvalidArgument, "create network " + request.subnet,
                        "this helper's network is " + subnet_);
        return network_info();
    }
    if (!request.subnet.empty()) {
        subnet_ = request.subnet;
    } else {
        auto avoided = [&](const char* s) {
            return std::find(request.avoid.begin(), request.avoid.end(), s) != request.avoid.end();
        };
        auto it = std::find_if_not(kFakeSubnets.begin(), kFakeSubnets.end(), avoided);
        if (it == kFakeSubnets.end())
            return fail(ErrorKind::NoSpace, "create network",
                        "no free /24 subnet among the fake's documentation ranges");
        subnet_ = *it;
    }
    network_ = true;
    return network_info();
}

Result<int> FakeBackend::pick_host(const std::string& ip_hint) const {
    auto taken = [&](int host) {
        for (const auto& [name, m] : members_)
            if (m.ip == stem_of(subnet_) + std::to_string(host))
                return true;
        return false;
    };
    int hinted = ip_hint.empty() ? -1 : host_of(stem_of(subnet_), ip_hint);
    if (hinted >= 2 && hinted <= 254 && !taken(hinted))
        return hinted;
    for (int host = 2; host <= 254; ++host)
        if (!taken(host))
            return host;
    return fail(ErrorKind::NoSpace, "reserve an address", "subnet " + subnet_ + " is full");
}

Result<proto::Reservation> FakeBackend::reserve(const std::string& name,
                                                const std::string& ip_hint) {
    record("reserve", name, {{"ip_hint", ip_hint}});
    std::lock_guard lock(mutex_);
    if (!network_)
        return fail(ErrorKind::InvalidArgument, "reserve " + name, "network not created");
    Member& m = members_[name];
    if (m.ip.empty()) {
        int host = FBX_TRY(pick_host(ip_hint));
        m.ip = stem_of(subnet_) + std::to_string(host);
        m.mac = mac_for(host);
    }
    return proto::Reservation{m.ip, m.mac};
}

Result<ChildProcess> FakeBackend::spawn_standin(const std::string& name) {
    ChildSpec spec;
    spec.argv = {"sleep", "100000"};
    spec.out = Stream::Null;
    spec.err = Stream::Null;
    spec.parent_death_signal = SIGKILL;
    auto child = options_.spawn(spec);
    if (!child)
        return fail(std::move(child).error().wrap("start the stand-in for " + name));
    return child;
}

Result<proto::Booted> FakeBackend::boot(const proto::BootSpec& spec) {
    const std::string& name = spec.name;
    // Which seed and kernel command line words the client chose, and the time it allowed.
    record("boot", name,
           {{"seed", spec.seed_path.substr(spec.seed_path.rfind('/') + 1)},
            {"kernel_cmdline_extra", spec.kernel_cmdline_extra},
            {"fixtures", spec.fixture_paths},
            {"machine", spec.machine},
            {"firmware_boot", spec.firmware_boot},
            {"kernel_root", spec.kernel_root},
            {"boot_timeout_s", spec.boot_timeout_s}});
    std::unique_lock lock(mutex_);
    if (shut_down_)
        return fail(ErrorKind::Interrupted, "boot " + name, "the helper is shutting down");
    auto it = members_.find(name);
    if (it == members_.end() || it->second.ip.empty())
        return fail(ErrorKind::InvalidArgument, "member " + name + " was not reserved", {},
                    "send reserve before boot-member");
    Member& m = it->second;
    if (active(m.state))
        return fail(ErrorKind::Busy, "member " + name + " is already running");
    if (!options_.fail_boot.empty() && options_.fail_boot == name) {
        m.state = proto::MemberState::Error;
        m.error = "injected boot failure (FLEETBOX_FAKE_FAIL_BOOT)";
        return fail(ErrorKind::ExternalCommand, "boot " + name, m.error);
    }
    m.state = proto::MemberState::Starting;
    m.error.clear();
    m.spawning = true;
    unsigned epoch = m.stop_epoch;
    lock.unlock();
    auto standin = spawn_standin(name);
    lock.lock();
    m.spawning = false;
    changed_.notify_all();
    if (!standin) {
        m.state = proto::MemberState::Error;
        m.error = standin.error().message();
        return fail(std::move(standin).error());
    }
    if (m.stop_epoch != epoch) {
        standin->kill();
        return fail(ErrorKind::Interrupted, "member " + name + " was stopped during boot");
    }
    m.standin = std::move(*standin);
    return finish_boot(lock, m, name, epoch, std::chrono::seconds(spec.boot_timeout_s));
}

Result<proto::Booted> FakeBackend::finish_boot(std::unique_lock<std::mutex>& lock, Member& m,
                                               const std::string& name, unsigned epoch,
                                               std::chrono::seconds timeout) {
    auto started = std::chrono::steady_clock::now();
    auto delay = std::chrono::milliseconds(options_.boot_delay_ms);
    bool too_slow = timeout.count() > 0 && delay > timeout;
    changed_.wait_for(lock, too_slow ? std::chrono::milliseconds(timeout) : delay,
                      [&] { return m.stop_epoch != epoch; });
    if (m.stop_epoch != epoch)
        return fail(ErrorKind::Interrupted, "member " + name + " was stopped during boot");
    if (too_slow) {
        m.standin.reset();
        m.state = proto::MemberState::Error;
        m.error =
            fmt::format("did not boot within {} s (FLEETBOX_FAKE_BOOT_DELAY_MS)", timeout.count());
        return fail(ErrorKind::Timeout, "boot " + name, m.error);
    }
    m.state = proto::MemberState::Running;
    double seconds = seconds_since(started);
    return proto::Booted{m.ip, m.standin->pid(), 1, {{"fake-boot", seconds}}};
}

Result<proto::StatusInfo> FakeBackend::status(const std::string& name) {
    record("status", name);
    std::lock_guard lock(mutex_);
    auto it = members_.find(name);
    if (it == members_.end())
        return proto::StatusInfo{name, proto::MemberState::Stopped, "", 0, 0, ""};
    refresh(it->second);
    return status_of(name, it->second);
}

void FakeBackend::refresh(Member& m) {
    if (m.state != proto::MemberState::Running || !m.standin)
        return;
    if (auto ended = m.standin->try_wait()) {
        m.state = proto::MemberState::Error;
        m.error = "the stand-in " + ended->describe();
        m.standin.reset();
    }
}

proto::StatusInfo FakeBackend::status_of(const std::string& name, const Member& m) {
    int qemu_pid = m.standin && m.standin->running() ? m.standin->pid() : 0;
    return proto::StatusInfo{name, m.state, m.ip, 0, qemu_pid, m.error};
}

void FakeBackend::stop_locked(std::unique_lock<std::mutex>& lock, Member& m) {
    ++m.stop_epoch;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !m.spawning; });
    if (m.standin) {
        m.standin->kill();
        m.standin.reset();
    }
    m.state = proto::MemberState::Stopped;
    m.error.clear();
}

Status FakeBackend::stop(const std::string& name) {
    record("stop", name);
    std::unique_lock lock(mutex_);
    auto it = members_.find(name);
    if (it != members_.end())
        stop_locked(lock, it->second);
    return {};
}

Status FakeBackend::release(const std::string& name) {
    record("release", name);
    std::lock_guard lock(mutex_);
    auto it = members_.find(name);
    if (it == members_.end())
        return {};
    if (active(it->second.state))
        return fail(ErrorKind::Busy, "release " + name,
                    "member " + name + " is " + std::string(proto::to_string(it->second.state)),
                    "stop it first: fleetbox down " + name);
    members_.erase(it);
    return {};
}

Result<proto::MemberList> FakeBackend::list() {
    record("list");
    std::lock_guard lock(mutex_);
    proto::MemberList out;
    if (network_)
        out.network = network_info();
    for (auto& [name, m] : members_) {
        refresh(m);
        out.members.push_back(status_of(name, m));
    }
    return out;
}

int FakeBackend::active_members() {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (auto& [name, m] : members_)
        if (refresh(m); active(m.state))
            ++n;
    return n;
}

Status FakeBackend::shutdown() {
    record("shutdown");
    std::unique_lock lock(mutex_);
    shut_down_ = true;
    for (auto& [name, m] : members_)
        stop_locked(lock, m);
    network_ = false;
    return {};
}

} // namespace fleetbox::backend
