// Control connection: read a request line, decode it (proto/codec), dispatch it to the
// Backend, write exactly one reply line, log one line. The peer's uid comes from SO_PEERCRED
// (the kernel records it at connect time, so it cannot be forged by the client).
#include "helper/connection.hpp"

#include "helper/path_guard.hpp"
#include "proto/codec.hpp"
#include "store/names.hpp"
#include "sys/unix_socket.hpp"

#include <chrono>
#include <fmt/format.h>
#include <type_traits>
#include <unistd.h>

namespace fleetbox::helper {

namespace {

constexpr std::chrono::seconds kHandshakeTimeout{10};

// The member a request is about, for the log ("" when it names none).
std::string subject(const proto::Request& request) {
    return std::visit(
        [](const auto& m) -> std::string {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, proto::BootMember>)
                return m.spec.name;
            else if constexpr (requires { m.name; })
                return m.name;
            else
                return {};
        },
        request);
}

class Session {
public:
    Session(HelperServer& server, int fd) : server_(server), fd_(fd), reader_(fd) {}
    void run();

private:
    bool check_peer();
    bool serve_one(const std::string& line);
    Result<proto::Reply> handle(const proto::Request& request);

    Result<proto::Reply> on(const proto::Hello& m);
    Result<proto::Reply> on(const proto::Bind& m);
    Result<proto::Reply> on(const proto::CreateNetwork& m);
    Result<proto::Reply> on(const proto::Reserve& m);
    Result<proto::Reply> on(const proto::BootMember& m);
    Result<proto::Reply> on(const proto::StatusRequest& m);
    Result<proto::Reply> on(const proto::Stop& m);
    Result<proto::Reply> on(const proto::Release& m);
    Result<proto::Reply> on(const proto::ListRequest& m);
    Result<proto::Reply> on(const proto::Detach& m);

    HelperServer& server_;
    int fd_;
    LineReader reader_;
    bool greeted_ = false;
    bool bound_ = false;
    bool close_ = false;          // close after this reply (refused handshake)
    bool stopped_member_ = false; // a stop was served: maybe the last member is gone
};

void Session::run() {
    bool allowed = check_peer();
    while (!close_) {
        auto timeout =
            greeted_ ? std::nullopt : std::optional<std::chrono::milliseconds>(kHandshakeTimeout);
        auto line = reader_.read_line(timeout);
        if (!line || !*line)
            break; // EOF, timeout, or the server shut the fd down
        if (!allowed) {
            (void)write_line(fd_, proto::encode(proto::Reply(proto::ErrorReply{
                                      "permission",
                                      "fleetbox-helper refuses this user: only root and uid " +
                                          std::to_string(::geteuid()) + " may control it",
                                      "run fleetbox as the user that started the VM"})));
            break;
        }
        if (!serve_one(**line))
            break;
    }
    if (bound_ && !server_.detach_requested()) {
        server_.backend().set_abandoned(); // nobody waits for a clean guest shutdown now
        server_.request_shutdown("the bound client closed its connection");
    }
}

bool Session::check_peer() {
    auto peer = peer_credentials(fd_);
    if (!peer) {
        server_.log("refused a connection: " + peer.error().message());
        return false;
    }
    if (peer->uid == ::geteuid() || peer->uid == 0)
        return true;
    server_.log(fmt::format("refused a connection from pid {} uid {}", peer->pid, peer->uid));
    return false;
}

bool Session::serve_one(const std::string& line) {
    auto request = proto::decode_request(line);
    Result<proto::Reply> reply = request ? handle(*request) : tl::unexpected(request.error());
    std::string cmd = request ? proto::command_name(*request) : "?";
    std::string name = request ? subject(*request) : "";
    std::string outcome = reply ? "ok" : "error: " + reply.error().message();
    server_.log(fmt::format("{}{}{}: {}", cmd, name.empty() ? "" : " ", name, outcome));
    proto::Reply out = reply ? *reply : proto::Reply(proto::to_reply(reply.error()));
    if (!write_line(fd_, proto::encode(out)))
        return false;
    if (stopped_member_) {
        stopped_member_ = false;
        if (server_.mode() == HelperMode::Detached && server_.backend().active_members() == 0)
            server_.request_shutdown("its last member stopped");
    }
    return request.has_value() || greeted_;
}

Result<proto::Reply> Session::handle(const proto::Request& request) {
    if (!greeted_ && !std::holds_alternative<proto::Hello>(request)) {
        close_ = true;
        return fail(ErrorKind::InvalidArgument, "the first request must be hello",
                    "got " + proto::command_name(request));
    }
    return std::visit([this](const auto& m) { return on(m); }, request);
}

Result<proto::Reply> Session::on(const proto::Hello& m) {
    int ours = server_.options().protocol_version;
    if (m.version != ours) {
        close_ = true;
        return fail(ErrorKind::InvalidArgument,
                    fmt::format("fleetbox-helper speaks protocol {}, this fleetbox speaks {} "
                                "(stale FLEETBOX_HELPER?)",
                                ours, m.version),
                    {},
                    "point FLEETBOX_HELPER at the fleetbox-helper of this fleetbox, or unset it");
    }
    greeted_ = true;
    return proto::HelloReply{ours, static_cast<int>(::getpid()), server_.options().capabilities,
                             std::string(to_string(server_.mode()))};
}

Result<proto::Reply> Session::on(const proto::Bind&) {
    bound_ = true;
    return proto::Ok{};
}

Result<proto::Reply> Session::on(const proto::CreateNetwork& m) {
    return FBX_TRY(server_.backend().create_network(m));
}

Result<proto::Reply> Session::on(const proto::Reserve& m) {
    FBX_CHECK(validate_vm_name(m.name));
    FBX_CHECK(server_.register_member(m.name));
    return FBX_TRY(server_.backend().reserve(m.name, m.ip_hint));
}

Result<proto::Reply> Session::on(const proto::BootMember& m) {
    FBX_CHECK(validate_vm_name(m.spec.name));
    FBX_CHECK(check_boot_paths(server_.store().root(), m.spec));
    FBX_CHECK(server_.register_member(m.spec.name));
    return FBX_TRY(server_.backend().boot(m.spec));
}

Result<proto::Reply> Session::on(const proto::StatusRequest& m) {
    FBX_CHECK(validate_vm_name(m.name));
    proto::StatusInfo info = FBX_TRY(server_.backend().status(m.name));
    info.helper_pid = static_cast<int>(::getpid());
    return info;
}

Result<proto::Reply> Session::on(const proto::Stop& m) {
    FBX_CHECK(validate_vm_name(m.name));
    FBX_CHECK(server_.backend().stop(m.name));
    stopped_member_ = true;
    return proto::Ok{};
}

Result<proto::Reply> Session::on(const proto::Release& m) {
    FBX_CHECK(validate_vm_name(m.name));
    FBX_CHECK(server_.backend().release(m.name));
    FBX_CHECK(server_.unregister_member(m.name));
    stopped_member_ = true; // it may have been the last one
    return proto::Ok{};
}

Result<proto::Reply> Session::on(const proto::ListRequest&) {
    proto::MemberList list = FBX_TRY(server_.backend().list());
    for (auto& member : list.members)
        member.helper_pid = static_cast<int>(::getpid());
    return list;
}

Result<proto::Reply> Session::on(const proto::Detach&) {
    FBX_CHECK(server_.detach());
    return proto::Ok{};
}

} // namespace

void serve_connection(HelperServer& server, int fd) {
    Session session(server, fd);
    session.run();
}

} // namespace fleetbox::helper
