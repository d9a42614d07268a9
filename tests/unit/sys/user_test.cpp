// Unit tests for sys/user: invoking_user() and sudo_user() with and without SUDO_USER, as root and
// (in a forked child that drops to "nobody") as an ordinary user.
//
// Why: under sudo the store and SSH key must live in, and belong to, the real user's home;
// without sudo $HOME wins so tests and CI can point fleetbox elsewhere.
#include "support/test_support.hpp"
#include "sys/user.hpp"

#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;

// A non-root account from the passwd database ("nobody" or "daemon"), or nullptr.
const passwd* other_user() {
    for (const char* name : {"nobody", "daemon"})
        if (const passwd* pw = ::getpwnam(name); pw && pw->pw_uid != 0)
            return pw;
    return nullptr;
}

TEST(InvokingUser, WithoutSudoUsesCurrentUidAndHome) {
    test::ScopedEnv sudo("SUDO_USER", std::nullopt);
    test::ScopedEnv home("HOME", "/some/where/else");
    auto u = invoking_user();
    ASSERT_TRUE(u) << u.error().message();
    EXPECT_EQ(u->uid, ::geteuid());
    EXPECT_EQ(u->gid, ::getegid());
    EXPECT_EQ(u->home, "/some/where/else");
    const passwd* pw = ::getpwuid(::geteuid());
    if (pw) {
        EXPECT_EQ(u->name, pw->pw_name);
    }
}

TEST(InvokingUser, WithoutHomeFallsBackToPasswd) {
    const passwd* pw = ::getpwuid(::geteuid());
    if (!pw)
        GTEST_SKIP() << "current uid has no passwd entry";
    std::string expected = pw->pw_dir;
    test::ScopedEnv sudo("SUDO_USER", std::nullopt);
    test::ScopedEnv home("HOME", std::nullopt);
    auto u = invoking_user();
    ASSERT_TRUE(u) << u.error().message();
    EXPECT_EQ(u->home, expected);
}

TEST(InvokingUser, SudoUserRootMeansNoSudo) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    test::ScopedEnv sudo("SUDO_USER", "root");
    test::ScopedEnv home("HOME", "/root-home-from-env");
    auto u = invoking_user();
    ASSERT_TRUE(u) << u.error().message();
    EXPECT_EQ(u->uid, 0u);
    EXPECT_EQ(u->home, "/root-home-from-env");
}

TEST(InvokingUser, SudoUserResolvesToPasswdEntry) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    const passwd* pw = other_user();
    if (!pw)
        GTEST_SKIP() << "no non-root account in passwd";
    const std::string name = pw->pw_name, dir = pw->pw_dir;
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    test::ScopedEnv sudo("SUDO_USER", name);
    test::ScopedEnv home("HOME", "/root"); // sudo may keep root's HOME: must be ignored
    auto u = sudo_user();
    ASSERT_TRUE(u) << u.error().message();
    ASSERT_TRUE(u->has_value());
    EXPECT_EQ((*u)->uid, uid);
    EXPECT_EQ((*u)->gid, gid);
    EXPECT_EQ((*u)->name, name);
    EXPECT_EQ((*u)->home, dir);
}

// A process that stays root under sudo (a test binary run through sudo) is root: it works in
// root's own store, never as root inside the user's (only the CLI drops to SUDO_USER).
TEST(InvokingUser, RootUnderSudoIsStillRoot) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    test::ScopedEnv sudo("SUDO_USER", "nobody");
    test::ScopedEnv home("HOME", "/root");
    auto u = invoking_user();
    ASSERT_TRUE(u) << u.error().message();
    EXPECT_EQ(u->uid, 0u);
    EXPECT_EQ(u->home, "/root");
}

TEST(InvokingUser, UnknownSudoUserIsNotFound) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    test::ScopedEnv sudo("SUDO_USER", "fleetbox-nonexistent-user");
    auto u = sudo_user();
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(u.error().message(), HasSubstr("SUDO_USER"));
    EXPECT_THAT(u.error().message(), HasSubstr("fleetbox-nonexistent-user"));
}

TEST(InvokingUser, SudoUserIgnoredWhenNotRoot) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to drop privileges in a child";
    const passwd* pw = other_user();
    if (!pw)
        GTEST_SKIP() << "no non-root account in passwd";
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setenv("SUDO_USER", "root", 1);
        ::setenv("HOME", "/home/from-env", 1);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
            ::setresuid(uid, uid, uid) != 0)
            ::_exit(77);
        auto u = invoking_user();
        if (!u)
            ::_exit(1);
        if (u->uid != uid)
            ::_exit(3);
        if (u->home != "/home/from-env")
            ::_exit(4);
        ::_exit(0);
    }
    ASSERT_GT(pid, 0);
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77)
        GTEST_SKIP() << "cannot drop privileges here";
    EXPECT_EQ(WEXITSTATUS(st), 0) << "failed check #" << WEXITSTATUS(st);
}

} // namespace
} // namespace fleetbox
