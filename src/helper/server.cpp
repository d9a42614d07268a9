// HelperServer: the main poll loop, member sockets, connection threads and shutdown.
//
// Relies on: signalfd(2) to receive SIGTERM/SIGINT as a readable fd (the signals are blocked
// in every thread, so no handler runs on a random thread); eventfd(2) to wake the loop from a
// connection thread; shutdown(2) on a connection fd to unblock the thread reading it, so
// every connection thread can be joined before the backend is destroyed.
#include "helper/server.hpp"

#include "helper/connection.hpp"
#include "store/timestamp.hpp"
#include "sys/log_cap.hpp"
#include "sys/unix_socket.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fleetbox::helper {

namespace {

std::string store_relative(const Store& store, const std::string& path) {
    const std::string prefix = store.root() + "/";
    return path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
}

} // namespace

Status ensure_no_live_helper(const Store& store, const std::string& name) {
    std::string path = FBX_TRY(store.socket_path(name));
    if (!connect_unix(path, std::chrono::milliseconds(0)))
        return {};
    return fail(ErrorKind::Busy, "serve " + name,
                "another fleetbox helper is already running for " + name + " (socket " +
                    store_relative(store, path) + ")",
                "stop it first (fleetbox down " + name + ")");
}

Result<std::unique_ptr<HelperServer>> HelperServer::create(const Store& store,
                                                           HelperOptions options,
                                                           MainThreadExecutor& executor,
                                                           backend::Backend& backend) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    Fd signals(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals)
        return fail_errno("signalfd", errno);
    Fd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop)
        return fail_errno("eventfd", errno);
    auto server = std::unique_ptr<HelperServer>(new HelperServer(
        store, std::move(options), executor, backend, std::move(signals), std::move(stop)));
    HelperServer* raw = server.get(); // the destructor unsets the handler before it goes
    backend.on_member_exit([raw](const backend::MemberExit& exit) { raw->on_member_exit(exit); });
    return server;
}

HelperServer::HelperServer(const Store& store, HelperOptions options, MainThreadExecutor& executor,
                           backend::Backend& backend, Fd signals, Fd stop)
    : store_(store), options_(std::move(options)), executor_(executor), backend_(backend),
      signals_(std::move(signals)), stop_(std::move(stop)) {}

HelperServer::~HelperServer() {
    backend_.on_member_exit({});
    reap_connections(true);
    remove_sockets();
}

Status HelperServer::add_member(const std::string& name) {
    if (listeners_.count(name))
        return {};
    if (stopping_)
        return fail(ErrorKind::Interrupted, "serve " + name, "the helper is shutting down");
    FBX_CHECK(ensure_no_live_helper(store_, name));
    std::string path = FBX_TRY(store_.socket_path(name));
    Fd fd = FBX_TRY(listen_unix(path, 0600));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return fail_errno("stat " + path, errno);
    listeners_[name] = Listener{std::move(fd), path, st.st_ino};
    log(fmt::format("listening for {} on {}", name, store_relative(store_, path)));
    return {};
}

void HelperServer::request_shutdown(const std::string& reason) {
    if (stopping_.exchange(true))
        return;
    log("shutting down: " + reason);
    std::uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
}

Status HelperServer::detach() {
    if (detach_requested_.exchange(true))
        return {};
    // Its own session: a terminal's Ctrl-C or a test runner killing the caller's process
    // group no longer reaches it (and it can be no group leader: the launcher never makes a
    // bound helper one, so setsid succeeds).
    if (::getsid(0) != ::getpid() && ::setsid() < 0)
        log(fmt::format("detach: setsid failed: {}", std::strerror(errno)));
    backend_.set_detached();
    log("detached: this helper now outlives its client and exits with its last member");
    return {};
}

void HelperServer::log(const std::string& line) {
    std::lock_guard lock(log_mutex_);
    std::fprintf(stdout, "%s %s\n", now_rfc3339().c_str(), line.c_str());
    std::fflush(stdout);
}

int HelperServer::serve() {
    auto last_tick = std::chrono::steady_clock::now();
    while (!stopping_) {
        poll_once();
        if (std::chrono::steady_clock::now() - last_tick >= std::chrono::seconds(1)) {
            last_tick = std::chrono::steady_clock::now();
            on_tick();
        }
    }
    shut_down();
    return 0;
}

void HelperServer::poll_once() {
    std::vector<pollfd> fds = {
        {signals_.get(), POLLIN, 0}, {executor_.wake_fd(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    for (const auto& [name, listener] : listeners_)
        fds.push_back({listener.fd.get(), POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), 1000);
    if (n <= 0)
        return; // tick, or EINTR
    if (fds[0].revents & POLLIN) {
        signalfd_siginfo info{};
        if (::read(signals_.get(), &info, sizeof info) == sizeof info)
            request_shutdown(fmt::format("got signal {}", info.ssi_signo));
    }
    if (fds[1].revents & POLLIN)
        executor_.drain();
    for (size_t i = 3; i < fds.size(); ++i)
        if (fds[i].revents & POLLIN)
            accept_from(fds[i].fd);
}

void HelperServer::accept_from(int listen_fd) {
    auto accepted = accept_unix(listen_fd, std::chrono::milliseconds(0));
    if (!accepted) {
        log("accept failed: " + accepted.error().message());
        return;
    }
    if (!*accepted)
        return;
    auto conn = std::make_unique<Connection>();
    conn->fd = std::move(**accepted);
    Connection* raw = conn.get();
    std::lock_guard lock(connections_mutex_);
    raw->thread = std::thread([this, raw] {
        serve_connection(*this, raw->fd.get());
        raw->done = true;
    });
    connections_.push_back(std::move(conn));
}

void HelperServer::on_tick() {
    if (!detach_requested_ && options_.parent_pid > 0 && ::getppid() != options_.parent_pid) {
        backend_.set_abandoned();
        request_shutdown(fmt::format("parent process {} is gone", options_.parent_pid));
    }
    reap_connections(false);
    check_idle();
    if (auto dir = store_.member_dir(options_.member)) {
        auto capped = cap_log_in(*dir, "helper.log", kHelperLogCap);
        if (!capped)
            log("cap helper.log: " + capped.error().message());
        else if (*capped)
            log("helper.log reached its cap: the older lines are in helper.log.1");
    }
}

// Any thread (the backend's watcher); never blocks on the backend.
void HelperServer::on_member_exit(const backend::MemberExit& exit) {
    log(fmt::format("{}: QEMU exited: {}{}", exit.name, proto::to_string(exit.state),
                    exit.error.empty() ? "" : " (" + exit.error + ")"));
    if (mode() == HelperMode::Detached && exit.idle)
        request_shutdown("its last member's QEMU exited");
}

void HelperServer::check_idle() {
    if (mode() != HelperMode::Detached || options_.idle_exit_after.count() <= 0)
        return;
    auto now = std::chrono::steady_clock::now();
    if (backend_.active_members() != 0 || open_connections() != 0) {
        idle_since_.reset();
        return;
    }
    if (!idle_since_)
        idle_since_ = now;
    if (now - *idle_since_ >= options_.idle_exit_after)
        request_shutdown(fmt::format("no member running and no client for {} s",
                                     options_.idle_exit_after.count()));
}

int HelperServer::open_connections() {
    std::lock_guard lock(connections_mutex_);
    int n = 0;
    for (const auto& conn : connections_)
        if (!conn->done)
            ++n;
    return n;
}

void HelperServer::reap_connections(bool all) {
    std::list<std::unique_ptr<Connection>> finished;
    {
        std::lock_guard lock(connections_mutex_);
        for (auto it = connections_.begin(); it != connections_.end();) {
            if (all || (*it)->done) {
                if (all)
                    ::shutdown((*it)->fd.get(), SHUT_RDWR);
                finished.push_back(std::move(*it));
                it = connections_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& conn : finished)
        if (conn->thread.joinable())
            conn->thread.join();
}

void HelperServer::remove_member(const std::string& name) {
    auto it = listeners_.find(name);
    if (it == listeners_.end() || name == options_.member)
        return;
    it->second.fd.reset();
    struct stat st {};
    if (::stat(it->second.path.c_str(), &st) == 0 && st.st_ino == it->second.inode)
        ::unlink(it->second.path.c_str());
    listeners_.erase(it);
    log("stopped listening for " + name);
}

void HelperServer::remove_sockets() {
    for (auto& [name, listener] : listeners_) {
        listener.fd.reset();
        // Unlink only our own socket: never one a newer helper put at the same path.
        struct stat st {};
        if (::stat(listener.path.c_str(), &st) == 0 && st.st_ino == listener.inode)
            ::unlink(listener.path.c_str());
    }
    listeners_.clear();
}

void HelperServer::shut_down() {
    remove_sockets();
    std::atomic<bool> done{false};
    std::thread reaper([&] {
        if (auto stopped = backend_.shutdown(); !stopped)
            log("backend shutdown failed: " + stopped.error().message());
        reap_connections(true);
        done = true;
        std::uint64_t one = 1;
        (void)!::write(stop_.get(), &one, sizeof one);
    });
    while (!done) {
        pollfd fds[] = {{executor_.wake_fd(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        ::poll(fds, 2, 200);
        if (fds[1].revents & POLLIN) {
            std::uint64_t count = 0;
            (void)!::read(stop_.get(), &count, sizeof count);
        }
        executor_.drain();
    }
    reaper.join();
    executor_.close();
    log("exited");
}

} // namespace fleetbox::helper
