// HelperClient: each Backend call is one NDJSON request/reply on a pooled unix-socket
// connection to the helper. connect(2) on a socket file nobody listens on fails with
// ECONNREFUSED (and on a missing file with ENOENT): both mean "no helper", reported as one
// clear NotFound line instead of a raw errno. connect(2) needs write permission on the
// socket file: EACCES/EPERM means a helper we may not talk to (root's, without sudo), which
// is a Permission error, never "no helper". SO_PEERCRED of every connection is checked
// before a byte is sent (see helper_client.hpp).
#include "client/helper_client.hpp"

#include "proto/codec.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::client {

namespace {

template <class T>
Result<T> expect(Result<proto::Reply> reply, const std::string& what) {
    if (!reply)
        return tl::unexpected(std::move(reply).error());
    if (auto* value = std::get_if<T>(&*reply))
        return std::move(*value);
    if (auto* error = std::get_if<proto::ErrorReply>(&*reply))
        return tl::unexpected(proto::to_error(*error));
    return fail(ErrorKind::Corrupt, what, "the fleetbox helper sent an unexpected reply");
}

// The owner of `path` (not followed if a symlink), or nullopt.
std::optional<uid_t> owner_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return std::nullopt;
    return st.st_uid;
}

std::string seconds_text(std::chrono::milliseconds ms) {
    return format_duration(static_cast<double>(ms.count()) / 1000.0);
}

} // namespace

Result<std::unique_ptr<HelperClient>>
HelperClient::connect(const Store& store, const std::string& member, HelperClientOptions options) {
    auto remote = FBX_TRY(dial(store, member, options));
    FBX_CHECK(remote->handshake());
    return remote;
}

Result<std::unique_ptr<HelperClient>>
HelperClient::dial(const Store& store, const std::string& member, HelperClientOptions options) {
    std::string path = FBX_TRY(store.socket_path(member));
    std::string display = "run/" + base_name(path);
    std::string helper_log = FBX_TRY(store.member_file(member, "helper.log"));
    std::unique_ptr<HelperClient> remote(
        new HelperClient(member, path, display, helper_log, options, store.owner().uid,
                         owner_of(store.root()).value_or(store.owner().uid)));
    auto conn = FBX_TRY(remote->open_connection()); // the peer's uid is checked there
    // The process handle: a peer that is already gone (a detached helper exiting) gives none,
    // and the handshake then says what happened; signal_helper() refuses without one.
    if (auto peer = peer_process(conn->fd.get()))
        remote->peer_ = std::move(*peer);
    else
        remote->peer_.credentials = FBX_TRY(peer_credentials(conn->fd.get()));
    remote->idle_.push_back(std::move(conn));
    return remote;
}

Status HelperClient::signal_helper(int sig) const {
    if (!peer_.pidfd)
        return fail(ErrorKind::InvalidArgument, "signal the fleetbox helper for " + member_,
                    "no process handle on it");
    return signal_process(peer_.pidfd.get(), sig);
}

HelperClient::~HelperClient() = default;

Status HelperClient::check_peer(int fd) const {
    auto peer = peer_credentials(fd);
    if (!peer)
        return fail(std::move(peer).error().wrap("reach the fleetbox helper for " + member_));
    if (peer->uid == 0 || peer->uid == owner_uid_ || peer->uid == root_uid_ ||
        peer->uid == ::geteuid() || peer->uid == options_.started_as)
        return {};
    return fail(ErrorKind::Permission, "reach the fleetbox helper for " + member_,
                fmt::format("its socket {} is served by uid {} (pid {}), neither root nor the "
                            "store's owner (uid {}); fleetbox does not talk to it",
                            socket_path_, peer->uid, peer->pid, owner_uid_),
                "another user's process is listening in your store's run/ directory: find out "
                "why, and stop it");
}

Result<std::unique_ptr<HelperClient::Connection>> HelperClient::open_connection() const {
    auto fd = connect_unix(socket_path_, options_.connect_timeout);
    if (fd) {
        FBX_CHECK(check_peer(fd->get()));
        return std::make_unique<Connection>(std::move(*fd));
    }
    const Error& e = fd.error();
    if (e.err_no == EACCES || e.err_no == EPERM)
        return fail(ErrorKind::Permission, "reach the fleetbox helper for " + member_,
                    "permission denied on its socket " + display_path_ +
                        " (its helper runs as root, or as another user)",
                    "run with sudo (or as the store's owner)");
    std::string hint = "start it with fleetbox up " + member_;
    if (e.err_no == ECONNREFUSED)
        return fail(ErrorKind::NotFound,
                    "no fleetbox helper is running for " + member_ + " (stale socket " +
                        display_path_ + ")",
                    {}, hint);
    if (e.err_no == ENOENT)
        return fail(ErrorKind::NotFound, "no fleetbox helper is running for " + member_, {}, hint);
    return fail(Error(e).wrap("reach the fleetbox helper for " + member_));
}

Result<proto::Reply> HelperClient::exchange(Connection& conn, const proto::Request& request,
                                            std::chrono::milliseconds timeout) const {
    std::string what = proto::command_name(request) + " via the fleetbox helper for " + member_;
    auto sent = write_line(conn.fd.get(), proto::encode(request));
    if (!sent)
        return fail(std::move(sent).error().wrap(what));
    auto line = conn.reader.read_line(timeout);
    if (!line) {
        if (line.error().kind == ErrorKind::Timeout)
            return fail(ErrorKind::Timeout, what, "no reply within " + seconds_text(timeout));
        return fail(std::move(line).error().wrap(what));
    }
    if (!*line)
        return fail(ErrorKind::Io, what, "the helper closed the connection (it exited)",
                    "see " + helper_log_);
    auto reply = proto::decode_reply(**line);
    if (!reply)
        return fail(std::move(reply).error().wrap(what));
    return *reply;
}

Status HelperClient::hello(Connection& conn) {
    proto::Hello request{proto::kProtocolVersion, static_cast<int>(::getpid()), {}};
    auto reply = exchange(conn, request, options_.rpc_timeout);
    if (!reply)
        return tl::unexpected(std::move(reply).error());
    if (auto* error = std::get_if<proto::ErrorReply>(&*reply)) {
        version_mismatch_ = error->kind == "invalid-argument";
        return tl::unexpected(proto::to_error(*error));
    }
    auto* hello = std::get_if<proto::HelloReply>(&*reply);
    if (!hello)
        return fail(ErrorKind::Corrupt, "hello to the fleetbox helper for " + member_,
                    "unexpected reply");
    if (hello->version != proto::kProtocolVersion) {
        version_mismatch_ = true;
        return fail(ErrorKind::InvalidArgument,
                    fmt::format("fleetbox-helper speaks protocol {}, this fleetbox speaks {} "
                                "(stale FLEETBOX_HELPER?)",
                                hello->version, proto::kProtocolVersion),
                    {},
                    "point FLEETBOX_HELPER at the fleetbox-helper of this fleetbox, or unset it");
    }
    helper_pid_ = hello->helper_pid;
    std::lock_guard lock(mutex_);
    capabilities_ = hello->capabilities;
    helper_mode_ = hello->mode;
    return {};
}

std::string HelperClient::helper_mode() const {
    std::lock_guard lock(mutex_);
    return helper_mode_;
}

bool HelperClient::has(std::string_view capability) const {
    std::lock_guard lock(mutex_);
    return std::find(capabilities_.begin(), capabilities_.end(), capability) != capabilities_.end();
}

Status HelperClient::handshake() {
    std::unique_ptr<Connection> conn;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            conn = std::move(idle_.back());
            idle_.pop_back();
        }
    }
    if (!conn)
        conn = FBX_TRY(open_connection());
    FBX_CHECK(hello(*conn));
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(conn));
    return {};
}

Result<proto::Reply> HelperClient::call(const proto::Request& request,
                                        std::chrono::milliseconds timeout) {
    std::unique_ptr<Connection> conn;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            conn = std::move(idle_.back());
            idle_.pop_back();
        }
    }
    if (!conn) {
        conn = FBX_TRY(open_connection());
        FBX_CHECK(hello(*conn));
    }
    auto reply = exchange(*conn, request, timeout);
    if (reply) { // a clean exchange leaves the connection in sync: keep it
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(conn));
    }
    return reply;
}

Status HelperClient::bind() {
    auto conn = FBX_TRY(open_connection());
    FBX_CHECK(hello(*conn));
    FBX_TRY(expect<proto::Ok>(exchange(*conn, proto::Bind{}, options_.rpc_timeout), "bind"));
    std::lock_guard lock(mutex_);
    lifeline_ = std::move(conn);
    return {};
}

Result<proto::NetworkInfo> HelperClient::create_network(const proto::CreateNetwork& request) {
    // An older helper would ignore the stored subnet and build a network on which the
    // cluster's stored addresses do not fit; refuse instead.
    if ((!request.subnet.empty() || !request.avoid.empty()) && !has(proto::kCapClusterNetwork))
        return fail(ErrorKind::InvalidArgument, "create the network of cluster " + request.cluster,
                    fmt::format("the fleetbox-helper serving it (pid {}) predates stored cluster "
                                "networks (no {} capability)",
                                helper_pid_.load(), proto::kCapClusterNetwork),
                    "stop its VMs with the fleetbox that started them, then run up again");
    return expect<proto::NetworkInfo>(call(request, options_.rpc_timeout), "createnetwork");
}

Result<proto::Reservation> HelperClient::reserve(const std::string& name,
                                                 const std::string& ip_hint) {
    return expect<proto::Reservation>(call(proto::Reserve{name, ip_hint}, options_.rpc_timeout),
                                      "reserve");
}

Result<proto::Booted> HelperClient::boot(const proto::BootSpec& spec) {
    // An older helper would drop the words silently and boot a guest that never configures
    // itself; refuse instead.
    if (!spec.kernel_cmdline_extra.empty() && !has(proto::kCapBootKernelCmdline))
        return fail(
            ErrorKind::InvalidArgument, "boot " + spec.name,
            fmt::format("the fleetbox-helper serving it (pid {}) predates the boot fast path "
                        "(no {} capability)",
                        helper_pid_.load(), proto::kCapBootKernelCmdline),
            "stop its VMs with the fleetbox that started them, then run up again");
    // An older helper would ignore the fixture images: the guest would boot without them.
    if (!spec.fixture_paths.empty() && !has(proto::kCapBootFixtures))
        return fail(ErrorKind::InvalidArgument, "boot " + spec.name,
                    fmt::format("the fleetbox-helper serving it (pid {}) cannot attach fixtures "
                                "(no {} capability)",
                                helper_pid_.load(), proto::kCapBootFixtures),
                    "stop its VMs with the fleetbox that started them, then run up again");
    // An older helper would boot a stock image on microvm with root=/dev/vda: a guest that
    // never finds its root disk.
    if (proto::uses_stock_boot(spec) && !has(proto::kCapBootStockImages))
        return fail(ErrorKind::InvalidArgument, "boot " + spec.name,
                    fmt::format("the fleetbox-helper serving it (pid {}) cannot boot stock cloud "
                                "images (no {} capability)",
                                helper_pid_.load(), proto::kCapBootStockImages),
                    "stop its VMs with the fleetbox that started them, then run up again");
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::seconds(spec.boot_timeout_s) + options_.boot_margin);
    return expect<proto::Booted>(call(proto::BootMember{spec}, timeout), "boot-member");
}

Result<proto::StatusInfo> HelperClient::status(const std::string& name) {
    return expect<proto::StatusInfo>(call(proto::StatusRequest{name}, options_.rpc_timeout),
                                     "status");
}

Status HelperClient::release(const std::string& name) {
    FBX_TRY(expect<proto::Ok>(call(proto::Release{name}, options_.rpc_timeout), "release"));
    return {};
}

Result<proto::MemberList> HelperClient::list() {
    return expect<proto::MemberList>(call(proto::ListRequest{}, options_.rpc_timeout), "list");
}

Status HelperClient::stop(const std::string& name) {
    FBX_TRY(expect<proto::Ok>(call(proto::Stop{name}, options_.stop_timeout), "stop"));
    return {};
}

Status HelperClient::shutdown() {
    std::lock_guard lock(mutex_);
    if (!lifeline_)
        return fail(ErrorKind::InvalidArgument, "shut down the fleetbox helper for " + member_,
                    "this client is not bound to it",
                    "stop its members; a detached helper exits after the last one");
    lifeline_.reset();
    return {};
}

Status HelperClient::detach() {
    if (!has(proto::kCapDetach))
        return fail(ErrorKind::InvalidArgument,
                    fmt::format("keep the VMs of the fleetbox-helper serving {}", member_),
                    fmt::format("that helper (pid {}) predates keeping VMs (no {} capability)",
                                helper_pid_.load(), proto::kCapDetach),
                    "install the fleetbox-helper of this fleetbox");
    FBX_TRY(expect<proto::Ok>(call(proto::Detach{}, options_.rpc_timeout), "detach"));
    return {};
}

} // namespace fleetbox::client
