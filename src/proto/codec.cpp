// NDJSON codec for the control protocol (nlohmann::json; its exceptions stop here).
#include "proto/codec.hpp"

#include <nlohmann/json.hpp>
#include <type_traits>

namespace fleetbox::proto {

using nlohmann::json;

namespace {

template <typename T>
struct Tag;
// Wire names of requests.
template <>
struct Tag<Hello> {
    static constexpr const char* name = "hello";
};
template <>
struct Tag<Bind> {
    static constexpr const char* name = "bind";
};
template <>
struct Tag<CreateNetwork> {
    static constexpr const char* name = "createnetwork";
};
template <>
struct Tag<Reserve> {
    static constexpr const char* name = "reserve";
};
template <>
struct Tag<BootMember> {
    static constexpr const char* name = "boot-member";
};
template <>
struct Tag<StatusRequest> {
    static constexpr const char* name = "status";
};
template <>
struct Tag<Stop> {
    static constexpr const char* name = "stop";
};
// Wire names of replies.
template <>
struct Tag<HelloReply> {
    static constexpr const char* name = "hello";
};
template <>
struct Tag<Ok> {
    static constexpr const char* name = "ok";
};
template <>
struct Tag<ErrorReply> {
    static constexpr const char* name = "error";
};
template <>
struct Tag<NetworkInfo> {
    static constexpr const char* name = "network";
};
template <>
struct Tag<Reservation> {
    static constexpr const char* name = "reservation";
};
template <>
struct Tag<Booted> {
    static constexpr const char* name = "booted";
};
template <>
struct Tag<StatusInfo> {
    static constexpr const char* name = "status";
};

json body(const Hello& m) {
    return {{"version", m.version}, {"client_pid", m.client_pid}, {"capabilities", m.capabilities}};
}
json body(const Bind&) {
    return json::object();
}
json body(const CreateNetwork&) {
    return json::object();
}
json body(const Reserve& m) {
    return {{"name", m.name}, {"ip_hint", m.ip_hint}};
}
json body(const BootMember& m) {
    const auto& s = m.spec;
    return {{"spec",
             {{"name", s.name},
              {"member_dir", s.member_dir},
              {"disk_path", s.disk_path},
              {"seed_path", s.seed_path},
              {"kernel_path", s.kernel_path},
              {"initrd_path", s.initrd_path},
              {"mac", s.mac},
              {"cpus", s.cpus},
              {"memory_mb", s.memory_mb},
              {"boot_timeout_s", s.boot_timeout_s},
              {"kernel_cmdline_extra", s.kernel_cmdline_extra}}}};
}
json body(const StatusRequest& m) {
    return {{"name", m.name}};
}
json body(const Stop& m) {
    return {{"name", m.name}};
}
json body(const HelloReply& m) {
    return {{"version", m.version}, {"helper_pid", m.helper_pid}, {"capabilities", m.capabilities}};
}
json body(const Ok&) {
    return json::object();
}
json body(const ErrorReply& m) {
    return {{"kind", m.kind}, {"message", m.message}, {"hint", m.hint}};
}
json body(const NetworkInfo& m) {
    return {
        {"bridge", m.bridge}, {"subnet", m.subnet}, {"gateway", m.gateway}, {"prefix", m.prefix}};
}
json body(const Reservation& m) {
    return {{"ip", m.ip}, {"mac", m.mac}};
}
json body(const Booted& m) {
    json timings = json::array();
    for (const auto& t : m.timings)
        timings.push_back({{"phase", t.phase}, {"seconds", t.seconds}});
    return {{"ip", m.ip},
            {"qemu_pid", m.qemu_pid},
            {"boot_attempts", m.boot_attempts},
            {"timings", timings}};
}
json body(const StatusInfo& m) {
    return {
        {"name", m.name},         {"state", m.state}, {"ip", m.ip}, {"helper_pid", m.helper_pid},
        {"qemu_pid", m.qemu_pid}, {"error", m.error}};
}

// Field readers: throw json exceptions on a wrong type, caught in decode_*.
template <typename T>
T field(const json& j, const char* key, T fallback = T{}) {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? fallback : it->get<T>();
}
std::string required(const json& j, const char* key) {
    auto value = field<std::string>(j, key);
    if (value.empty())
        throw std::invalid_argument(std::string("missing field \"") + key + "\"");
    return value;
}

// The guest's kernel command line is one line of printable ASCII (the kernel splits it at
// spaces; a newline or control byte has no business there), bounded well below x86's 2048.
void check_cmdline_extra(const std::string& text) {
    if (text.size() > kMaxCmdlineExtra)
        throw std::invalid_argument("kernel_cmdline_extra is too long");
    for (unsigned char c : text)
        if (c < 0x20 || c > 0x7e)
            throw std::invalid_argument("kernel_cmdline_extra has a non-printable byte");
}

void parse(const json& j, Hello& m) {
    m.version = field<int>(j, "version", 0);
    m.client_pid = field<int>(j, "client_pid");
    m.capabilities = field<std::vector<std::string>>(j, "capabilities");
}
void parse(const json&, Bind&) {}
void parse(const json&, CreateNetwork&) {}
void parse(const json& j, Reserve& m) {
    m.name = required(j, "name");
    m.ip_hint = field<std::string>(j, "ip_hint");
}
void parse(const json& j, BootMember& m) {
    if (!j.contains("spec") || !j["spec"].is_object())
        throw std::invalid_argument("missing or invalid spec");
    const auto& s = j["spec"];
    auto& o = m.spec;
    o.name = required(s, "name");
    o.member_dir = required(s, "member_dir");
    o.disk_path = required(s, "disk_path");
    o.seed_path = required(s, "seed_path");
    o.kernel_path = required(s, "kernel_path");
    o.initrd_path = required(s, "initrd_path");
    o.mac = required(s, "mac");
    o.cpus = field<int>(s, "cpus", 2);
    o.memory_mb = field<std::uint64_t>(s, "memory_mb", 2048);
    o.boot_timeout_s = field<int>(s, "boot_timeout_s", 600);
    o.kernel_cmdline_extra = field<std::string>(s, "kernel_cmdline_extra");
    check_cmdline_extra(o.kernel_cmdline_extra);
}
void parse(const json& j, StatusRequest& m) {
    m.name = required(j, "name");
}
void parse(const json& j, Stop& m) {
    m.name = required(j, "name");
}
void parse(const json& j, HelloReply& m) {
    m.version = field<int>(j, "version", 0);
    m.helper_pid = field<int>(j, "helper_pid");
    m.capabilities = field<std::vector<std::string>>(j, "capabilities");
}
void parse(const json&, Ok&) {}
void parse(const json& j, ErrorReply& m) {
    m.kind = field<std::string>(j, "kind");
    m.message = field<std::string>(j, "message");
    m.hint = field<std::string>(j, "hint");
}
void parse(const json& j, NetworkInfo& m) {
    m.bridge = field<std::string>(j, "bridge");
    m.subnet = required(j, "subnet");
    m.gateway = field<std::string>(j, "gateway");
    m.prefix = field<int>(j, "prefix", 24);
}
void parse(const json& j, Reservation& m) {
    m.ip = required(j, "ip");
    m.mac = required(j, "mac");
}
void parse(const json& j, Booted& m) {
    m.ip = field<std::string>(j, "ip");
    m.qemu_pid = field<int>(j, "qemu_pid");
    m.boot_attempts = field<int>(j, "boot_attempts", 1);
    for (const auto& t : j.value("timings", json::array()))
        m.timings.push_back({field<std::string>(t, "phase"), field<double>(t, "seconds")});
}
void parse(const json& j, StatusInfo& m) {
    m.name = field<std::string>(j, "name");
    m.state = required(j, "state");
    m.ip = field<std::string>(j, "ip");
    m.helper_pid = field<int>(j, "helper_pid");
    m.qemu_pid = field<int>(j, "qemu_pid");
    m.error = field<std::string>(j, "error");
}

template <typename Variant>
std::string encode_variant(const Variant& v, const char* key) {
    return std::visit(
        [key](const auto& m) {
            json j = body(m);
            j[key] = Tag<std::decay_t<decltype(m)>>::name;
            return j.dump();
        },
        v);
}

// Try each alternative of the variant whose tag matches `name`.
template <typename Variant, size_t I = 0>
bool decode_alternative(const json& j, const std::string& name, Variant& out) {
    if constexpr (I < std::variant_size_v<Variant>) {
        using T = std::variant_alternative_t<I, Variant>;
        if (name == Tag<T>::name) {
            T m;
            parse(j, m);
            out = std::move(m);
            return true;
        }
        return decode_alternative<Variant, I + 1>(j, name, out);
    }
    return false;
}

template <typename Variant>
Result<Variant> decode_variant(std::string_view line, const char* key, const char* what) {
    try {
        json j = json::parse(line);
        if (!j.is_object())
            return fail(ErrorKind::Corrupt, std::string("decode ") + what, "not a JSON object");
        auto name = field<std::string>(j, key);
        Variant out;
        if (!decode_alternative(j, name, out))
            return fail(ErrorKind::Corrupt, std::string("decode ") + what,
                        "unknown " + std::string(key) + " \"" + name + "\"");
        return out;
    } catch (const std::exception& e) {
        return fail(ErrorKind::Corrupt, std::string("decode ") + what, e.what());
    }
}

} // namespace

std::string encode(const Request& request) {
    return encode_variant(request, "cmd");
}
std::string encode(const Reply& reply) {
    return encode_variant(reply, "reply");
}
Result<Request> decode_request(std::string_view line) {
    return decode_variant<Request>(line, "cmd", "request");
}
Result<Reply> decode_reply(std::string_view line) {
    return decode_variant<Reply>(line, "reply", "reply");
}

std::string command_name(const Request& request) {
    return std::visit(
        [](const auto& m) { return std::string(Tag<std::decay_t<decltype(m)>>::name); }, request);
}

ErrorReply to_reply(const Error& error) {
    return ErrorReply{std::string(to_string(error.kind)), error.message(), error.hint};
}

Error to_error(const ErrorReply& reply) {
    ErrorKind kind = ErrorKind::Internal;
    for (int k = 0; k <= static_cast<int>(ErrorKind::Internal); ++k)
        if (to_string(static_cast<ErrorKind>(k)) == reply.kind)
            kind = static_cast<ErrorKind>(k);
    return Error{kind, 0, {}, reply.message, reply.hint};
}

} // namespace fleetbox::proto
