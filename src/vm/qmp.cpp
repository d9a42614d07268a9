// QMP client. Relies on QEMU's documented wire format (docs/interop/qmp-spec): greeting
// {"QMP": {"version": ..., "capabilities": [...]}}, then {"execute": "qmp_capabilities"} to
// leave negotiation mode. Replies echo the request's "id". nlohmann::json parse errors are
// caught here (the layer edge) and reported as ErrorKind::Corrupt.
#include "vm/qmp.hpp"

#include <cerrno>
#include <fmt/format.h>

namespace fleetbox {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds left_until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return std::max(left, std::chrono::milliseconds(0));
}

// Serializes without throwing on invalid UTF-8 (replaced instead).
std::string dump(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The member `key` of an object, or null; never throws and never inserts.
const nlohmann::json& member(const nlohmann::json& object, const char* key) {
    static const nlohmann::json null_value;
    if (!object.is_object())
        return null_value;
    auto it = object.find(key);
    return it == object.end() ? null_value : *it;
}

std::string string_member(const nlohmann::json& object, const char* key,
                          std::string fallback = {}) {
    const auto& value = member(object, key);
    return value.is_string() ? value.get<std::string>() : fallback;
}

std::string version_string(const nlohmann::json& greeting) {
    const auto& q = member(member(member(greeting, "QMP"), "version"), "qemu");
    auto part = [&](const char* key) {
        const auto& v = member(q, key);
        return v.is_number_integer() ? v.get<long>() : 0L;
    };
    if (!q.is_object())
        return {};
    return fmt::format("{}.{}.{}", part("major"), part("minor"), part("micro"));
}

Error qmp_error(std::string_view command, const nlohmann::json& error) {
    std::string cls = string_member(error, "class", "GenericError");
    std::string desc = error.is_object() ? string_member(error, "desc") : dump(error);
    return Error{ErrorKind::ExternalCommand,
                 0,
                 fmt::format("QMP {}", command),
                 fmt::format("{}: {}", cls, desc),
                 {}};
}

} // namespace

Result<Qmp> Qmp::connect(const std::string& socket_path, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    Fd fd = FBX_TRY(connect_unix(socket_path, timeout));
    return handshake(std::move(fd), left_until(deadline));
}

Result<Qmp> Qmp::handshake(Fd fd, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    Qmp qmp(std::move(fd));
    auto greeting = qmp.read_message(timeout, "greeting");
    if (!greeting)
        return fail(std::move(greeting).error());
    if (!member(*greeting, "QMP").is_object())
        return fail(ErrorKind::Corrupt, "QMP handshake",
                    "the socket did not greet with {\"QMP\": ...}");
    qmp.version_ = version_string(*greeting);
    FBX_TRY(qmp.execute("qmp_capabilities", nullptr, left_until(deadline)));
    return qmp;
}

Result<nlohmann::json> Qmp::read_message(std::chrono::milliseconds timeout,
                                         std::string_view waiting_for) {
    auto line = reader_.read_line(timeout);
    if (!line) {
        Error e = std::move(line).error();
        e.operation = fmt::format("QMP: wait for {}", waiting_for);
        return fail(std::move(e));
    }
    if (!*line)
        return fail(ErrorKind::Io, fmt::format("QMP: wait for {}", waiting_for),
                    "QEMU closed the monitor connection");
    auto message = nlohmann::json::parse(**line, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded() || !message.is_object())
        return fail(ErrorKind::Corrupt, fmt::format("QMP: wait for {}", waiting_for),
                    "not a JSON object: " + line->value().substr(0, 200));
    return message;
}

void Qmp::record_event(const nlohmann::json& message) {
    if (auto name = string_member(message, "event"); !name.empty())
        events_.push_back(name);
}

Result<nlohmann::json> Qmp::execute(std::string_view command, const nlohmann::json& arguments,
                                    std::chrono::milliseconds timeout) {
    if (!fd_)
        return fail(ErrorKind::Internal, fmt::format("QMP {}", command), "not connected");
    auto deadline = Clock::now() + timeout;
    long id = next_id_++;
    nlohmann::json request = {{"execute", command}, {"id", id}};
    if (!arguments.is_null())
        request["arguments"] = arguments;
    if (auto sent = write_line(fd_.get(), dump(request)); !sent) {
        Error e = std::move(sent).error();
        if (e.err_no == EPIPE || e.err_no == ECONNRESET)
            e.context = "QEMU closed the monitor connection"; // err_no kept: nothing was sent
        return fail(e.wrap(fmt::format("QMP {}", command)));
    }
    while (true) {
        auto message =
            FBX_TRY(read_message(left_until(deadline), fmt::format("reply to {}", command)));
        if (message.contains("event")) {
            record_event(message);
            continue;
        }
        if (member(message, "id") != id)
            continue; // a stale reply to an earlier command
        if (message.contains("error"))
            return fail(qmp_error(command, member(message, "error")));
        if (message.contains("return"))
            return member(message, "return");
        return fail(ErrorKind::Corrupt, fmt::format("QMP {}", command),
                    "reply has neither return nor error");
    }
}

Status Qmp::system_powerdown(std::chrono::milliseconds timeout) {
    FBX_TRY(execute("system_powerdown", nullptr, timeout));
    return {};
}

Status Qmp::quit(std::chrono::milliseconds timeout) {
    auto r = execute("quit", nullptr, timeout);
    // EOF while waiting for the reply (err_no 0): QEMU exited before answering. A failed send
    // (err_no set) stays an error: the command never reached QEMU.
    if (!r && r.error().kind == ErrorKind::Io && r.error().err_no == 0)
        return {};
    if (!r)
        return fail(std::move(r).error());
    return {};
}

Result<std::string> Qmp::query_status(std::chrono::milliseconds timeout) {
    auto r = FBX_TRY(execute("query-status", nullptr, timeout));
    std::string status = string_member(r, "status");
    if (status.empty())
        return fail(ErrorKind::Corrupt, "QMP query-status", "reply has no status: " + dump(r));
    return status;
}

Status Qmp::poll_events(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (true) {
        auto message = read_message(left_until(deadline), "events");
        if (!message) {
            if (message.error().kind == ErrorKind::Timeout)
                return {};
            return fail(std::move(message).error());
        }
        if (message->contains("event")) {
            record_event(*message);
            return {};
        }
    }
}

bool Qmp::saw_event(std::string_view name) const {
    for (const auto& e : events_)
        if (e == name)
            return true;
    return false;
}

} // namespace fleetbox
