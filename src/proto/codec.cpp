// NDJSON codec for the control protocol (nlohmann::json; its exceptions stop here).
#include "proto/codec.hpp"

#include <nlohmann/json.hpp>
#include <type_traits>

namespace fleetbox::proto {

using nlohmann::json;

// JSON bodies, derived from the message types (nlohmann's type macros): every field is
// written; a field absent on the wire keeps the type's default (so optional fields such as
// capabilities or kernel_cmdline_extra can be added without breaking older peers). Required
// fields are checked after decoding (check() below). Empty messages are empty objects.
std::string_view to_string(MemberState state) {
    switch (state) {
    case MemberState::Stopped:
        return "stopped";
    case MemberState::Starting:
        return "starting";
    case MemberState::Running:
        return "running";
    case MemberState::Error:
        return "error";
    }
    return "error";
}

std::optional<MemberState> parse_member_state(std::string_view text) {
    for (auto s :
         {MemberState::Stopped, MemberState::Starting, MemberState::Running, MemberState::Error})
        if (to_string(s) == text)
            return s;
    return std::nullopt;
}

// A state is one of the four words; anything else is a malformed message (never a default).
void to_json(json& j, const MemberState& state) {
    j = std::string(to_string(state));
}
void from_json(const json& j, MemberState& state) {
    auto parsed = parse_member_state(j.get<std::string>());
    if (!parsed)
        throw std::invalid_argument("unknown member state " + j.dump());
    state = *parsed;
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Hello, version, client_pid, capabilities)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CreateNetwork, cluster, subnet, avoid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Reserve, name, ip_hint)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BootSpec, name, member_dir, disk_path, seed_path,
                                                kernel_path, initrd_path, mac, cpus, memory_mb,
                                                boot_timeout_s, kernel_cmdline_extra,
                                                base_image_path, fixture_paths, machine,
                                                firmware_boot, kernel_root)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BootMember, spec)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StatusRequest, name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Stop, name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HelloReply, version, helper_pid, capabilities, mode)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ErrorReply, kind, message, hint)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NetworkInfo, bridge, subnet, gateway, prefix)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Reservation, ip, mac)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PhaseTiming, phase, seconds)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Booted, ip, qemu_pid, boot_attempts, timings)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StatusInfo, name, state, ip, helper_pid, qemu_pid,
                                                error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Release, name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MemberList, network, members)

template <typename Empty>
requires std::is_same_v<Empty, Bind> || std::is_same_v<Empty, Ok> ||
    std::is_same_v<Empty, ListRequest> || std::is_same_v<Empty, Detach>
void to_json(json& j, const Empty&) {
    j = json::object();
}
template <typename Empty>
requires std::is_same_v<Empty, Bind> || std::is_same_v<Empty, Ok> ||
    std::is_same_v<Empty, ListRequest> || std::is_same_v<Empty, Detach>
void from_json(const json&, Empty&) {}

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
template <>
struct Tag<Release> {
    static constexpr const char* name = "release";
};
template <>
struct Tag<ListRequest> {
    static constexpr const char* name = "list";
};
template <>
struct Tag<Detach> {
    static constexpr const char* name = "detach";
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

template <>
struct Tag<MemberList> {
    static constexpr const char* name = "members";
};

// Field checks the type macros cannot express: required text, the kernel command line words.
// They throw; decode_variant turns that into one Corrupt error.
void require(const std::string& value, const char* key) {
    if (value.empty())
        throw std::invalid_argument(std::string("missing field \"") + key + "\"");
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

// root= takes one word of the kernel command line: printable ASCII with no space (which
// would end it) and no double quote (which the kernel's parser treats as quoting), bounded.
// What it names is the guest's business ("/dev/vda1", "UUID=...", "PARTUUID=...", "LABEL=...").
void check_kernel_root(const std::string& text) {
    if (text.size() > kMaxKernelRoot)
        throw std::invalid_argument("kernel_root is too long");
    for (unsigned char c : text)
        if (c <= 0x20 || c > 0x7e || c == '"')
            throw std::invalid_argument("kernel_root must be one word of printable ASCII");
}

// The boot method: a known machine; firmware boot only on q35 (microvm's qboot cannot boot a
// disk) and then without kernel, initrd, root= or command line words, which it would ignore.
void check_boot_method(const BootSpec& s) {
    if (!s.machine.empty() && s.machine != kMachineMicrovm && s.machine != kMachineQ35)
        throw std::invalid_argument("unknown machine \"" + s.machine +
                                    "\" (known: " + kMachineMicrovm + ", " + kMachineQ35 + ")");
    check_kernel_root(s.kernel_root);
    if (!s.firmware_boot) {
        require(s.kernel_path, "kernel_path");
        require(s.initrd_path, "initrd_path");
        return;
    }
    if (s.machine != kMachineQ35)
        throw std::invalid_argument("firmware_boot needs machine \"q35\"");
    for (const auto* field :
         {&s.kernel_path, &s.initrd_path, &s.kernel_root, &s.kernel_cmdline_extra})
        if (!field->empty())
            throw std::invalid_argument("firmware_boot takes no kernel_path, initrd_path, "
                                        "kernel_root or kernel_cmdline_extra");
}

// A member that is null reads as absent (its default), at any depth.
void drop_nulls(json& j) {
    if (!j.is_object())
        return;
    for (auto it = j.begin(); it != j.end();) {
        if (it->is_null()) {
            it = j.erase(it);
        } else {
            drop_nulls(*it);
            ++it;
        }
    }
}

template <typename T>
void check(const T&) {}
// Fields whose absence cannot be told from their default after decoding.
template <typename T>
void check_keys(const json&, const T*) {}
void check_keys(const json& j, const StatusInfo*) {
    if (!j.contains("state"))
        throw std::invalid_argument("missing field \"state\"");
}
void check(const Reserve& m) {
    require(m.name, "name");
}
void check(const BootMember& m) {
    const auto& s = m.spec;
    require(s.name, "name");
    require(s.member_dir, "member_dir");
    require(s.disk_path, "disk_path");
    require(s.seed_path, "seed_path");
    require(s.mac, "mac");
    check_cmdline_extra(s.kernel_cmdline_extra);
    check_boot_method(s);
    if (s.fixture_paths.size() > kMaxFixturePaths)
        throw std::invalid_argument("too many fixture_paths");
    for (const auto& path : s.fixture_paths)
        require(path, "fixture_paths");
}
void check(const StatusRequest& m) {
    require(m.name, "name");
}
void check(const Stop& m) {
    require(m.name, "name");
}
void check(const Release& m) {
    require(m.name, "name");
}
void check(const NetworkInfo& m) {
    require(m.subnet, "subnet");
}
void check(const Reservation& m) {
    require(m.ip, "ip");
    require(m.mac, "mac");
}

template <typename Variant>
std::string encode_variant(const Variant& v, const char* key) {
    return std::visit(
        [key](const auto& m) {
            json j = m; // the type macros below
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
            check_keys(j, static_cast<const T*>(nullptr));
            T m = j.get<T>(); // absent fields keep their defaults; a wrong type throws
            check(m);
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
        drop_nulls(j);
        auto name = j.value(key, std::string());
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
