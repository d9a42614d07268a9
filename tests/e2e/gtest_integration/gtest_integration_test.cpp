// e2e: the GoogleTest integration (include/fleetbox/gtest.hpp) as a user's test binary sees
// it. The scenarios run in fleetbox-gtest-probe (probe_main.cpp), a child process of this
// test, inside this test's private network namespace and scratch store:
//  - a failing test prints the serial-log tail and the ssh command of its VM into its own
//    output, and its VM is destroyed afterwards; with FLEETBOX_KEEP_ON_FAILURE=1 the VM is
//    kept, outlives the probe, and is reachable (then this test removes it);
//  - a probe SIGKILLed mid-test leaves no QEMU, helper, bridge, tap or nftables table behind
//    within 5 s (a bounded wait, not a timing assertion);
//  - without QEMU on PATH the test is skipped with the reason.
#include "e2e/vm/e2e_fixture.hpp"

#include <csignal>
#include <fleetbox/fleetbox.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

struct ProbeRun {
    int code = -1; // exit code, -1 when killed or not run
    std::string out;
};

std::ostream& operator<<(std::ostream& os, const ProbeRun& r) {
    return os << "exit " << r.code << "\n--- probe output ---\n" << r.out;
}

// The text after "<key> " on the first line that starts with it.
std::string value_after(const std::string& text, const std::string& key) {
    auto lines = lines_starting(text, key + " ");
    return lines.empty() ? std::string() : lines.front().substr(key.size() + 1);
}

class Probe {
public:
    // Starts fleetbox-gtest-probe --gtest_filter=Probe.<name>, output (stdout and stderr) to
    // a file in `dir`.
    Probe(const std::string& dir, const std::string& name, std::vector<std::string> env) {
        log_ = dir + "/probe-" + name + ".out";
        Fd out(::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        ChildSpec spec;
        spec.argv = {built("tests/fleetbox-gtest-probe"), "--gtest_also_run_disabled_tests",
                     "--gtest_filter=Probe.DISABLED_" + name};
        spec.env_set = std::move(env);
        spec.out = spec.err = Stream::File;
        spec.out_file = spec.err_file = out.get();
        auto child = ChildProcess::spawn(spec);
        if (child)
            child_.emplace(std::move(*child));
        else
            error_ = child.error().message();
    }

    [[nodiscard]] std::string output() const { return read_file(log_).value_or(error_); }

    // Waits (bounded) for a line starting with `key`; its value, or "" when the probe ended or
    // the bound passed first.
    std::string wait_for(const std::string& key, std::chrono::seconds bound) {
        auto deadline = std::chrono::steady_clock::now() + bound;
        while (child_ && std::chrono::steady_clock::now() < deadline) {
            if (auto v = value_after(output(), key); !v.empty())
                return v;
            if (child_->try_wait())
                return value_after(output(), key);
            std::this_thread::sleep_for(200ms);
        }
        return {};
    }

    ProbeRun finish(std::chrono::seconds bound) {
        ProbeRun run;
        if (child_) {
            auto status = child_->wait(bound);
            if (status)
                run.code = status->code;
            else
                child_->kill();
        }
        run.out = output();
        return run;
    }

    void kill() {
        if (child_)
            child_->kill(); // SIGKILL, then reaped
    }

private:
    std::string log_;
    std::string error_;
    std::optional<ChildProcess> child_;
};

class GtestIntegration : public VmTest {
protected:
    [[nodiscard]] std::vector<std::string> env() const { return {"FLEETBOX_HOME=" + root()}; }
};

// (a) + (b): one failing test without and then with FLEETBOX_KEEP_ON_FAILURE.
TEST_F(GtestIntegration, FailedTestShowsTheSerialTailThenDestroysOrKeeps) {
    {
        SCOPED_TRACE("a failed test: serial-log tail and ssh command in its output, VM gone");
        Probe probe(root(), "FailsWithAVm", env());
        ProbeRun run = probe.finish(900s);
        EXPECT_EQ(run.code, 1) << run;
        std::string name = value_after(run.out, "probe-vm");
        ASSERT_FALSE(name.empty()) << run;
        const std::string head = "[ fleetbox ] --- serial console of " + name;
        auto at_head = run.out.find(head);
        auto at_end = run.out.find("[ fleetbox ] --- end of serial console of " + name);
        auto at_failed = run.out.find("[  FAILED  ] Probe.DISABLED_FailsWithAVm");
        ASSERT_NE(at_head, std::string::npos) << run;
        ASSERT_NE(at_end, std::string::npos) << run;
        ASSERT_NE(at_failed, std::string::npos) << run;
        EXPECT_LT(at_end, at_failed) << "the tail belongs to the failed test's output\n" << run;
        // The tail holds the guest's console lines: the image's boot-stage markers (the
        // kernel boots "quiet") up to sshd.
        std::string tail = run.out.substr(at_head, at_end - at_head);
        EXPECT_FALSE(lines_starting(tail, "[ fleetbox ] | ").empty()) << tail;
        EXPECT_THAT(tail, HasSubstr("[ fleetbox ] | fleetbox: stage=sshd")) << tail;
        EXPECT_THAT(run.out, HasSubstr("[ fleetbox ] ssh to " + name + ": ssh -i "));
        EXPECT_THAT(run.out, HasSubstr("StrictHostKeyChecking=yes"));
        EXPECT_THAT(run.out, HasSubstr(" fleetbox@"));
        EXPECT_THAT(run.out, HasSubstr("deliberate failure"));
        EXPECT_THAT(run.out, Not(HasSubstr("kept VM"))) << run;
        EXPECT_FALSE(path_exists(store_->member_dir(name))) << "destroyed, disk and all";
        expect_nothing_left(60s);
    }
    {
        SCOPED_TRACE("FLEETBOX_KEEP_ON_FAILURE=1: the VM outlives the probe");
        auto env_keep = env();
        env_keep.push_back("FLEETBOX_KEEP_ON_FAILURE=1");
        Probe probe(root(), "FailsWithAVm", env_keep);
        ProbeRun run = probe.finish(900s);
        EXPECT_EQ(run.code, 1) << run;
        std::string name = value_after(run.out, "probe-vm");
        ASSERT_FALSE(name.empty()) << run;
        EXPECT_THAT(run.out, HasSubstr("[ fleetbox ] --- serial console of " + name));
        EXPECT_THAT(run.out, HasSubstr("kept VM " + name));
        EXPECT_THAT(run.out, HasSubstr("FLEETBOX_HOME=" + root() + " fleetbox ssh " + name));
        EXPECT_THAT(run.out, HasSubstr("network namespace")) << "this test runs in its own";

        // Still running after the probe exited, and reachable as usual.
        auto listed = run_fleetbox(root(), {"ls", "-o", "json"});
        EXPECT_THAT(listed.out, HasSubstr(name)) << listed;
        EXPECT_THAT(listed.out, HasSubstr("\"running\"")) << listed;
        {
            Options opts;
            opts.store_root = root();
            auto vm = fleetbox::start(name, opts); // attaches to the running VM
            ASSERT_TRUE(vm) << vm.error().message();
            auto hostname = vm->ssh("hostname");
            ASSERT_TRUE(hostname) << hostname.error().message();
            EXPECT_EQ(hostname->out, name + "\n");
        } // an attached handle going away leaves the VM running
        auto cli_ssh = run_fleetbox(root(), {"ssh", name, "--", "hostname"});
        EXPECT_EQ(cli_ssh.code, 0) << cli_ssh;
        EXPECT_EQ(cli_ssh.out, name + "\n") << cli_ssh;
        EXPECT_EQ(store_processes(root()).size(), 2u) << "one helper and one QEMU";
        auto down = run_fleetbox(root(), {"down", name});
        EXPECT_EQ(down.code, 0) << down;
        expect_nothing_left(60s); // the kept helper exits with its last member
        auto removed = run_fleetbox(root(), {"rm", "-f", name});
        EXPECT_EQ(removed.code, 0) << removed;
        EXPECT_FALSE(path_exists(store_->member_dir(name)));
    }
}

// (c) SIGKILL mid-test: everything bound to the probe goes within 5 s.
TEST_F(GtestIntegration, KilledTestBinaryLeavesNothingBehind) {
    Probe probe(root(), "KilledMidTest", env());
    std::string name = probe.wait_for("probe-ready", 900s);
    ASSERT_FALSE(name.empty()) << probe.output();
    ASSERT_EQ(store_processes(root()).size(), 2u) << "one helper and one QEMU";
    ASSERT_TRUE(any_contains(net_links(), "fbx")) << ::testing::PrintToString(net_links());

    probe.kill();
    auto deadline = std::chrono::steady_clock::now() + 5s;
    auto clean = [&] {
        return store_processes(root()).empty() && net_links() == std::vector<std::string>{"lo"} &&
               !any_contains(nft_tables(), "fbx_");
    };
    while (!clean() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(store_processes(root()).empty()) << "a QEMU or helper outlived the test binary";
    EXPECT_EQ(net_links(), std::vector<std::string>{"lo"}) << "bridge or tap left";
    EXPECT_FALSE(any_contains(nft_tables(), "fbx_")) << ::testing::PrintToString(nft_tables());
    expect_nothing_left(60s); // records too (and a failure above is not left running)
}

// (d) No QEMU on PATH: skipped with the reason, not failed.
TEST(GtestIntegrationSkip, NoQemuMeansSkippedWithTheReason) {
    ChildSpec spec;
    spec.argv = {built("tests/fleetbox-gtest-probe"), "--gtest_also_run_disabled_tests",
                 "--gtest_filter=Probe.DISABLED_SkipsWithoutQemu"};
    spec.env_set = {"PATH=/nonexistent"};
    spec.out = spec.err = Stream::Capture;
    auto run = run_command(spec, std::chrono::seconds(60));
    ASSERT_TRUE(run) << run.error().message();
    EXPECT_EQ(run->status.code, 0) << run->out << run->err;
    EXPECT_THAT(run->out, HasSubstr("[  SKIPPED ] Probe.DISABLED_SkipsWithoutQemu")) << run->out;
    EXPECT_THAT(run->out, HasSubstr("host cannot boot a VM")) << run->out;
    EXPECT_THAT(run->out, HasSubstr("qemu-system-x86_64 is not installed")) << run->out;
}

} // namespace
} // namespace fleetbox::test
