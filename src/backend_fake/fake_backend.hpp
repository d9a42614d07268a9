// FakeBackend: an instant, in-process Backend for coordination tests that need no root, no
// bridge and no VM. It is linked only into the test-only helper binary (fleetbox-helper-fake)
// and into tests; no user-facing switch selects it.
//
// Behavior (see docs/protocol.md for the real thing it stands in for):
// - create_network returns the requested subnet, else the first documentation subnet
//   (RFC 5737, never routed: 203.0.113.0/24, 198.51.100.0/24, 192.0.2.0/24) not in `avoid`;
//   gateway .1, bridge "fbx-fake"; reserve hands out .2, .3, ... per name, honoring a free
//   in-subnet hint.
// - boot() spawns one real stand-in process per member (`sleep`, PR_SET_PDEATHSIG=SIGKILL)
//   whose pid is reported as qemu_pid, so tests can assert that stop, shutdown and a dying
//   helper leave no process behind. The spawn goes through FakeOptions::spawn, which the
//   helper routes to its main thread (PR_SET_PDEATHSIG fires when the forking *thread* exits).
// - FLEETBOX_FAKE_BOOT_DELAY_MS keeps a boot "starting" for that long; stop() during the
//   delay cancels it (boot returns "member X was stopped during boot"); a delay longer than
//   the spec's boot_timeout_s ends the boot with a Timeout error after that timeout.
// - FLEETBOX_FAKE_FAIL_BOOT=<name> makes that member's boot fail.
// - A running member whose stand-in exited (a test killed it: the fake's "QEMU crashed") reads
//   as `error` from then on, until it is stopped or booted again.
// - FLEETBOX_FAKE_RECORD=<file> appends one JSON line per call ({"call":"boot","name":...},
//   with the request's details: boot's seed file name, kernel_cmdline_extra, fixtures and
//   boot_timeout_s; createnetwork's subnet and avoid; reserve's ip_hint), each with a single
//   O_APPEND write, so a test can read what the helper was asked to do.
#pragma once

#include "backend/backend.hpp"
#include "sys/child_process.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace fleetbox::backend {

struct FakeOptions {
    // Spawns a stand-in; default ChildProcess::spawn on the calling thread.
    std::function<Result<ChildProcess>(const ChildSpec&)> spawn;
    std::string record_path; // empty: record nothing
    int boot_delay_ms = 0;   // time a boot stays "starting"
    std::string fail_boot;   // member whose boot fails
    // Reads FLEETBOX_FAKE_RECORD, FLEETBOX_FAKE_BOOT_DELAY_MS, FLEETBOX_FAKE_FAIL_BOOT.
    static FakeOptions from_env();
};

inline constexpr const char* kFakeBridge = "fbx-fake";
inline constexpr const char* kFakeSubnet = "203.0.113.0/24";
inline constexpr const char* kFakeGateway = "203.0.113.1";

class FakeBackend final : public Backend {
public:
    explicit FakeBackend(FakeOptions options);
    ~FakeBackend() override; // kills every stand-in still running

    Result<proto::NetworkInfo> create_network(const proto::CreateNetwork& request) override;
    Result<proto::Reservation> reserve(const std::string& name,
                                       const std::string& ip_hint) override;
    Result<proto::Booted> boot(const proto::BootSpec& spec) override;
    Result<proto::StatusInfo> status(const std::string& name) override;
    Status stop(const std::string& name) override;
    Status release(const std::string& name) override;
    Result<proto::MemberList> list() override;
    int active_members() override;
    Status shutdown() override;

private:
    struct Member {
        std::string ip;
        std::string mac;
        proto::MemberState state = proto::MemberState::Stopped;
        std::string error;
        std::optional<ChildProcess> standin;
        unsigned stop_epoch = 0; // bumped by stop(): a boot that saw another epoch was cancelled
        bool spawning = false;   // a boot is between "starting" and owning its stand-in
    };

    void record(const std::string& call, const std::string& name = {},
                nlohmann::json details = nlohmann::json::object());
    Result<int> pick_host(const std::string& ip_hint) const;
    proto::NetworkInfo network_info() const; // caller holds mutex_
    // A known member's status. Caller holds mutex_.
    static proto::StatusInfo status_of(const std::string& name, const Member& member);
    // A running member whose stand-in is gone turns error. Caller holds mutex_.
    static void refresh(Member& member);
    Result<ChildProcess> spawn_standin(const std::string& name);
    // Waits out the boot delay (or a cancelling stop) and marks the member running.
    Result<proto::Booted> finish_boot(std::unique_lock<std::mutex>& lock, Member& m,
                                      const std::string& name, unsigned epoch,
                                      std::chrono::seconds timeout);
    // Cancels a boot in progress, kills the stand-in, marks the member stopped.
    void stop_locked(std::unique_lock<std::mutex>& lock, Member& m);

    FakeOptions options_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool network_ = false;
    std::string subnet_ = kFakeSubnet;
    bool shut_down_ = false;
    std::map<std::string, Member> members_;
};

} // namespace fleetbox::backend
