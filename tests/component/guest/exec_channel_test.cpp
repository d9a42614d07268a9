// ExecChannel against the in-process SSH server (fake_sshd.hpp): stdin and stdout as streams,
// stderr and the exit status at finish, and the three ways a stream is cut short (deadline,
// the caller's stop_token, a command that ends without reading its input).
#include "component/guest/fake_sshd.hpp"
#include "guest/guest_shell.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <thread>

namespace fleetbox::guest {
namespace {

using namespace std::chrono_literals;

class ExecChannelTest : public ::testing::Test {
protected:
    test::ScratchDir dir;
    test::TestKey host_key{dir.file("host_key")};
    test::TestKey client_key{dir.file("id_ed25519")};
    test::FakeSshd server{host_key, client_key, dir.path()};
    std::optional<GuestShell> shell;

    void SetUp() override {
        test::write_text(dir.file("known_hosts"), "[127.0.0.1]:" + std::to_string(server.port()) +
                                                      " " + host_key.public_line() + "\n");
        SshTarget t;
        t.vm_name = "web";
        t.host = "127.0.0.1";
        t.port = server.port();
        t.identity_path = client_key.path();
        t.known_hosts_path = dir.file("known_hosts");
        shell.emplace(t, 10s);
    }
};

TEST_F(ExecChannelTest, StreamsBothWays) {
    std::string data(5 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 7);
    std::string echoed;
    ExecResult result;
    auto st = shell->stream("cat; echo done >&2; exit 3", {}, [&](ExecChannel& ch) -> Status {
        for (std::size_t off = 0; off < data.size(); off += 100000)
            FBX_CHECK(ch.write(std::string_view(data).substr(off, 100000)));
        FBX_CHECK(ch.send_eof());
        char buf[65536];
        for (;;) {
            auto n = FBX_TRY(ch.read(buf, sizeof buf));
            if (n == 0)
                break;
            echoed.append(buf, n);
        }
        result = FBX_TRY(ch.finish());
        return {};
    });
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_TRUE(echoed == data) << echoed.size() << " bytes back of " << data.size();
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_EQ(result.err, "done\n");
    // The connection stays usable for the next command.
    auto again = shell->exec("echo ok", 10s);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->out, "ok\n");
}

TEST_F(ExecChannelTest, DeadlineAndCancellation) {
    StreamLimits limits;
    limits.timeout = 500ms;
    auto timed = shell->stream("sleep 30", limits, [&](ExecChannel& ch) -> Status {
        FBX_CHECK(ch.send_eof());
        return ch.finish().map([](auto&&) {});
    });
    ASSERT_FALSE(timed);
    EXPECT_EQ(timed.error().kind, ErrorKind::Timeout) << timed.error().message();

    std::stop_source stop;
    std::thread canceller([&] {
        std::this_thread::sleep_for(300ms);
        stop.request_stop();
    });
    StreamLimits cancellable;
    cancellable.cancel = stop.get_token();
    auto cancelled = shell->stream("sleep 30", cancellable, [&](ExecChannel& ch) -> Status {
        FBX_CHECK(ch.send_eof());
        char buf[16];
        return ch.read(buf, sizeof buf).map([](auto) {});
    });
    canceller.join();
    ASSERT_FALSE(cancelled);
    EXPECT_EQ(cancelled.error().kind, ErrorKind::Interrupted) << cancelled.error().message();
}

} // namespace
} // namespace fleetbox::guest
