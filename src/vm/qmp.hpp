// A QMP (QEMU Machine Protocol) client over QEMU's unix monitor socket.
//
// Why: graceful stop (system_powerdown, quit) and liveness (query-status) go through QMP, the
// only stable control interface QEMU has. The protocol is one JSON object per line: a greeting,
// then the qmp_capabilities handshake, then commands, each answered by {"return": ...} or
// {"error": {"class", "desc"}}. Asynchronous events ({"event": ...}) can arrive at any time,
// interleaved with replies; they are skipped while waiting for a reply and their names are
// recorded (SHUTDOWN, POWERDOWN, ...) so callers can see what the guest did. Every command
// carries an id, so a late reply to a command that timed out is never taken for the next one.
#pragma once

#include "sys/fd.hpp"
#include "sys/unix_socket.hpp"
#include "util/error.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox {

class Qmp {
public:
    // Connects (retrying while QEMU has not created the socket yet, up to `timeout`), reads the
    // greeting and negotiates capabilities.
    static Result<Qmp> connect(const std::string& socket_path, std::chrono::milliseconds timeout);
    // Handshake over an already connected socket.
    static Result<Qmp> handshake(Fd fd, std::chrono::milliseconds timeout);

    Qmp(Qmp&& other) noexcept = default;
    Qmp& operator=(Qmp&& other) noexcept = default;
    Qmp(const Qmp&) = delete;
    Qmp& operator=(const Qmp&) = delete;
    ~Qmp() = default;

    static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

    // Runs one command; the value of "return", or an error carrying QMP's class and desc.
    // `arguments` is omitted from the request when null.
    Result<nlohmann::json> execute(std::string_view command,
                                   const nlohmann::json& arguments = nullptr,
                                   std::chrono::milliseconds timeout = kDefaultTimeout);

    Status system_powerdown(std::chrono::milliseconds timeout = kDefaultTimeout);
    // Asks QEMU to exit. QEMU may close the socket before replying; that counts as success.
    Status quit(std::chrono::milliseconds timeout = kDefaultTimeout);
    // The run state: "running", "paused", "prelaunch", "shutdown", ...
    Result<std::string> query_status(std::chrono::milliseconds timeout = kDefaultTimeout);

    // Reads pending events for up to `timeout` (returns early when one arrives).
    Status poll_events(std::chrono::milliseconds timeout);
    [[nodiscard]] const std::vector<std::string>& events() const { return events_; }
    [[nodiscard]] bool saw_event(std::string_view name) const;
    // QEMU's version from the greeting, e.g. "7.2.22".
    [[nodiscard]] const std::string& qemu_version() const { return version_; }

private:
    explicit Qmp(Fd fd) : fd_(std::move(fd)), reader_(fd_.get()) {}
    Result<nlohmann::json> read_message(std::chrono::milliseconds timeout,
                                        std::string_view waiting_for);
    void record_event(const nlohmann::json& message);

    Fd fd_;
    LineReader reader_;
    std::vector<std::string> events_;
    std::string version_;
    long next_id_ = 1;
};

} // namespace fleetbox
