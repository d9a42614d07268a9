// e2e: SshSession / GuestShell / wait_for_ssh against a real booted guest (OpenSSH under
// QEMU). The VM is provided by the caller, not booted here: set
//   FLEETBOX_E2E_GUEST_HOST, FLEETBOX_E2E_GUEST_IDENTITY, FLEETBOX_E2E_GUEST_KNOWN_HOSTS
//   (optional: FLEETBOX_E2E_GUEST_PORT=22, FLEETBOX_E2E_GUEST_USER=fleetbox,
//    FLEETBOX_E2E_GUEST_VM=vm)
// and run the binary as root in the network namespace that reaches the guest. Skipped
// otherwise. Timings (connection reuse vs fresh logins, bulk output) are printed, never
// asserted.
#include "guest/guest_shell.hpp"
#include "guest/ssh_session.hpp"
#include "guest/wait_for_ssh.hpp"
#include "support/test_support.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <iostream>
#include <libssh/libssh.h>
#include <unistd.h>

namespace fleetbox::guest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kTimeout = 120s; // TCG guests are slow; the numbers are printed, not asserted

std::string env(const char* name, const std::string& fallback = {}) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : fallback;
}

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

class GuestVmTest : public ::testing::Test {
protected:
    SshTarget target;
    test::ScratchDir dir;

    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "e2e guest tests run as root";
        target.host = env("FLEETBOX_E2E_GUEST_HOST");
        target.identity_path = env("FLEETBOX_E2E_GUEST_IDENTITY");
        target.known_hosts_path = env("FLEETBOX_E2E_GUEST_KNOWN_HOSTS");
        if (target.host.empty() || target.identity_path.empty() ||
            target.known_hosts_path.empty()) {
            GTEST_SKIP() << "no guest: set FLEETBOX_E2E_GUEST_HOST, _IDENTITY and _KNOWN_HOSTS";
        }
        target.port = std::stoi(env("FLEETBOX_E2E_GUEST_PORT", "22"));
        target.user = env("FLEETBOX_E2E_GUEST_USER", "fleetbox");
        target.vm_name = env("FLEETBOX_E2E_GUEST_VM", "vm");
    }

    // known_hosts naming the guest with a different, fresh key.
    std::string wrong_known_hosts(const std::string& host_field) {
        ssh_key key = nullptr;
        EXPECT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key), SSH_OK);
        char* b64 = nullptr;
        ssh_pki_export_pubkey_base64(key, &b64);
        std::string path = dir.file("wrong_known_hosts");
        test::write_text(path, host_field + " ssh-ed25519 " + b64 + "\n");
        ssh_string_free_char(b64);
        ssh_key_free(key);
        return path;
    }
    [[nodiscard]] std::string host_field() const {
        return target.port == 22 ? target.host
                                 : "[" + target.host + "]:" + std::to_string(target.port);
    }
};

TEST_F(GuestVmTest, WaitForSshOnARunningGuest) {
    auto seconds = wait_for_ssh(target, kTimeout);
    ASSERT_TRUE(seconds) << seconds.error().message();
    std::cout << "[ timing ] wait_for_ssh on a ready guest: " << *seconds << " s\n";
}

TEST_F(GuestVmTest, RunsCommands) {
    GuestShell shell(target, 60s);
    auto uname = shell.exec("uname -a", kTimeout);
    ASSERT_TRUE(uname) << uname.error().message();
    EXPECT_EQ(uname->exit_code, 0);
    EXPECT_EQ(uname->out.rfind("Linux ", 0), 0u) << uname->out;
    std::cout << "[ guest ] uname -a: " << uname->out;

    auto hostname = shell.exec("hostname", kTimeout);
    ASSERT_TRUE(hostname) << hostname.error().message();
    EXPECT_FALSE(hostname->out.empty());
    std::cout << "[ guest ] hostname: " << hostname->out;

    auto sudo = shell.exec("sudo -n true", kTimeout);
    ASSERT_TRUE(sudo) << sudo.error().message();
    EXPECT_EQ(sudo->exit_code, 0) << sudo->err;

    auto seven = shell.exec("exit 7", kTimeout);
    ASSERT_TRUE(seven) << seven.error().message();
    EXPECT_EQ(seven->exit_code, 7);

    auto streams = shell.exec("echo out; echo err >&2", kTimeout);
    ASSERT_TRUE(streams) << streams.error().message();
    EXPECT_EQ(streams->out, "out\n");
    EXPECT_EQ(streams->err, "err\n");

    auto killed = shell.exec("kill -KILL $$", kTimeout);
    ASSERT_TRUE(killed) << killed.error().message();
    EXPECT_EQ(killed->exit_code, 128 + 9);

    ExecIo io;
    std::string input = "hello from the host\n";
    io.input = input;
    auto cat = shell.exec("cat", io, kTimeout);
    ASSERT_TRUE(cat) << cat.error().message();
    EXPECT_EQ(cat->out, input);
    EXPECT_EQ(shell.logins(), 1);
}

TEST_F(GuestVmTest, LargeOutput) {
    auto session = SshSession::connect(target, 60s);
    ASSERT_TRUE(session) << session.error().message();
    auto t0 = Clock::now();
    auto big = session->exec("head -c 20000000 /dev/zero", kTimeout);
    double secs = since(t0);
    ASSERT_TRUE(big) << big.error().message();
    EXPECT_EQ(big->exit_code, 0);
    EXPECT_EQ(big->out.size(), 20'000'000u);
    std::cout << "[ timing ] 20 MB stdout: " << secs << " s (" << 20.0 / secs << " MB/s)\n";
}

TEST_F(GuestVmTest, OneConnectionIsReusedAndCheaperThanNewLogins) {
    GuestShell shell(target, 60s);
    ASSERT_TRUE(shell.exec("true", kTimeout)); // the login itself is not timed below
    auto t0 = Clock::now();
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(shell.exec("true", kTimeout));
    double reused = since(t0);
    EXPECT_EQ(shell.logins(), 1);

    t0 = Clock::now();
    for (int i = 0; i < 10; ++i) {
        auto s = SshSession::connect(target, 60s);
        ASSERT_TRUE(s) << s.error().message();
        ASSERT_TRUE(s->exec("true", kTimeout));
    }
    double fresh = since(t0);
    std::cout << "[ timing ] 10 x `true`: one reused connection " << reused << " s (" << reused / 10
              << " s each); a new login each " << fresh << " s (" << fresh / 10 << " s each)\n";
}

TEST_F(GuestVmTest, MismatchedHostKeyIsRefused) {
    SshTarget t = target;
    t.known_hosts_path = wrong_known_hosts(host_field());
    auto s = SshSession::connect(t, 60s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Permission);
    EXPECT_NE(s.error().message().find("does not match the one fleetbox generated"),
              std::string::npos)
        << s.error().message();
    std::cout << "[ guest ] " << s.error().message() << "\n";
    auto w = wait_for_ssh(t, kTimeout);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().kind, ErrorKind::Permission);
}

TEST_F(GuestVmTest, UnknownHostIsRefused) {
    SshTarget t = target;
    t.known_hosts_path = wrong_known_hosts("192.0.2.1");
    auto s = SshSession::connect(t, 60s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Permission);
    EXPECT_NE(s.error().message().find("not listed"), std::string::npos) << s.error().message();
    std::cout << "[ guest ] " << s.error().message() << "\n";
}

} // namespace
} // namespace fleetbox::guest
