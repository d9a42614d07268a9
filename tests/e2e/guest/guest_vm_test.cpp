// e2e: SshSession / GuestShell / wait_for_ssh against a real booted guest (OpenSSH under
// QEMU): waiting for SSH, commands with separate streams and exit codes, stdin, bulk output,
// one reused connection, and the pinned host key (a mismatched or unknown key is refused).
//
// The test boots its own VM through the real CLI (`fleetbox up`) in its private network
// namespace and scratch store (the VmTest fixture), then drives the guest layer directly
// with the VM's address, the store's identity and the VM's known_hosts. One VM serves every
// check: a boot costs far more than all the checks together, and each test process has its
// own namespace, so separate tests could not share it. Timings (connection reuse vs fresh
// logins, bulk output) are printed, never asserted.
#include "e2e/vm/e2e_fixture.hpp"
#include "guest/guest_shell.hpp"
#include "guest/ssh_session.hpp"
#include "guest/wait_for_ssh.hpp"
#include "support/test_support.hpp"
#include "util/clock.hpp"

#include <gtest/gtest.h>
#include <iostream>
#include <libssh/libssh.h>

namespace fleetbox::guest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kTimeout = 120s; // TCG guests are slow; the numbers are printed, not asserted
constexpr const char* kVm = "e2e-guest";

class GuestVmTest : public test::VmTest {
protected:
    SshTarget target;
    test::ScratchDir dir;

    void SetUp() override {
        test::VmTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        auto up = test::run_fleetbox(root(), {"up", kVm});
        ASSERT_EQ(up.code, 0) << up;
        const std::string member = store_->member_dir(kVm);
        target.host = test::config_field(*store_, kVm, "ip");
        ASSERT_FALSE(target.host.empty()) << "no address in " << member << "/config.json";
        target.identity_path = root() + "/id_ed25519";
        target.known_hosts_path = member + "/known_hosts";
        target.vm_name = kVm;
    }
    void TearDown() override {
        if (store_)
            (void)test::run_fleetbox(root(), {"rm", "-f", kVm});
        test::VmTest::TearDown();
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
    void WaitForSshOnARunningGuest();
    void RunsCommands();
    void LargeOutput();
    void OneConnectionIsReusedAndCheaperThanNewLogins();
    void MismatchedHostKeyIsRefused();
    void UnknownHostIsRefused();
    [[nodiscard]] std::string host_field() const {
        return target.port == 22 ? target.host
                                 : "[" + target.host + "]:" + std::to_string(target.port);
    }
};

void GuestVmTest::WaitForSshOnARunningGuest() {
    auto seconds = wait_for_ssh(target, kTimeout);
    ASSERT_TRUE(seconds) << seconds.error().message();
    std::cout << "[ timing ] wait_for_ssh on a ready guest: " << *seconds << " s\n";
}

void GuestVmTest::RunsCommands() {
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

void GuestVmTest::LargeOutput() {
    auto session = SshSession::connect(target, 60s);
    ASSERT_TRUE(session) << session.error().message();
    auto t0 = Clock::now();
    auto big = session->exec("head -c 20000000 /dev/zero", kTimeout);
    double secs = seconds_since(t0);
    ASSERT_TRUE(big) << big.error().message();
    EXPECT_EQ(big->exit_code, 0);
    EXPECT_EQ(big->out.size(), 20'000'000u);
    std::cout << "[ timing ] 20 MB stdout: " << secs << " s (" << 20.0 / secs << " MB/s)\n";
}

void GuestVmTest::OneConnectionIsReusedAndCheaperThanNewLogins() {
    GuestShell shell(target, 60s);
    ASSERT_TRUE(shell.exec("true", kTimeout)); // the login itself is not timed below
    auto t0 = Clock::now();
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(shell.exec("true", kTimeout));
    double reused = seconds_since(t0);
    EXPECT_EQ(shell.logins(), 1);

    t0 = Clock::now();
    for (int i = 0; i < 10; ++i) {
        auto s = SshSession::connect(target, 60s);
        ASSERT_TRUE(s) << s.error().message();
        ASSERT_TRUE(s->exec("true", kTimeout));
    }
    double fresh = seconds_since(t0);
    std::cout << "[ timing ] 10 x `true`: one reused connection " << reused << " s (" << reused / 10
              << " s each); a new login each " << fresh << " s (" << fresh / 10 << " s each)\n";
}

void GuestVmTest::MismatchedHostKeyIsRefused() {
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

void GuestVmTest::UnknownHostIsRefused() {
    SshTarget t = target;
    t.known_hosts_path = wrong_known_hosts("192.0.2.1");
    auto s = SshSession::connect(t, 60s);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::Permission);
    EXPECT_NE(s.error().message().find("not listed"), std::string::npos) << s.error().message();
    std::cout << "[ guest ] " << s.error().message() << "\n";
}

TEST_F(GuestVmTest, SessionsShellsStreamsAndPinnedHostKeys) {
    {
        SCOPED_TRACE("WaitForSshOnARunningGuest");
        WaitForSshOnARunningGuest();
    }
    {
        SCOPED_TRACE("RunsCommands");
        RunsCommands();
    }
    {
        SCOPED_TRACE("LargeOutput");
        LargeOutput();
    }
    {
        SCOPED_TRACE("OneConnectionIsReusedAndCheaperThanNewLogins");
        OneConnectionIsReusedAndCheaperThanNewLogins();
    }
    {
        SCOPED_TRACE("MismatchedHostKeyIsRefused");
        MismatchedHostKeyIsRefused();
    }
    {
        SCOPED_TRACE("UnknownHostIsRefused");
        UnknownHostIsRefused();
    }
}

} // namespace
} // namespace fleetbox::guest
