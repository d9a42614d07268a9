// A small SSH server for the guest-layer tests, built on libssh's server API: it accepts one
// connection at a time on a loopback address (127.0.0.1 unless told), offers one ed25519 host
// key, accepts one client key, and runs each exec request with /bin/sh -c (stdin = everything
// the client sent before EOF, stdout/stderr captured to files, then sent back with exit-status
// or exit-signal, EOF and CLOSE, as OpenSSH does). Enough to test SshSession/GuestShell
// without a VM or root.
#pragma once

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <mutex>
#include <netinet/in.h>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <string.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fleetbox::test {

// An ed25519 key written as an OpenSSH private key file; public() is "ssh-ed25519 AAAA...".
class TestKey {
public:
    explicit TestKey(const std::string& path) : path_(path) {
        if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key_) != SSH_OK)
            throw std::runtime_error("keygen");
        if (ssh_pki_export_privkey_file(key_, nullptr, nullptr, nullptr, path.c_str()) != SSH_OK) {
            throw std::runtime_error("export " + path);
        }
        char* b64 = nullptr;
        ssh_pki_export_pubkey_base64(key_, &b64);
        public_ = std::string("ssh-ed25519 ") + b64;
        ssh_string_free_char(b64);
    }
    ~TestKey() { ssh_key_free(key_); }
    TestKey(const TestKey&) = delete;
    TestKey& operator=(const TestKey&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] const std::string& public_line() const { return public_; }
    [[nodiscard]] ssh_key key() const { return key_; }

private:
    std::string path_;
    std::string public_;
    ssh_key key_ = nullptr;
};

class FakeSshd {
public:
    // Listens on `address`:`port` (port 0: any free one; binding 22 needs root, in a network
    // namespace of the test's own).
    FakeSshd(const TestKey& host_key, const TestKey& client_key, std::string scratch,
             const std::string& address = "127.0.0.1", int port = 0)
        : client_key_(client_key.key()), scratch_(std::move(scratch)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1)
            throw std::runtime_error("bad address " + address);
        socklen_t len = sizeof a;
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            ::listen(listen_fd_, 8) != 0) {
            throw std::runtime_error("listen");
        }
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        bind_ = ssh_bind_new();
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_HOSTKEY, host_key.path().c_str());
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeSshd() {
        stopping_ = true;
        ::shutdown(listen_fd_, SHUT_RDWR);
        drop_connection();
        thread_.join();
        ::close(listen_fd_);
        ssh_bind_free(bind_);
    }
    FakeSshd(const FakeSshd&) = delete;
    FakeSshd& operator=(const FakeSshd&) = delete;

    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] int connections() const { return connections_; }
    [[nodiscard]] int commands() const { return commands_; }
    // Successful key logins (connections() also counts bare TCP probes).
    [[nodiscard]] int logins() const { return logins_; }
    void set_deny_auth(bool deny) { deny_auth_ = deny; }
    // Commands run in `dir` (default: the test's working directory). Set before connecting.
    void set_workdir(std::string dir) { workdir_ = std::move(dir); }
    // Breaks the current connection at the TCP level (like a VM that rebooted).
    void drop_connection() {
        std::lock_guard lock(mutex_);
        if (session_fd_ >= 0)
            ::shutdown(session_fd_, SHUT_RDWR);
        if (child_ > 0)
            ::kill(child_, SIGKILL);
    }

private:
    // libssh marks the message accessors deprecated in favour of server callbacks, but with
    // server callbacks set it answers every message without one itself (no exec requests).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    void answer_auth(ssh_message m) {
        bool ok = !deny_auth_ && ssh_message_subtype(m) == SSH_AUTH_METHOD_PUBLICKEY &&
                  ssh_key_cmp(ssh_message_auth_pubkey(m), client_key_, SSH_KEY_CMP_PUBLIC) == 0;
        auto state = ssh_message_auth_publickey_state(m);
        if (ok && state == SSH_PUBLICKEY_STATE_VALID) {
            ++logins_;
            ssh_message_auth_reply_success(m, 0);
        } else if (ok && state == SSH_PUBLICKEY_STATE_NONE) {
            ssh_message_auth_reply_pk_ok_simple(m);
        } else {
            ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
            ssh_message_reply_default(m);
        }
    }
#pragma GCC diagnostic pop

    void serve() {
        while (!stopping_) {
            int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                if (stopping_)
                    return;
                continue;
            }
            ++connections_;
            serve_connection(fd);
        }
    }

    void serve_connection(int fd) {
        ssh_session s = ssh_new();
        // Bounds every wait of this session (ssh_message_get blocks forever by default). libssh
        // can close a failed connection's socket and still poll its old number, which by then
        // may belong to a new client socket: without a bound the server thread never returns
        // and ~FakeSshd hangs in join (seen once under load). No test idles a connection
        // this long.
        long idle_bound_s = 10;
        ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &idle_bound_s);
        {
            std::lock_guard lock(mutex_);
            session_fd_ = fd;
        }
        if (ssh_bind_accept_fd(bind_, s, fd) == SSH_OK && ssh_handle_key_exchange(s) == SSH_OK) {
            ssh_set_auth_methods(s, SSH_AUTH_METHOD_PUBLICKEY);
            message_loop(s);
        }
        {
            std::lock_guard lock(mutex_);
            session_fd_ = -1;
        }
        ssh_disconnect(s);
        ssh_free(s);
    }

    void message_loop(ssh_session s) {
        while (ssh_message m = ssh_message_get(s)) {
            int type = ssh_message_type(m);
            int subtype = ssh_message_subtype(m);
            if (type == SSH_REQUEST_AUTH) {
                answer_auth(m);
            } else if (type == SSH_REQUEST_CHANNEL_OPEN && subtype == SSH_CHANNEL_SESSION) {
                ssh_message_channel_request_open_reply_accept(m);
            } else if (type == SSH_REQUEST_CHANNEL && subtype == SSH_CHANNEL_REQUEST_EXEC) {
                ssh_channel c = ssh_message_channel_request_channel(m);
                std::string command = ssh_message_channel_request_command(m);
                ssh_message_channel_request_reply_success(m);
                ssh_message_free(m);
                ++commands_;
                run(c, command);
                continue;
            } else {
                ssh_message_reply_default(m);
            }
            ssh_message_free(m);
        }
    }

    static void write_all(ssh_channel c, const std::string& data, bool is_stderr) {
        for (std::size_t off = 0; off < data.size();) {
            auto n = static_cast<uint32_t>(std::min<std::size_t>(32768, data.size() - off));
            int w = is_stderr ? ssh_channel_write_stderr(c, data.data() + off, n)
                              : ssh_channel_write(c, data.data() + off, n);
            if (w <= 0)
                return;
            off += static_cast<std::size_t>(w);
        }
    }

    static std::string slurp(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    void run(ssh_channel c, const std::string& command) {
        std::string input;
        char buf[16384];
        int n;
        while ((n = ssh_channel_read(c, buf, sizeof buf, 0)) > 0)
            input.append(buf, static_cast<std::size_t>(n));
        std::string in_path = scratch_ + "/fake-in", out_path = scratch_ + "/fake-out",
                    err_path = scratch_ + "/fake-err";
        std::ofstream(in_path, std::ios::binary) << input;
        pid_t pid = ::fork();
        if (pid == 0) {
            int in = ::open(in_path.c_str(), O_RDONLY);
            int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            ::dup2(in, 0);
            ::dup2(out, 1);
            ::dup2(err, 2);
            if (!workdir_.empty() && ::chdir(workdir_.c_str()) != 0)
                ::_exit(126);
            ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        {
            std::lock_guard lock(mutex_);
            child_ = pid;
        }
        int status = 0;
        // Keep reading packets meanwhile, to notice the client's CLOSE (timeout test).
        ssh_event event = ssh_event_new();
        ssh_event_add_session(event, ssh_channel_get_session(c));
        while (::waitpid(pid, &status, WNOHANG) == 0) {
            ssh_event_dopoll(event, 10);
            if (ssh_channel_is_closed(c) || stopping_)
                ::kill(pid, SIGKILL);
        }
        ssh_event_remove_session(event, ssh_channel_get_session(c));
        ssh_event_free(event);
        {
            std::lock_guard lock(mutex_);
            child_ = -1;
        }
        if (!ssh_channel_is_closed(c)) {
            write_all(c, slurp(out_path), false);
            write_all(c, slurp(err_path), true);
            if (WIFEXITED(status))
                ssh_channel_request_send_exit_status(c, WEXITSTATUS(status));
            else
                ssh_channel_request_send_exit_signal(c, sigabbrev_np(WTERMSIG(status)), 0, "", "");
            ssh_channel_send_eof(c);
            ssh_channel_close(c);
        }
        ssh_channel_free(c);
    }

    ssh_key client_key_;
    std::string scratch_;
    std::string workdir_;
    int listen_fd_ = -1;
    int port_ = 0;
    ssh_bind bind_ = nullptr;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> deny_auth_{false};
    std::atomic<int> connections_{0};
    std::atomic<int> commands_{0};
    std::atomic<int> logins_{0};
    std::mutex mutex_;
    int session_fd_ = -1;
    pid_t child_ = -1;
};

} // namespace fleetbox::test
