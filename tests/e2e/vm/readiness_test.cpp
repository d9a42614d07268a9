// e2e: readiness waits and stoppable commands on one real VM (issue 10 item 3, ADR 0018).
//
// One boot serves every check (CI time is a budget): wait_for_port (open, closed, opened
// later), wait_for_file, wait_for_unit (active, started later, failed), wait_until, and
// Vm::ssh with ExecOptions: a timeout or a cancellation from another thread kills the remote
// command together with its children (pgrep finds none afterwards) and the handle keeps
// working; stdin input; as_root. The guest tools used (nc from netcat-openbsd, setsid,
// pgrep, systemd-run) are in the debian-12 recipe (src/image/catalog.json).
#include "e2e/vm/library_fixture.hpp"

#include <fleetbox/fleetbox.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <iostream>
#include <stop_token>
#include <thread>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class ReadinessVm : public LibraryVmTest {};

// Runs `command` in the guest and requires exit 0; returns stdout.
std::string must(Vm& vm, const std::string& command) {
    return guest_out(vm, command, 120s);
}

// Exit status of `pgrep -f PATTERN` as root: 1 = no such process. The pattern is written
// so that it does not match the command lines of the shells running pgrep itself.
int pgrep(Vm& vm, const std::string& pattern) {
    ExecOptions o;
    o.as_root = true;
    o.timeout = 120s;
    auto r = vm.ssh("pgrep -af '" + pattern + "'", o);
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    if (r && r->exit_code == 0)
        ADD_FAILURE() << "still running:\n" << r->out;
    return r ? r->exit_code : -1;
}

TEST_F(ReadinessVm, WaitsAndStoppableCommands) {
    auto vm = fleetbox::start("e2e-ready", small_vm_options());
    ASSERT_TRUE(vm) << vm.error().message() << " (" << vm.error().hint << ")";

    {
        SCOPED_TRACE("wait_for_port: sshd's port is open");
        auto r = vm->wait_for_port(22, 60s);
        EXPECT_TRUE(r) << r.error().message();
    }
    {
        SCOPED_TRACE("wait_for_port: a closed port times out, naming the last observation");
        auto r = vm->wait_for_port(8081, 2s);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::Timeout) << r.error().message();
        EXPECT_THAT(r.error().message(), HasSubstr("TCP port 8081 on VM e2e-ready"));
        EXPECT_THAT(r.error().message(), HasSubstr("last check: Connection refused"));
        std::cout << "[ info ] " << r.error().message() << "\n";
    }
    {
        SCOPED_TRACE("wait_for_port: a listener started later is seen");
        must(*vm, "setsid -f sh -c 'sleep 3; exec nc -lk 8080' </dev/null >/dev/null 2>&1");
        auto r = vm->wait_for_port(8080, 120s);
        EXPECT_TRUE(r) << r.error().message();
    }
    {
        SCOPED_TRACE("wait_for_port: bad input is refused before anything is sent");
        auto r = vm->wait_for_port(70000, 1s);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    }
    {
        SCOPED_TRACE("wait_for_file: created after a delay, also where only root can look");
        must(*vm, "setsid -f sh -c 'sleep 2; touch /tmp/fbx-late-file' </dev/null >/dev/null "
                  "2>&1; sudo -n setsid -f sh -c 'sleep 2; touch /root/fbx-root-file' "
                  "</dev/null >/dev/null 2>&1");
        auto r = vm->wait_for_file("/tmp/fbx-late-file", 120s);
        EXPECT_TRUE(r) << r.error().message();
        auto root_file = vm->wait_for_file("/root/fbx-root-file", 120s);
        EXPECT_TRUE(root_file) << root_file.error().message();
        auto missing = vm->wait_for_file("/tmp/never there", 5s);
        ASSERT_FALSE(missing);
        EXPECT_EQ(missing.error().kind, ErrorKind::Timeout);
        EXPECT_THAT(missing.error().message(), HasSubstr("last check: it does not exist"));
        auto relative = vm->wait_for_file("tmp/x", 1s);
        ASSERT_FALSE(relative);
        EXPECT_EQ(relative.error().kind, ErrorKind::InvalidArgument);
    }
    {
        SCOPED_TRACE("wait_for_unit: active, started later, failed");
        auto ssh_unit = vm->wait_for_unit("ssh.service", 60s);
        EXPECT_TRUE(ssh_unit) << ssh_unit.error().message();
        must(*vm, "sudo -n systemd-run --quiet --on-active=3 --unit=fbx-late sleep 600");
        auto late = vm->wait_for_unit("fbx-late", 120s);
        EXPECT_TRUE(late) << late.error().message();
        // A oneshot: systemd-run returns once it ended (failed), so the unit is "failed" now.
        (void)vm->ssh("sudo -n systemd-run --quiet --unit=fbx-bad -p Type=oneshot sh -c "
                      "'echo fbx-bad-says-goodbye; exit 3'",
                      120s);
        auto bad = vm->wait_for_unit("fbx-bad", 120s);
        ASSERT_FALSE(bad);
        EXPECT_EQ(bad.error().kind, ErrorKind::ExternalCommand) << bad.error().message();
        EXPECT_THAT(bad.error().message(), HasSubstr("the unit is failed"));
        EXPECT_THAT(bad.error().message(), HasSubstr("fbx-bad-says-goodbye"));
        std::cout << "[ info ] " << bad.error().message() << "\n";
        auto evil = vm->wait_for_unit("ssh; touch /tmp/pwned", 1s);
        ASSERT_FALSE(evil);
        EXPECT_EQ(evil.error().kind, ErrorKind::InvalidArgument);
    }
    {
        SCOPED_TRACE("wait_until: succeeds later; a timeout quotes the last exit and stderr");
        must(*vm, "setsid -f sh -c 'sleep 2; touch /tmp/fbx-until' </dev/null >/dev/null 2>&1");
        auto r = vm->wait_until("test -e /tmp/fbx-until", 120s);
        EXPECT_TRUE(r) << r.error().message();
        auto never = vm->wait_until("echo not yet >&2; exit 4", 5s);
        ASSERT_FALSE(never);
        EXPECT_EQ(never.error().kind, ErrorKind::Timeout);
        EXPECT_THAT(never.error().message(), HasSubstr("last check: exit 4: not yet"));
        std::cout << "[ info ] " << never.error().message() << "\n";
    }
    {
        SCOPED_TRACE("ssh timeout kills the command and its children");
        ExecOptions o;
        o.timeout = 3s;
        auto r = vm->ssh("sh -c 'sleep 301 & sleep 301; wait'", o);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::Timeout) << r.error().message();
        EXPECT_THAT(r.error().message(), HasSubstr("process group was killed"));
        std::cout << "[ info ] " << r.error().message() << "\n";
        EXPECT_EQ(pgrep(*vm, "sleep 30[1]"), 1);
    }
    {
        SCOPED_TRACE("ssh timeout as root kills root's processes too");
        ExecOptions o;
        o.timeout = 3s;
        o.as_root = true;
        auto r = vm->ssh("sleep 302 & sleep 302; wait", o);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::Timeout) << r.error().message();
        EXPECT_EQ(pgrep(*vm, "sleep 30[2]"), 1);
    }
    {
        SCOPED_TRACE("ssh cancelled from another thread");
        std::stop_source source;
        std::jthread canceller([&] {
            std::this_thread::sleep_for(3s);
            source.request_stop();
        });
        ExecOptions o;
        o.cancel = source.get_token();
        auto r = vm->ssh("sh -c 'sleep 303 & sleep 303; wait'", o);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::Interrupted) << r.error().message();
        EXPECT_THAT(r.error().message(), HasSubstr("cancelled by the caller"));
        std::cout << "[ info ] " << r.error().message() << "\n";
        EXPECT_EQ(pgrep(*vm, "sleep 30[3]"), 1);
    }
    {
        SCOPED_TRACE("the same handle still runs commands; input; as_root; exit codes");
        EXPECT_EQ(must(*vm, "echo alive"), "alive\n");
        ExecOptions in;
        in.input = "hello\nworld\n";
        auto cat = vm->ssh("cat", in);
        ASSERT_TRUE(cat) << cat.error().message();
        EXPECT_EQ(cat->out, "hello\nworld\n");
        in.input = std::string(3 * 1024 * 1024, 'x'); // more than one SSH window
        auto wc = vm->ssh("wc -c", in);
        ASSERT_TRUE(wc) << wc.error().message();
        EXPECT_EQ(wc->out, std::to_string(3 * 1024 * 1024) + "\n");
        ExecOptions root;
        root.as_root = true;
        auto id = vm->ssh("id -u", root);
        ASSERT_TRUE(id) << id.error().message();
        EXPECT_EQ(id->out, "0\n") << id->err;
        EXPECT_EQ(must(*vm, "id -u"), "1000\n");
        auto code = vm->ssh("echo out; echo err >&2; exit 5", ExecOptions{});
        ASSERT_TRUE(code) << code.error().message();
        EXPECT_EQ(code->exit_code, 5);
        EXPECT_EQ(code->out, "out\n");
        EXPECT_EQ(code->err, "err\n");
        auto sig = vm->ssh("kill -TERM $$", ExecOptions{});
        ASSERT_TRUE(sig) << sig.error().message();
        EXPECT_EQ(sig->exit_code, 128 + SIGTERM);
    }

    auto destroyed = vm->destroy();
    ASSERT_TRUE(destroyed) << destroyed.error().message();
    expect_nothing_left(60s);
}

} // namespace
} // namespace fleetbox::test
