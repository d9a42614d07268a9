// HelperServer: the fleetbox-helper process's control plane.
//
// The main thread runs one poll(2) loop over the member sockets it listens on, a signalfd
// (SIGTERM/SIGINT, blocked in every thread before any thread exists), the MainThreadExecutor's
// eventfd, a shutdown eventfd, and a 1 s tick. Each accepted connection gets its own thread
// (connection.cpp) because boot-member blocks for minutes while status and stop on other
// connections must still be answered. Shutdown (signal, bind-connection EOF, parent change,
// last member stopped in detached mode) removes the sockets, then a reaper thread stops the
// backend, shuts down and joins every connection while the main thread keeps pumping the
// executor, so a boot that needs the main thread mid-shutdown cannot deadlock.
//
// Lifetime of a detached helper without dead ends: it exits when the stop of its last member
// leaves nothing running, when its last running member's QEMU exits by itself (the backend
// reports it through on_member_exit), and when, for `idle_exit_after`, no member has been
// starting or running and no client connection has been open (a CLI killed between spawning
// the helper and booting its member must not leave the helper and its bridge behind). Each
// tick also caps helper.log (sys/log_cap.hpp).
#pragma once

#include "backend/backend.hpp"
#include "helper/helper_context.hpp"
#include "helper/main_thread_executor.hpp"
#include "proto/messages.hpp"
#include "store/store.hpp"
#include "sys/fd.hpp"

#include <atomic>
#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>

namespace fleetbox::helper {

inline constexpr std::chrono::seconds kDefaultIdleExitAfter{30};

struct HelperOptions {
    std::string store_root;
    std::string member;
    HelperMode mode = HelperMode::Bound;
    pid_t parent_pid = 0;                           // bound: exit when getppid() differs
    int protocol_version = proto::kProtocolVersion; // only the test-only binary changes it
    std::vector<std::string> capabilities = proto::helper_capabilities(); // likewise
    bool reconcile = false; // --reconcile: reclaim dead networks, print the report, exit
    bool dry_run = false;   // with --reconcile: report only
    std::string user;       // --user UID:GID: whom the helper works for (empty: its own ids)
    // Detached: exit after this long with no member starting or running and no client
    // connected; 0 never. 30 s: well beyond the launcher's 10 s wait for a new helper's socket
    // and the gaps between a CLI's requests, yet short enough that a killed CLI's helper and
    // bridge are gone by the time anyone looks (`--idle-exit-after`, tests shorten it).
    std::chrono::seconds idle_exit_after = kDefaultIdleExitAfter;
};

// Busy when a live helper already answers on `name`'s socket (a stale socket file is fine:
// listening replaces it).
Status ensure_no_live_helper(const Store& store, const std::string& name);

class HelperServer {
public:
    // Call on the main thread, with SIGTERM and SIGINT already blocked in it.
    static Result<std::unique_ptr<HelperServer>> create(const Store& store, HelperOptions options,
                                                        MainThreadExecutor& executor,
                                                        backend::Backend& backend);
    ~HelperServer();
    HelperServer(const HelperServer&) = delete;
    HelperServer& operator=(const HelperServer&) = delete;

    // Main thread: listen on the member's socket (mode 0600). Busy when another live helper
    // already answers on it; a stale socket file is replaced. Registering twice is a no-op.
    Status add_member(const std::string& name);
    // Main thread: stop listening on a member's socket and unlink it (never the socket of the
    // member the helper was started for: that one is how the helper is found).
    void remove_member(const std::string& name);
    // Main thread: serve until shutdown, then stop everything; returns the exit code.
    int serve();

    // Any thread.
    Status register_member(const std::string& name) {
        return executor_.run([&] { return add_member(name); });
    }
    Status unregister_member(const std::string& name) {
        return executor_.run([&]() -> Status {
            remove_member(name);
            return {};
        });
    }
    void request_shutdown(const std::string& reason);
    void log(const std::string& line);
    // Any thread: the helper's lifetime now: its --mode, or detached once detach() ran.
    [[nodiscard]] HelperMode mode() const {
        return detach_requested_ ? HelperMode::Detached : options_.mode;
    }
    // Whether a `detach` request turned this helper detached (its bind connection's EOF and
    // its parent's exit no longer end it).
    [[nodiscard]] bool detach_requested() const { return detach_requested_; }
    // Any thread: the `detach` request (Vm::keep): leave the parent's session (setsid), stop
    // watching the parent and the bind connection, and from now on exit like a detached
    // helper (last member stopped, last QEMU exited, idle). Idempotent.
    Status detach();

    [[nodiscard]] backend::Backend& backend() { return backend_; }
    [[nodiscard]] const Store& store() const { return store_; }
    [[nodiscard]] const HelperOptions& options() const { return options_; }

private:
    struct Listener {
        Fd fd;
        std::string path;
        ino_t inode = 0;
    };
    struct Connection {
        Fd fd;
        std::thread thread;
        std::atomic<bool> done{false};
    };

    HelperServer(const Store& store, HelperOptions options, MainThreadExecutor& executor,
                 backend::Backend& backend, Fd signals, Fd stop);
    void poll_once();
    void accept_from(int listen_fd);
    void on_tick();
    void on_member_exit(const backend::MemberExit& exit);
    // Detached: shut down once idle (no active member, no connection) for idle_exit_after.
    void check_idle();
    int open_connections();
    void reap_connections(bool all);
    void remove_sockets();
    void shut_down();

    const Store& store_;
    HelperOptions options_;
    MainThreadExecutor& executor_;
    backend::Backend& backend_;
    Fd signals_;
    Fd stop_;
    std::map<std::string, Listener> listeners_; // main thread only
    std::mutex connections_mutex_;
    std::list<std::unique_ptr<Connection>> connections_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> detach_requested_{false};
    std::optional<std::chrono::steady_clock::time_point> idle_since_; // main thread only
    std::mutex log_mutex_;
};

} // namespace fleetbox::helper
