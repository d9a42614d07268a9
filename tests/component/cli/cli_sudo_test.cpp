// Component: the fleetbox CLI run the way sudo runs it: as root with SUDO_USER=nobody (uid
// 65534) and FLEETBOX_HOME a store of that user. It must drop to the user for its whole run
// (real and effective uid 65534, saved uid 0): what it creates in the store belongs to
// nobody, with owner-only modes; and it must still start fleetbox-helper as root (the child
// regains root). A store of another user is refused with one line. Plain root without sudo
// (CI) keeps a root-owned store.
//
// The helper is a root-owned wrapper script around the test-only fake helper: it writes its
// own uids and its parent's (the CLI's) /proc status line into a root-only directory, then
// execs the fake, whose --reconcile mode prints an empty report. Nothing touches a network;
// the test still runs in a private network namespace like every CLI test as root.
#include "e2e/vm/e2e_fixture.hpp"
#include "support/test_support.hpp"
#include "util/strings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;

constexpr uid_t kNobody = 65534;

struct stat stat_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st;
}

class CliUnderSudo : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root to act as sudo";
        if (::getpwnam("nobody") == nullptr || ::getpwnam("nobody")->pw_uid != kNobody)
            GTEST_SKIP() << "no user nobody with uid 65534";
        auto why = enter_private_netns();
        ASSERT_TRUE(why.empty()) << why;
        store_ = std::make_unique<ScratchStore>();
        ASSERT_EQ(::chown(root().c_str(), kNobody, kNobody), 0);
        // Root-owned and only root-writable, like an installed helper: the wrapper and the
        // record it writes live here, out of the user's reach.
        ASSERT_EQ(::chmod(tools_.path().c_str(), 0755), 0);
        ASSERT_EQ(::mkdir(private_dir().c_str(), 0700), 0);
        write_text(helper(),
                   "#!/bin/sh\n"
                   "{ id -u; id -ru; grep '^Uid:' /proc/$PPID/status; } > '" +
                       record() + "'\nexec '" + built("tests/fleetbox-helper-fake") + "' \"$@\"\n",
                   0755);
    }
    void TearDown() override {
        if (store_) {
            EXPECT_TRUE(wait_no_store_processes(root(), std::chrono::seconds(10)))
                << "a helper was left running";
        }
        store_.reset();
    }
    [[nodiscard]] const std::string& root() const { return store_->root(); }
    [[nodiscard]] std::string private_dir() const { return tools_.path() + "/private"; }
    [[nodiscard]] std::string helper() const { return tools_.path() + "/fleetbox-helper"; }
    [[nodiscard]] std::string record() const { return private_dir() + "/record"; }

    CliRun sudo_fleetbox(const std::vector<std::string>& args) {
        CliOptions options;
        options.env_set = {"SUDO_USER=nobody", "SUDO_UID=65534", "SUDO_GID=65534", "HOME=/root",
                           "FLEETBOX_HELPER=" + helper()};
        options.timeout = std::chrono::seconds(60);
        return run_fleetbox(root(), args, options);
    }

    ScratchDir tools_;
    std::unique_ptr<ScratchStore> store_;
};

TEST_F(CliUnderSudo, WhatItCreatesBelongsToTheUserAndIsOwnerOnly) {
    ASSERT_EQ(::chmod(root().c_str(), 0755), 0); // as an older fleetbox left it
    auto ls = sudo_fleetbox({"ls"});
    ASSERT_EQ(ls.code, 0) << ls;
    for (const char* rel : {"", "/clusters", "/images", "/run"}) {
        auto st = stat_of(root() + rel);
        EXPECT_EQ(st.st_uid, kNobody) << rel;
        EXPECT_EQ(st.st_gid, kNobody) << rel;
        EXPECT_EQ(st.st_mode & 07777, 0700U) << rel;
    }
}

TEST_F(CliUnderSudo, RunsAsTheUserAndStartsTheHelperAsRoot) {
    auto prune = sudo_fleetbox({"prune", "--dry-run"});
    ASSERT_EQ(prune.code, 0) << prune;
    EXPECT_THAT(prune.out, HasSubstr("Nothing to reclaim"));
    auto lines = split(read_file(record()).value_or(""), '\n');
    ASSERT_GE(lines.size(), 3U) << "the helper did not run";
    EXPECT_EQ(lines[0], "0") << "the helper's effective uid";
    EXPECT_EQ(lines[1], "0") << "the helper's real uid";
    // The CLI: real, effective, saved, filesystem uid.
    EXPECT_EQ(lines[2], "Uid:\t65534\t65534\t0\t65534");
    auto st = stat_of(root() + "/run");
    EXPECT_EQ(st.st_uid, kNobody);
}

TEST_F(CliUnderSudo, AStoreOfAnotherUserIsRefused) {
    ASSERT_EQ(::chown(root().c_str(), 0, 0), 0);
    auto ls = sudo_fleetbox({"ls"});
    EXPECT_EQ(the_error(ls), "error: use the fleetbox store " + root() +
                                 ": it belongs to root (uid 0), not to nobody (uid 65534) who "
                                 "runs fleetbox");
    EXPECT_THAT(ls.err, HasSubstr("hint: set FLEETBOX_HOME to a directory you own"));
    EXPECT_FALSE(path_exists(root() + "/clusters")) << "nothing is created in it";
}

TEST_F(CliUnderSudo, PlainRootKeepsARootStore) {
    ASSERT_EQ(::chown(root().c_str(), 0, 0), 0);
    CliOptions options;
    options.env_unset = {"SUDO_USER", "SUDO_UID", "SUDO_GID"};
    options.env_set = {"FLEETBOX_HELPER=" + helper()};
    options.timeout = std::chrono::seconds(60);
    auto prune = run_fleetbox(root(), {"prune", "--dry-run"}, options);
    ASSERT_EQ(prune.code, 0) << prune;
    auto lines = split(read_file(record()).value_or(""), '\n');
    ASSERT_GE(lines.size(), 3U);
    EXPECT_EQ(lines[2], "Uid:\t0\t0\t0\t0");
    auto st = stat_of(root() + "/clusters");
    EXPECT_EQ(st.st_uid, 0U);
    EXPECT_EQ(st.st_mode & 07777, 0700U);
}

} // namespace
} // namespace fleetbox::test
