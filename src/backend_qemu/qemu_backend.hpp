// QemuBackend: the real Backend — a Linux bridge and one tap per VM (netlink), a firewall
// table per bridge (nftables), and one QEMU process per VM.
//
// Why it lives in the helper only: it needs CAP_NET_ADMIN and owns processes that must die
// with their owner; the client reaches it through the control protocol.
//
// Threading: each member has a state guarded by the backend's mutex. boot() runs on a
// connection thread: it launches QEMU through the injected `spawn` (the helper's main
// thread, so PR_SET_PDEATHSIG is tied to a thread that never exits early) and then waits for
// port 22 without holding the lock, so status() and stop() stay responsive. A stop() during
// boot sets the member's cancel flag; the booting thread notices within one poll interval,
// kills QEMU, removes the tap and returns "member X was stopped during boot"; stop() waits
// for that before it replies, so no QEMU outlives a stop.
//
// QEMU exits are noticed at once: a watcher thread polls the pidfd of every running member's
// QEMU (plus an eventfd that wakes it when the set changes). When one exits by itself (guest
// poweroff, crash, kill) the watcher reaps it, removes its tap (and so its record entry),
// marks the member stopped (QEMU exited with status 0: the guest powered off) or error (the
// exit status or signal, and where its qemu.log and serial.log are), and, in a detached
// helper that has no member left running, drops the network like the stop of the last member
// does. Then it tells the on_member_exit handler (the helper server, which exits when idle).
// Once a second the same thread caps the logs of every member with a QEMU (sys/log_cap.hpp).
//
// Records: the network is built with a RecordJournal over the store's networks/ (write-ahead
// record naming the bridge, every tap, and each QEMU's pid + start time as it is launched,
// including watchdog relaunches), so a crashed helper's leftovers are reclaimed by the next
// helper's reconcile (network_reconcile.hpp). A requested subnet (the cluster's stored one)
// is used exactly or refused with what holds it; otherwise the first free /24 outside the
// client's `avoid` list and every other record's subnet is taken.
#pragma once

#include "backend/backend.hpp"
#include "host/accel.hpp"
#include "net/network.hpp"
#include "net/record_journal.hpp"
#include "store/store.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"
#include "vm/qemu_vm.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fleetbox::backend {

class QemuBackend final : public Backend {
public:
    using SpawnFn = std::function<Result<ChildProcess>(const ChildSpec&)>;
    // drop_network_when_idle: the helper is detached and exits once its last member stopped;
    // the stop that leaves no member active then also removes the network (and its record)
    // before it returns, so a `down` followed at once by `up` finds the subnet free.
    QemuBackend(const Store& store, AccelChoice accel, SpawnFn spawn,
                bool drop_network_when_idle = false);
    ~QemuBackend() override;

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
    void on_member_exit(MemberExitHandler handler) override;
    void set_detached() override;
    void set_abandoned() override { abandoned_ = true; }

private:
    enum class State { Reserved, Starting, Running, Stopping, Stopped, Failed };
    struct Member {
        State state = State::Reserved;
        std::string ip;
        std::string tap;
        std::string error;
        bool cancel = false;
        std::string dir; // the member directory (its serial.log and qemu.log)
        std::optional<QemuVm> vm;
    };

    Status build_network(const proto::CreateNetwork& request); // caller holds mutex_
    Result<proto::Booted> boot_unlocked(const proto::BootSpec& spec, Member& member,
                                        const std::string& tap);
    Status stop_member(std::unique_lock<std::mutex>& lock, const std::string& name, Member& member);
    static proto::MemberState state_name(State state);
    int active_locked() const; // caller holds mutex_
    // The member's state as the protocol reports it (a Running member whose QEMU exited turns
    // Failed here). Caller holds mutex_.
    proto::StatusInfo status_locked(const std::string& name, Member& member);
    // A Running member whose QEMU exited: clean up (tap, record) and queue the exit for the
    // handler. Caller holds mutex_.
    void end_member_locked(const std::string& name, Member& member);
    // Detached: with no member active, remove the network (the helper is on its way out).
    // Caller holds mutex_.
    Status drop_network_if_idle_locked();
    void watch();        // the watcher thread's body
    void stop_watcher(); // idempotent; never with mutex_ held
    void wake_watcher();
    void cap_member_logs();

    const Store& store_;
    AccelChoice accel_;
    SpawnFn spawn_;
    bool drop_network_when_idle_ = false; // guarded by mutex_ (set_detached)
    std::atomic<bool> abandoned_{false};  // set_abandoned: stops skip the powerdown wait
    std::mutex mutex_;
    std::condition_variable changed_;
    std::shared_ptr<RecordJournal> journal_; // the network's record; outlives network_
    std::optional<Network> network_;
    std::map<std::string, Member> members_;
    bool shutting_down_ = false;
    std::vector<MemberExit> exits_; // noticed, not yet handed to the handler
    bool watcher_stop_ = false;
    Fd wake_; // eventfd: the set of running members changed, or the watcher must stop
    std::mutex handler_mutex_; // held while the handler runs
    MemberExitHandler handler_;
    std::thread watcher_; // last: started once everything above exists
};

} // namespace fleetbox::backend
