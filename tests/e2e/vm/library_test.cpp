// e2e: the public library API (fleetbox::start / Vm) against a real VM, and the bound
// lifetime: a VM lives exactly as long as the process that started it, even when that
// process is killed with SIGKILL (the helper sees its bind connection reach EOF, stops QEMU,
// removes the network and exits).
//
// The helper is the built real one (FLEETBOX_HELPER), the store a scratch directory
// (Options::store_root), everything inside the test's private network namespace.
#include "e2e/vm/library_fixture.hpp"
#include "store/store.hpp"
#include "sys/fd.hpp"
#include "util/clock.hpp"

#include <fleetbox/fleetbox.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

class LibraryVm : public LibraryVmTest {};

TEST_F(LibraryVm, StartSshDestroy) {
    std::vector<std::string> log;
    auto opts = small_vm_options();
    opts.log = [&](const std::string& line) { log.push_back(line); };
    auto vm = fleetbox::start("e2e-lib", opts);
    ASSERT_TRUE(vm) << vm.error().message() << " (" << vm.error().hint << ")";
    EXPECT_EQ(vm->name(), "e2e-lib");
    EXPECT_FALSE(vm->ip().empty());
    EXPECT_EQ(vm->state(), "running");
    EXPECT_FALSE(vm->timings().empty());

    auto uname = vm->ssh("uname -a");
    ASSERT_TRUE(uname) << uname.error().message();
    EXPECT_EQ(uname->exit_code, 0);
    EXPECT_THAT(uname->out, StartsWith("Linux "));

    auto streams = vm->ssh("echo out; echo err >&2; exit 3");
    ASSERT_TRUE(streams) << streams.error().message();
    EXPECT_EQ(streams->exit_code, 3);
    EXPECT_EQ(streams->out, "out\n");
    EXPECT_EQ(streams->err, "err\n");

    // Several calls over the one reused connection.
    for (int i = 0; i < 10; ++i) {
        auto echo = vm->ssh("echo " + std::to_string(i));
        ASSERT_TRUE(echo) << echo.error().message();
        EXPECT_EQ(echo->exit_code, 0);
        EXPECT_EQ(echo->out, std::to_string(i) + "\n");
    }

    // A command that outlives its timeout is an error; the VM stays usable afterwards.
    auto slow = vm->ssh("sleep 60", 2s);
    ASSERT_FALSE(slow);
    EXPECT_EQ(slow.error().kind, ErrorKind::Timeout) << slow.error().message();
    auto after = vm->ssh("hostname");
    ASSERT_TRUE(after) << after.error().message();
    EXPECT_EQ(after->out, "e2e-lib\n");

    // The helper's network record names the VM's tap and the QEMU running on it.
    const auto records = network_records();
    ASSERT_EQ(records.size(), 1u);
    ASSERT_EQ(records[0]["taps"].size(), 1u) << records[0].dump();
    const int qemu_pid = records[0]["taps"][0]["qemu_pid"].get<int>();
    EXPECT_GT(qemu_pid, 0) << records[0].dump();
    EXPECT_TRUE(path_exists("/proc/" + std::to_string(qemu_pid))) << records[0].dump();

    // stop(): the handle unbinds, so the helper stops QEMU, removes the network and exits on
    // its bind connection's EOF (this process is alive: the parent-pid backstop cannot fire).
    std::string helper_log = store_->member_dir("e2e-lib") + "/helper.log";
    auto stopped = vm->stop();
    ASSERT_TRUE(stopped) << stopped.error().message();
    EXPECT_EQ(vm->state(), "stopped");
    expect_nothing_left(10s); // stop() returned after the bound helper exited
    EXPECT_THAT(read_text(helper_log),
                HasSubstr("shutting down: the bound client closed its connection"));
    EXPECT_TRUE(path_exists(store_->member_dir("e2e-lib") + "/disk.qcow2"))
        << "stop keeps the disk";

    auto destroyed = vm->destroy();
    ASSERT_TRUE(destroyed) << destroyed.error().message();
    auto store = Store::open(root());
    ASSERT_TRUE(store) << store.error().message();
    EXPECT_FALSE(store->exists("e2e-lib"));
    EXPECT_FALSE(path_exists(store_->member_dir("e2e-lib")));
    EXPECT_TRUE(vm->destroy()) << "destroy() is idempotent";
}

// In the forked child: start the VM, report "ready <ip>" (or "error <message>") on `report`,
// then block until killed. Never returns.
[[noreturn]] void start_and_block(const Options& opts, int report) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the test
    auto vm = fleetbox::start("e2e-bound", opts);
    std::string line = vm ? "ready " + vm->ip() + "\n" : "error " + vm.error().message() + "\n";
    (void)!::write(report, line.data(), line.size());
    while (true)
        ::pause();
}

// Lines of `text` containing `needle`.
std::vector<std::string> lines_containing(const std::string& text, const std::string& needle) {
    std::vector<std::string> found;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos)
            found.push_back(line);
    return found;
}

// Reads one line from `fd`, waiting up to `bound`.
std::string read_line(int fd, std::chrono::seconds bound) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + bound;
    char c = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0)
            continue;
        if (::read(fd, &c, 1) != 1)
            break;
        if (c == '\n')
            return line;
        line += c;
    }
    return line;
}

TEST_F(LibraryVm, KilledClientTakesItsVmAlong) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    Fd read_end(fds[0]), write_end(fds[1]);
    auto opts = small_vm_options();
    pid_t child = ::fork(); // the test process has no other threads here
    ASSERT_GE(child, 0);
    if (child == 0)
        start_and_block(opts, write_end.get());
    write_end.reset();

    std::string line = read_line(read_end.get(), 900s);
    if (line.rfind("ready ", 0) != 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        FAIL() << "the child did not start the VM: " << line;
    }
    EXPECT_EQ(store_processes(root()).size(), 2u) << "one helper and one QEMU";
    auto listed = run_fleetbox(root(), {"ls", "-o", "json"});
    EXPECT_THAT(listed.out, HasSubstr("\"running\"")) << listed;
    EXPECT_TRUE(any_contains(net_links(), "fbx")) << ::testing::PrintToString(net_links());

    ASSERT_EQ(::kill(child, SIGKILL), 0);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    auto t0 = std::chrono::steady_clock::now();
    // Bound, client gone: QMP quit at once (no powerdown: nobody waits for the guest, ADR
    // 0020) plus network teardown. A correctness bound, not a benchmark.
    expect_nothing_left(150s);
    std::cout << "[ info ] helper and QEMU gone " << seconds_since(t0)
              << " s after the client was killed\n";
    // Either lifeline may notice first (EOF is immediate, the parent poll runs every second).
    std::string helper_log = read_text(store_->member_dir("e2e-bound") + "/helper.log");
    for (const auto& reason : lines_containing(helper_log, "shutting down: "))
        std::cout << "[ info ] helper: " << reason << "\n";
    EXPECT_THAT(helper_log,
                ::testing::AnyOf(HasSubstr("shutting down: the bound client closed its connection"),
                                 HasSubstr("shutting down: parent process")));
    auto after = run_fleetbox(root(), {"ls", "-o", "json"});
    EXPECT_THAT(after.out, HasSubstr("\"stopped\"")) << after;
}

} // namespace
} // namespace fleetbox::test
