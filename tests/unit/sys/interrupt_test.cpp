// Unit tests for sys/interrupt: after install_interrupt_handlers(), SIGINT/SIGTERM/SIGHUP set
// the flag (and record which signal) instead of killing the process; reset_interrupt() clears.
//
// Why: long operations poll interrupted() to clean up before exiting, and the CLI re-raises
// interrupt_signal() afterwards. Each test restores the previous dispositions.
#include "sys/interrupt.hpp"

#include <csignal>
#include <gtest/gtest.h>
#include <map>

namespace fleetbox {
namespace {

class Interrupt : public ::testing::Test {
protected:
    void SetUp() override {
        for (int sig : {SIGINT, SIGTERM, SIGHUP})
            ::sigaction(sig, nullptr, &saved_[sig]);
        reset_interrupt();
    }
    void TearDown() override {
        for (auto& [sig, sa] : saved_)
            ::sigaction(sig, &sa, nullptr);
        reset_interrupt();
    }
    std::map<int, struct sigaction> saved_;
};

TEST_F(Interrupt, InitiallyClear) {
    EXPECT_FALSE(interrupted());
    EXPECT_EQ(interrupt_signal(), 0);
}

TEST_F(Interrupt, SigintSetsFlag) {
    install_interrupt_handlers();
    ASSERT_FALSE(interrupted());
    ASSERT_EQ(::raise(SIGINT), 0);
    EXPECT_TRUE(interrupted());
    EXPECT_EQ(interrupt_signal(), SIGINT);
}

TEST_F(Interrupt, SigtermAndSighupAreRecorded) {
    install_interrupt_handlers();
    ASSERT_EQ(::raise(SIGTERM), 0);
    EXPECT_TRUE(interrupted());
    EXPECT_EQ(interrupt_signal(), SIGTERM);
    reset_interrupt();
    ASSERT_EQ(::raise(SIGHUP), 0);
    EXPECT_EQ(interrupt_signal(), SIGHUP);
}

TEST_F(Interrupt, ResetClears) {
    install_interrupt_handlers();
    ASSERT_EQ(::raise(SIGINT), 0);
    ASSERT_TRUE(interrupted());
    reset_interrupt();
    EXPECT_FALSE(interrupted());
    EXPECT_EQ(interrupt_signal(), 0);
    // The handler stays installed: a second signal sets the flag again.
    ASSERT_EQ(::raise(SIGINT), 0);
    EXPECT_TRUE(interrupted());
}

TEST_F(Interrupt, HandlerIsInstalledForAllThreeSignals) {
    install_interrupt_handlers();
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction sa {};
        ASSERT_EQ(::sigaction(sig, nullptr, &sa), 0);
        EXPECT_NE(sa.sa_handler, SIG_DFL) << sig;
        EXPECT_NE(sa.sa_handler, SIG_IGN) << sig;
    }
}

} // namespace
} // namespace fleetbox
