// Concurrency and interruption: two processes building the same alias produce one image
// (the second waits on the alias lock, then reuses it); Ctrl-C during a build kills the
// step's whole process tree and removes everything the build made.
#include "fake_tools.hpp"
#include "sys/interrupt.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <thread>

namespace fleetbox::image {
namespace {

using test_fakes::FakeEnv;
using ::testing::HasSubstr;

class ImageConcurrency : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* tool : {"mkfs.ext4", "qemu-img"})
            if (find_program(tool).empty())
                GTEST_SKIP() << tool << " is not installed";
    }
    FakeEnv env_;
};

// Build in a forked child; its result line ("<built_at> <disk sha256> <reused>") goes to `out`.
pid_t fork_build(const FakeEnv& env, const std::string& out) {
    pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    auto r = ImageCache(env.images()).ensure("debian-12", env.options());
    if (r)
        test::write_text(out, r->manifest.built_at + " " + r->manifest.files[0].sha256 + " " +
                                  (r->reused ? "reused" : "built"));
    else
        test::write_text(out, "error " + r.error().message());
    ::_exit(r ? 0 : 1);
}

int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(ImageConcurrency, TwoProcessesBuildOneImage) {
    test::ScopedEnv slow("FAKE_MMDEBSTRAP_SLEEP", "1");
    pid_t a = fork_build(env_, env_.file("a.out"));
    pid_t b = fork_build(env_, env_.file("b.out"));
    EXPECT_EQ(wait_exit(a), 0) << test::read_text(env_.file("a.out"));
    EXPECT_EQ(wait_exit(b), 0) << test::read_text(env_.file("b.out"));
    EXPECT_EQ(env_.runs(), 1);
    std::string ra = test::read_text(env_.file("a.out"));
    std::string rb = test::read_text(env_.file("b.out"));
    // Same manifest (built_at and disk hash); exactly one of them built.
    EXPECT_EQ(ra.substr(0, ra.rfind(' ')), rb.substr(0, rb.rfind(' ')));
    EXPECT_NE(ra.substr(ra.rfind(' ')), rb.substr(rb.rfind(' ')));
    EXPECT_EQ(env_.leftovers(), std::vector<std::string>{"debian-12"});
}

bool process_gone(pid_t pid) {
    for (int i = 0; i < 100; ++i) {
        std::string stat = test::read_text("/proc/" + std::to_string(pid) + "/stat");
        auto close = stat.rfind(')');
        if (stat.empty() || (close != std::string::npos && stat.substr(close + 2, 1) == "Z"))
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

TEST_F(ImageConcurrency, InterruptKillsTheStepAndLeavesNothing) {
    test::ScopedEnv slow("FAKE_MMDEBSTRAP_SLEEP", "30");
    reset_interrupt();
    install_interrupt_handlers();
    std::atomic<bool> done{false};
    std::thread interrupter([&] {
        // Wait until the fake mmdebstrap runs (its sleeping child wrote its pid), then Ctrl-C.
        while (!done && test::read_text(env_.child_pid_file()).empty())
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ::kill(::getpid(), SIGINT);
    });
    auto started = std::chrono::steady_clock::now();
    auto r = ImageCache(env_.images()).ensure("debian-12", env_.options());
    done = true;
    interrupter.join();
    auto took = std::chrono::steady_clock::now() - started;
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &dfl, nullptr);
    reset_interrupt();

    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Interrupted);
    EXPECT_THAT(r.error().message(), HasSubstr("interrupted while running mmdebstrap"));
    EXPECT_LT(took, std::chrono::seconds(25)); // did not wait for the 30 s sleep
    std::string child = test::read_text(env_.child_pid_file());
    ASSERT_FALSE(child.empty());
    EXPECT_TRUE(process_gone(std::stoi(child))) << "the step's grandchild survived";
    EXPECT_TRUE(env_.leftovers().empty()) << testing::PrintToString(env_.leftovers());
    EXPECT_THAT(test::read_text(ImageCache(env_.images()).log_path("debian-12")),
                HasSubstr("mmdebstrap interrupted"));
}

} // namespace
} // namespace fleetbox::image
