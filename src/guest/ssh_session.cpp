// SshSession::connect: our own bounded TCP connect (tcp_connect.hpp), handed to libssh with
// SSH_OPTIONS_FD (libssh closes it from then on: see SessionDeleter), then ssh_connect for the
// handshake, ssh_session_is_known_server for the host key and ssh_userauth_publickey for the login.
//
// libssh 0.10 facts relied on: SSH_OPTIONS_PROCESS_CONFIG=false skips ~/.ssh/config and
// /etc/ssh/ssh_config; SSH_OPTIONS_KNOWNHOSTS and SSH_OPTIONS_GLOBAL_KNOWNHOSTS both pointed at
// the VM's file keep ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts out of the check;
// ssh_session_is_known_server only reads (nothing here ever calls the update functions);
// host entries for a non-22 port are looked up as "[host]:port"; SSH_OPTIONS_TIMEOUT(+_USEC)
// bounds every blocking protocol wait, and is re-read at each call, so it is set to what is
// left of the connect deadline before each step.
#include "guest/ssh_session.hpp"

#include "guest/libssh_handles.hpp"
#include "sys/tcp_connect.hpp"

#include <unistd.h>
#include <utility>

namespace fleetbox::guest {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace detail;

milliseconds left_until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? left : milliseconds(1);
}

void set_step_timeout(ssh_session s, milliseconds t) {
    long sec = static_cast<long>(t.count() / 1000);
    long usec = static_cast<long>(t.count() % 1000) * 1000;
    if (sec == 0 && usec == 0)
        usec = 1000;
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &sec);
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
}

Status configure(ssh_session s, const SshTarget& t) {
    unsigned int port = static_cast<unsigned int>(t.port);
    bool process_config = false;
    int one = 1;
    struct Option {
        ssh_options_e option;
        const void* value;
        const char* name;
    };
    const Option options[] = {
        {SSH_OPTIONS_HOST, t.host.c_str(), "host"},
        {SSH_OPTIONS_PORT, &port, "port"},
        {SSH_OPTIONS_USER, t.user.c_str(), "user"},
        {SSH_OPTIONS_PROCESS_CONFIG, &process_config, "process-config"},
        {SSH_OPTIONS_KNOWNHOSTS, t.known_hosts_path.c_str(), "known-hosts"},
        {SSH_OPTIONS_GLOBAL_KNOWNHOSTS, t.known_hosts_path.c_str(), "global-known-hosts"},
        {SSH_OPTIONS_STRICTHOSTKEYCHECK, &one, "strict-host-key-check"},
        {SSH_OPTIONS_NODELAY, &one, "nodelay"},
    };
    for (const auto& o : options) {
        if (ssh_options_set(s, o.option, o.value) != SSH_OK) {
            return fail(ErrorKind::Internal, ssh_operation(t),
                        std::string("libssh rejected option ") + o.name + ": " + last_error(s));
        }
    }
    return {};
}

Result<KeyPtr> load_identity(const SshTarget& t) {
    ssh_key key = nullptr;
    int rc = ssh_pki_import_privkey_file(t.identity_path.c_str(), nullptr, nullptr, nullptr, &key);
    KeyPtr owned(key);
    if (rc == SSH_OK)
        return owned;
    std::string operation = ssh_operation(t) + ": read private key " + t.identity_path;
    if (::access(t.identity_path.c_str(), R_OK) != 0)
        return fail_errno(operation, errno);
    return fail(ErrorKind::Corrupt, operation, "not an unencrypted private key libssh can read",
                "delete it to have fleetbox generate a new one");
}

Status check_known_hosts_file(const SshTarget& t) {
    if (::access(t.known_hosts_path.c_str(), R_OK) == 0)
        return {};
    Error e = errno_error(ssh_operation(t) + ": read known_hosts " + t.known_hosts_path, errno);
    e.context = "cannot check the host key of " + vm_label(t) + ": refusing to connect";
    e.hint = "the file is written when the VM is created; recreate the VM";
    return tl::unexpected(std::move(e));
}

// "SHA256:..." of the key the server offered, or "" when libssh cannot say.
std::string offered_fingerprint(ssh_session s) {
    ssh_key raw = nullptr;
    if (ssh_get_server_publickey(s, &raw) != SSH_OK)
        return {};
    KeyPtr key(raw);
    unsigned char* hash = nullptr;
    size_t hash_len = 0;
    if (ssh_get_publickey_hash(key.get(), SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_len) != 0) {
        return {};
    }
    char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_len);
    ssh_clean_pubkey_hash(&hash);
    if (text == nullptr)
        return {};
    std::string result = text;
    ssh_string_free_char(text);
    return result;
}

Status verify_host_key(ssh_session s, const SshTarget& t) {
    const std::string file = t.known_hosts_path;
    const std::string offered = offered_fingerprint(s);
    const std::string recreate = "recreate the VM (its known_hosts file and seed are written "
                                 "together), and check that no other machine uses its address";
    switch (ssh_session_is_known_server(s)) {
    case SSH_KNOWN_HOSTS_OK:
        return {};
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
        return fail(ErrorKind::Permission, ssh_operation(t),
                    "host key of " + vm_label(t) +
                        " does not match the one fleetbox generated "
                        "for it (" +
                        file + "; it offered " + offered + "): refusing to connect",
                    recreate);
    case SSH_KNOWN_HOSTS_UNKNOWN:
        return fail(ErrorKind::Permission, ssh_operation(t),
                    "host key of " + vm_label(t) + " (" + offered + ") is not listed for " +
                        endpoint(t.host, t.port) + " in " + file + ": refusing to connect",
                    recreate);
    case SSH_KNOWN_HOSTS_NOT_FOUND:
        return fail(ErrorKind::NotFound, ssh_operation(t),
                    "known_hosts file " + file + " does not exist: refusing to connect", recreate);
    case SSH_KNOWN_HOSTS_ERROR:
        break;
    }
    return fail(ErrorKind::Corrupt, ssh_operation(t),
                "cannot check the host key against " + file + ": " + last_error(s) +
                    ": refusing to connect",
                recreate);
}

Status authenticate(ssh_session s, ssh_key key, const SshTarget& t, Clock::time_point deadline,
                    milliseconds timeout) {
    int rc = ssh_userauth_publickey(s, nullptr, key);
    if (rc == SSH_AUTH_SUCCESS)
        return {};
    if (rc == SSH_AUTH_DENIED || rc == SSH_AUTH_PARTIAL) {
        return fail(ErrorKind::Permission, ssh_operation(t),
                    vm_label(t) + " refused the key " + t.identity_path + " for user " + t.user,
                    "the VM's authorized key comes from its seed: recreate the VM if the "
                    "fleetbox key was replaced since");
    }
    if (rc == SSH_AUTH_AGAIN || Clock::now() >= deadline) { // the step timeout ran out
        return fail(ErrorKind::Timeout, ssh_operation(t),
                    "no answer to the login within " + std::to_string(timeout.count()) + " ms");
    }
    return fail(ErrorKind::Network, ssh_operation(t), "authentication failed: " + last_error(s));
}

Error handshake_error(ssh_session s, const SshTarget& t, Clock::time_point deadline,
                      milliseconds timeout) {
    std::string why = last_error(s);
    if (Clock::now() >= deadline || why.find("imeout") != std::string::npos) {
        return Error{ErrorKind::Timeout, 0, ssh_operation(t),
                     "no SSH handshake within " + std::to_string(timeout.count()) + " ms (" + why +
                         ")",
                     "the port accepted the connection but no SSH server answered in time; "
                     "the VM may still be booting or be overloaded"};
    }
    return Error{ErrorKind::Network, 0, ssh_operation(t), "SSH handshake failed: " + why, {}};
}

} // namespace

Result<SshSession> SshSession::connect(const SshTarget& target, milliseconds timeout) {
    auto session = connect_staged(target, timeout);
    if (!session)
        return tl::unexpected(std::move(session).error().error);
    return std::move(session).value();
}

tl::expected<SshSession, SshSession::ConnectFailure>
SshSession::connect_staged(const SshTarget& target, milliseconds timeout) {
    auto failed = [](Stage stage, Error e) {
        return tl::unexpected(ConnectFailure{std::move(e), stage});
    };
    const auto deadline = Clock::now() + timeout;
    if (auto ok = validate_target(target); !ok)
        return failed(Stage::Setup, ok.error());
    auto key = load_identity(target);
    if (!key)
        return failed(Stage::Setup, key.error());
    if (auto ok = check_known_hosts_file(target); !ok)
        return failed(Stage::Setup, ok.error());
    auto socket = tcp_connect(target.host, target.port, timeout, vm_label(target));
    if (!socket)
        return failed(Stage::Tcp, socket.error());

    SessionPtr session(ssh_new());
    if (!session) {
        return failed(Stage::Setup,
                      Error{ErrorKind::Internal, 0, ssh_operation(target), "ssh_new failed", {}});
    }
    if (auto ok = configure(session.get(), target); !ok)
        return failed(Stage::Setup, ok.error());
    socket_t fd = socket->get();
    if (ssh_options_set(session.get(), SSH_OPTIONS_FD, &fd) != SSH_OK) {
        return failed(
            Stage::Setup,
            Error{ErrorKind::Internal, 0, ssh_operation(target), last_error(session.get()), {}});
    }
    (void)socket->release(); // libssh's now: see SessionDeleter

    set_step_timeout(session.get(), left_until(deadline));
    if (ssh_connect(session.get()) != SSH_OK) {
        return failed(Stage::Handshake, handshake_error(session.get(), target, deadline, timeout));
    }
    if (auto ok = verify_host_key(session.get(), target); !ok)
        return failed(Stage::HostKey, ok.error());
    set_step_timeout(session.get(), left_until(deadline));
    if (auto ok = authenticate(session.get(), key->get(), target, deadline, timeout); !ok) {
        return failed(Stage::Auth, ok.error());
    }
    set_step_timeout(session.get(), timeout);
    return SshSession(target, session.release(), timeout);
}

SshSession::SshSession(SshTarget target, ssh_session_struct* session, milliseconds step)
    : target_(std::move(target)), session_(session), step_timeout_(step) {}

SshSession::SshSession(SshSession&& other) noexcept
    : target_(std::move(other.target_)), session_(std::exchange(other.session_, nullptr)),
      step_timeout_(other.step_timeout_) {}

SshSession& SshSession::operator=(SshSession&& other) noexcept {
    if (this != &other) {
        disconnect();
        target_ = std::move(other.target_);
        session_ = std::exchange(other.session_, nullptr);
        step_timeout_ = other.step_timeout_;
    }
    return *this;
}

SshSession::~SshSession() {
    disconnect();
}

void SshSession::disconnect() {
    if (session_ != nullptr)
        SessionDeleter{}(std::exchange(session_, nullptr));
}

bool SshSession::alive() const {
    if (session_ == nullptr || ssh_is_connected(session_) == 0)
        return false;
    return (ssh_get_status(session_) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0;
}

} // namespace fleetbox::guest
