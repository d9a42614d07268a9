// Unit tests for the guest layer's failure paths that need no SSH server: bounded TCP
// connects, refused ports, peers that are not SSH servers, wait_for_ssh timeouts and aborts,
// and target validation. Loopback sockets only.
#include "guest/ssh_session.hpp"
#include "guest/wait_for_ssh.hpp"
#include "support/loopback_port.hpp"
#include "support/test_support.hpp"
#include "sys/fd.hpp"
#include "sys/tcp_connect.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <gtest/gtest.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace fleetbox::guest {
namespace {

using namespace std::chrono_literals;

// A listening loopback socket; with `greeting`, a thread accepts connections, sends it and
// keeps them open (reading until the peer closes) until the listener goes away.
class Listener {
public:
    explicit Listener(std::string greeting = {}, bool serve = false)
        : greeting_(std::move(greeting)) {
        if (serve && port() != 0)
            thread_ = std::thread([this] { run(); });
    }
    ~Listener() {
        stop_ = true;
        ::shutdown(socket_.fd(), SHUT_RDWR);
        if (thread_.joinable())
            thread_.join();
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    [[nodiscard]] int port() const { return socket_.port(); }

private:
    void run() {
        while (!stop_) {
            Fd conn(::accept4(socket_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!conn)
                return;
            if (!greeting_.empty())
                (void)!::write(conn.get(), greeting_.data(), greeting_.size());
            char buf[256];
            while (!stop_ && ::read(conn.get(), buf, sizeof buf) > 0) {
            }
        }
    }
    test::LoopbackPort socket_{test::LoopbackPort::Mode::Listening};
    std::string greeting_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
};

using test::closed_loopback_port;

class GuestConnectTest : public ::testing::Test {
protected:
    test::ScratchDir dir;
    void SetUp() override {
        ssh_key key = nullptr;
        ASSERT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key), SSH_OK);
        ASSERT_EQ(ssh_pki_export_privkey_file(key, nullptr, nullptr, nullptr,
                                              dir.file("id_ed25519").c_str()),
                  SSH_OK);
        ssh_key_free(key);
        test::write_text(dir.file("known_hosts"), "");
    }
    SshTarget target(int port) {
        SshTarget t;
        t.vm_name = "web";
        t.host = "127.0.0.1";
        t.port = port;
        t.identity_path = dir.file("id_ed25519");
        t.known_hosts_path = dir.file("known_hosts");
        return t;
    }
};

TEST_F(GuestConnectTest, ClosedPortIsNetwork) {
    auto s = SshSession::connect(target(closed_loopback_port()), 5s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Network);
    EXPECT_NE(s.error().message().find("VM web"), std::string::npos) << s.error().message();
}

TEST_F(GuestConnectTest, GarbageBannerFailsCleanly) {
    Listener garbage("HELLO\r\n", true);
    auto s = SshSession::connect(target(garbage.port()), 3s);
    ASSERT_FALSE(s);
    EXPECT_TRUE(s.error().kind == ErrorKind::Network || s.error().kind == ErrorKind::Timeout)
        << s.error().message();
    EXPECT_NE(s.error().message().find("ssh to VM web at 127.0.0.1:"), std::string::npos)
        << s.error().message();
}

TEST_F(GuestConnectTest, SilentPeerTimesOut) {
    Listener silent("", true);
    auto s = SshSession::connect(target(silent.port()), 500ms);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Timeout) << s.error().message();
}

TEST_F(GuestConnectTest, MissingIdentityIsNotFound) {
    auto t = target(closed_loopback_port());
    t.identity_path = dir.file("absent");
    auto s = SshSession::connect(t, 5s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::NotFound);
}

TEST_F(GuestConnectTest, GarbledIdentityIsCorrupt) {
    test::write_text(dir.file("garbled"), "not a key\n", 0600);
    auto t = target(closed_loopback_port());
    t.identity_path = dir.file("garbled");
    auto s = SshSession::connect(t, 5s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Corrupt) << s.error().message();
}

TEST_F(GuestConnectTest, HostKeyCheckingCannotBeSkipped) {
    auto t = target(22);
    t.known_hosts_path.clear();
    auto s = SshSession::connect(t, 5s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::InvalidArgument);
    t.known_hosts_path = dir.path() + "/100%/known_hosts";
    auto percent = SshSession::connect(t, 5s);
    ASSERT_FALSE(percent);
    EXPECT_EQ(percent.error().kind, ErrorKind::InvalidArgument);
}

TEST_F(GuestConnectTest, WaitTimeoutNamesVmAddressAndLog) {
    auto t = target(closed_loopback_port());
    auto r = wait_for_ssh(t, 1s, {}, "/store/clusters/web/web/serial.log");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
    std::string msg = r.error().message();
    EXPECT_NE(msg.find("VM web did not answer SSH at 127.0.0.1:" + std::to_string(t.port)),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("Connection refused"), std::string::npos) << msg; // the last attempt
    EXPECT_NE(r.error().hint.find("/store/clusters/web/web/serial.log"), std::string::npos);
}

// The caller's extra hint (what a stock image may lack) follows the console log, and the log
// is still named first.
TEST_F(GuestConnectTest, WaitTimeoutAppendsTheCallersHint) {
    WaitForSshOptions options;
    options.serial_log = "/store/clusters/web/web/serial.log";
    options.hint = "the image may lack cloud-init";
    auto r = wait_for_ssh_session(target(closed_loopback_port()), 1s, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
    EXPECT_EQ(r.error().hint, "see its console log: /store/clusters/web/web/serial.log; "
                              "the image may lack cloud-init");
    options.hint.clear(); // none: the hint is exactly as before
    auto plain = wait_for_ssh_session(target(closed_loopback_port()), 1s, options);
    ASSERT_FALSE(plain);
    EXPECT_EQ(plain.error().hint, "see its console log: /store/clusters/web/web/serial.log");
}

TEST_F(GuestConnectTest, WaitStopsWhenCallerGivesUp) {
    std::atomic<int> asked{0};
    auto r = wait_for_ssh(target(closed_loopback_port()), 10min, [&] { return ++asked < 3; });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Interrupted) << r.error().message();
    EXPECT_NE(r.error().message().find("VM web"), std::string::npos);
}

TEST_F(GuestConnectTest, WaitFailsAtOnceOnSetupErrors) {
    auto t = target(closed_loopback_port());
    t.known_hosts_path = dir.file("absent_known_hosts");
    // The TCP probe fails first here (closed port), so a listener is needed to reach login.
    Listener l("", true);
    t.port = l.port();
    auto r = wait_for_ssh(t, 10min);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NotFound) << r.error().message();
}

} // namespace
} // namespace fleetbox::guest
