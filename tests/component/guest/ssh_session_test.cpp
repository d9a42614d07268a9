// SshSession and GuestShell against an in-process libssh server (fake_sshd.hpp): exec
// semantics (separate streams, exit codes, signals, large output, stdin, timeouts), strict
// host-key checking, key auth, connection reuse and reconnect after a dropped connection.
#include "component/guest/fake_sshd.hpp"
#include "guest/guest_shell.hpp"
#include "guest/ssh_session.hpp"
#include "guest/wait_for_ssh.hpp"
#include "support/test_support.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stop_token>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>

namespace fleetbox::guest {
namespace {

using namespace std::chrono_literals;
using test::FakeSshd;
using test::TestKey;

class SshSessionTest : public ::testing::Test {
protected:
    test::ScratchDir dir;
    TestKey host_key{dir.file("host_key")};
    TestKey client_key{dir.file("id_ed25519")};
    FakeSshd server{host_key, client_key, dir.path()};

    // known_hosts line for the fake server (non-22 port: "[host]:port").
    [[nodiscard]] std::string host_field() const {
        return "[127.0.0.1]:" + std::to_string(server.port());
    }
    SshTarget target(const std::string& known_hosts_text) {
        test::write_text(dir.file("known_hosts"), known_hosts_text);
        SshTarget t;
        t.vm_name = "web";
        t.host = "127.0.0.1";
        t.port = server.port();
        t.user = "fleetbox";
        t.identity_path = client_key.path();
        t.known_hosts_path = dir.file("known_hosts");
        return t;
    }
    SshTarget good_target() { return target(host_field() + " " + host_key.public_line() + "\n"); }
    SshSession connect_ok() {
        auto s = SshSession::connect(good_target(), 10s);
        if (!s)
            throw std::runtime_error(s.error().message());
        return std::move(*s);
    }
};

TEST_F(SshSessionTest, SeparatesStdoutAndStderr) {
    auto s = connect_ok();
    auto r = s.exec("echo out; echo err >&2", 20s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_EQ(r->out, "out\n");
    EXPECT_EQ(r->err, "err\n");
}

TEST_F(SshSessionTest, ReportsExitCode) {
    auto s = connect_ok();
    auto r = s.exec("exit 7", 20s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->exit_code, 7);
}

TEST_F(SshSessionTest, SignalDeathIs128PlusSignal) {
    auto s = connect_ok();
    auto r = s.exec("kill -TERM $$", 20s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->exit_code, 128 + SIGTERM);
}

TEST_F(SshSessionTest, LargeOutputOnBothStreams) {
    auto s = connect_ok();
    auto r = s.exec("head -c 20000000 /dev/zero; head -c 3000000 /dev/zero >&2", 120s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out.size(), 20000000u);
    EXPECT_EQ(r->err.size(), 3000000u);
}

TEST_F(SshSessionTest, InputGoesToStdinThenEof) {
    auto s = connect_ok();
    std::string input(3'000'000, 'x');
    ExecIo io;
    io.input = input;
    auto r = s.exec("wc -c", io, 60s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(std::stol(r->out), 3000000);
    auto cat = s.exec("cat", 20s); // no input: stdin is at EOF at once, never hangs
    ASSERT_TRUE(cat) << cat.error().message();
    EXPECT_EQ(cat->out, "");
}

TEST_F(SshSessionTest, StreamsToCallbacks) {
    auto s = connect_ok();
    std::string out, err;
    ExecIo io;
    io.on_stdout = [&](std::string_view chunk) { out.append(chunk); };
    io.on_stderr = [&](std::string_view chunk) { err.append(chunk); };
    auto r = s.exec("seq 1 1000; echo oops >&2", io, 20s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->out.empty());
    EXPECT_EQ(out.substr(0, 4), "1\n2\n");
    EXPECT_EQ(err, "oops\n");
}

TEST_F(SshSessionTest, TimeoutKillsCommandAndKeepsSession) {
    auto s = connect_ok();
    auto r = s.exec("sleep 30", 300ms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
    EXPECT_NE(r.error().message().find("VM web"), std::string::npos) << r.error().message();
    EXPECT_TRUE(s.alive());
    auto again = s.exec("echo ok", 20s);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->out, "ok\n");
}

TEST_F(SshSessionTest, CancelFromAnotherThreadStopsCommandAndKeepsSession) {
    auto s = connect_ok();
    std::stop_source source;
    std::jthread canceller([&] {
        std::this_thread::sleep_for(300ms);
        source.request_stop();
    });
    ExecIo io;
    io.cancel = source.get_token();
    auto r = s.exec("sleep 30", io, 20s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Interrupted) << r.error().message();
    EXPECT_NE(r.error().message().find("cancelled by the caller"), std::string::npos)
        << r.error().message();
    EXPECT_TRUE(s.alive());
    auto again = s.exec("echo ok", 20s);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->out, "ok\n");
}

TEST_F(SshSessionTest, CancelledBeforeTheStartRunsNothing) {
    GuestShell shell(good_target(), 10s);
    ASSERT_TRUE(shell.exec("true", 20s));
    const int before = server.commands();
    std::stop_source source;
    source.request_stop();
    ExecIo io;
    io.cancel = source.get_token();
    auto r = shell.exec("touch ran", io, 20s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Interrupted);
    EXPECT_EQ(server.commands(), before) << "neither run nor retried";
    EXPECT_EQ(shell.logins(), 1);
}

TEST_F(SshSessionTest, ChangedHostKeyIsRefused) {
    TestKey other(dir.file("other_host_key"));
    auto s = SshSession::connect(target(host_field() + " " + other.public_line() + "\n"), 10s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Permission);
    EXPECT_NE(
        s.error().message().find("host key of VM web does not match the one fleetbox generated"),
        std::string::npos)
        << s.error().message();
    EXPECT_NE(s.error().message().find("refusing to connect"), std::string::npos);
    EXPECT_EQ(server.commands(), 0);
}

TEST_F(SshSessionTest, UnlistedHostIsRefused) {
    auto s = SshSession::connect(target("[10.9.9.9]:22 " + host_key.public_line() + "\n"), 10s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Permission);
    EXPECT_NE(s.error().message().find("not listed"), std::string::npos) << s.error().message();
}

TEST_F(SshSessionTest, NonDefaultPortNeedsBracketedEntry) {
    // "127.0.0.1 key" is the entry for port 22 only.
    auto s = SshSession::connect(target("127.0.0.1 " + host_key.public_line() + "\n"), 10s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Permission) << s.error().message();
}

TEST_F(SshSessionTest, MissingKnownHostsIsRefused) {
    SshTarget t = good_target();
    t.known_hosts_path = dir.file("absent_known_hosts");
    auto s = SshSession::connect(t, 10s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::NotFound);
    EXPECT_NE(s.error().message().find("refusing to connect"), std::string::npos)
        << s.error().message();
}

TEST_F(SshSessionTest, UserKnownHostsIsNeitherReadNorWritten) {
    passwd* pw = ::getpwuid(::geteuid());
    ASSERT_NE(pw, nullptr);
    std::string user_file = std::string(pw->pw_dir) + "/.ssh/known_hosts";
    struct stat before {};
    bool existed = ::stat(user_file.c_str(), &before) == 0;
    {
        auto s = connect_ok();
        ASSERT_TRUE(s.exec("true", 20s));
    }
    struct stat after {};
    bool exists = ::stat(user_file.c_str(), &after) == 0;
    EXPECT_EQ(existed, exists);
    if (existed && exists) {
        EXPECT_EQ(before.st_size, after.st_size);
        EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    }
}

TEST_F(SshSessionTest, RejectedKeyIsPermission) {
    server.set_deny_auth(true);
    auto s = SshSession::connect(good_target(), 10s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Permission);
    EXPECT_NE(s.error().message().find("refused the key"), std::string::npos)
        << s.error().message();
}

TEST_F(SshSessionTest, MissingIdentityIsNotFound) {
    SshTarget t = good_target();
    t.identity_path = dir.file("no_such_key");
    auto s = SshSession::connect(t, 10s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(server.connections(), 0); // checked before dialing
}

// Our sockets connected to the fake server (its own accepted sockets are not counted).
int client_sockets(int server_port) {
    int n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr)
        return -1;
    while (dirent* e = ::readdir(d)) {
        int fd = std::atoi(e->d_name);
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        if (e->d_name[0] == '.' || fd == ::dirfd(d))
            continue;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 &&
            peer.sin_family == AF_INET && ntohs(peer.sin_port) == server_port) {
            ++n;
        }
    }
    ::closedir(d);
    return n;
}

TEST_F(SshSessionTest, ClosesItsSocket) {
    for (int i = 0; i < 3; ++i) {
        auto s = connect_ok();
        EXPECT_EQ(client_sockets(server.port()), 1);
        ASSERT_TRUE(s.exec("true", 20s));
    }
    EXPECT_EQ(client_sockets(server.port()), 0);
    // Refused after the handshake, and refused by a server that went away mid-session.
    auto refused = SshSession::connect(target("127.0.0.1 " + host_key.public_line() + "\n"), 10s);
    ASSERT_FALSE(refused);
    EXPECT_EQ(client_sockets(server.port()), 0);
    {
        auto s = connect_ok();
        server.drop_connection();
        EXPECT_FALSE(s.exec("true", 20s));
    }
    EXPECT_EQ(client_sockets(server.port()), 0);
}

TEST_F(SshSessionTest, ShellReusesOneConnection) {
    GuestShell shell(good_target(), 10s);
    for (int i = 0; i < 10; ++i) {
        auto r = shell.exec("echo " + std::to_string(i), 20s);
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r->out, std::to_string(i) + "\n");
    }
    EXPECT_EQ(shell.logins(), 1);
    EXPECT_EQ(server.connections(), 1);
}

TEST_F(SshSessionTest, ShellReconnectsAfterDroppedConnection) {
    GuestShell shell(good_target(), 10s);
    ASSERT_TRUE(shell.exec("true", 20s));
    server.drop_connection();
    auto r = shell.exec("echo again", 20s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "again\n");
    EXPECT_EQ(shell.logins(), 2);
    EXPECT_EQ(server.commands(), 2); // the command ran once
}

TEST_F(SshSessionTest, ShellDoesNotRerunAStartedCommand) {
    GuestShell shell(good_target(), 10s);
    ASSERT_TRUE(shell.exec("true", 20s));
    std::thread dropper([&] {
        std::this_thread::sleep_for(500ms);
        server.drop_connection();
    });
    auto r = shell.exec("sleep 20", 30s);
    dropper.join();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Network) << r.error().message();
    EXPECT_EQ(server.commands(), 2);
    EXPECT_FALSE(shell.connected());
}

TEST_F(SshSessionTest, WaitForSshKeepsTheProvingConnection) {
    GuestShell shell(good_target(), 10s);
    auto seconds = shell.wait_ready(30s);
    ASSERT_TRUE(seconds) << seconds.error().message();
    EXPECT_GE(*seconds, 0.0);
    ASSERT_TRUE(shell.exec("true", 20s));
    EXPECT_EQ(shell.logins(), 1);
    EXPECT_EQ(server.logins(), 1);
}

TEST_F(SshSessionTest, WaitForSshStopsAtOnceOnHostKeyMismatch) {
    TestKey other(dir.file("other_host_key"));
    auto r = wait_for_ssh(target(host_field() + " " + other.public_line() + "\n"), 120s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Permission) << r.error().message();
    EXPECT_EQ(server.connections(), 2); // one TCP probe, one handshake: no retry
}

TEST_F(SshSessionTest, WaitForSshRetriesRefusedLogins) {
    server.set_deny_auth(true); // as sshd does while /run/nologin exists during boot
    std::thread allow([&] {
        std::this_thread::sleep_for(700ms);
        server.set_deny_auth(false);
    });
    auto r = wait_for_ssh(good_target(), 60s);
    allow.join();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(server.logins(), 1);
    EXPECT_GE(server.connections(), 4); // at least two rounds of probe + login
}

TEST_F(SshSessionTest, WaitForSshTimeoutNamesLastFailure) {
    server.set_deny_auth(true);
    auto r = wait_for_ssh(good_target(), 1500ms, {}, "/store/web/serial.log");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
    EXPECT_NE(r.error().message().find("refused the key"), std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().hint.find("/store/web/serial.log"), std::string::npos);
}

} // namespace
} // namespace fleetbox::guest
