// Unit tests for sys/privileges and ChildSpec::regain_root: the CLI's drop to the invoking
// user under sudo (real and effective ids become the user's, the saved uid stays 0), a helper
// child that is root again, a child that cannot regain root when the saved uid is not 0, the
// scoped elevation of an image build, and killing a root child from a dropped parent.
//
// Each case runs in a forked child (credentials are per process, and a failed drop must not
// leave the test runner as "nobody"); the child reports the number of the failed check as its
// exit status. alarm(2) bounds a child that would hang (a kill that never lands).
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/privileges.hpp"
#include "util/strings.hpp"

#include <csignal>
#include <cstdlib>
#include <functional>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox {
namespace {

constexpr uid_t kNobody = 65534;

// Runs `body` in a forked child; its return value is the child's exit status.
int in_child(const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::alarm(30);
        ::_exit(body());
    }
    int st = 0;
    if (pid < 0 || ::waitpid(pid, &st, 0) != pid)
        return -1;
    if (!WIFEXITED(st))
        return 1000 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return WEXITSTATUS(st);
}

// The "Uid:" / "Gid:" / "Groups:" line of a process's /proc status, tabs as spaces.
std::string status_line(const std::string& status, const std::string& key) {
    for (const auto& line : split(status, '\n'))
        if (starts_with(line, key + ":")) {
            std::string v(trim(line.substr(key.size() + 1)));
            for (char& c : v)
                if (c == '\t')
                    c = ' ';
            return v;
        }
    return "?";
}

// /proc/self/status of a child spawned from here with `regain_root`.
Result<std::string> child_status(bool regain_root) {
    ChildSpec spec;
    spec.argv = {"cat", "/proc/self/status"};
    spec.out = Stream::Capture;
    spec.regain_root = regain_root;
    auto out = FBX_TRY(run_checked(spec, std::chrono::seconds(20)));
    return out.out;
}

int drop_like_sudo_does(uid_t uid, gid_t gid, uid_t saved) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, 0) != 0 ||
        ::setresuid(uid, uid, saved) != 0)
        return 77;
    return 0;
}

void expect_ok(int status) {
    if (status == 77)
        GTEST_SKIP() << "cannot change credentials here";
    EXPECT_EQ(status, 0) << "failed check #" << status;
}

class Privileges : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root to change credentials in a child";
    }
};

TEST_F(Privileges, RegainRootMakesTheChildRootAgain) {
    expect_ok(in_child([] {
        if (int rc = drop_like_sudo_does(kNobody, kNobody, 0); rc != 0)
            return rc;
        // Without regain_root the child is the user, and exec(2) made its saved uid the user's
        // too: it has no way back to root.
        auto plain = child_status(false);
        if (!plain || status_line(*plain, "Uid") != "65534 65534 65534 65534")
            return 1;
        auto root = child_status(true);
        if (!root)
            return 2;
        if (status_line(*root, "Uid") != "0 0 0 0")
            return 3;
        if (status_line(*root, "Gid") != "0 0 0 0")
            return 4;
        if (!status_line(*root, "Groups").empty())
            return 5;
        uid_t r = 0, e = 0, s = 0;
        ::getresuid(&r, &e, &s);
        return r == kNobody && e == kNobody && s == 0 ? 0 : 6; // the parent stays dropped
    }));
}

TEST_F(Privileges, RegainRootIsANoOpForRoot) {
    expect_ok(in_child([] {
        auto root = child_status(true);
        return root && status_line(*root, "Uid") == "0 0 0 0" ? 0 : 1;
    }));
}

TEST_F(Privileges, RegainRootFailsCleanlyWithoutSavedRoot) {
    expect_ok(in_child([] {
        if (int rc = drop_like_sudo_does(kNobody, kNobody, kNobody); rc != 0)
            return rc;
        if (can_regain_root())
            return 1;
        auto root = child_status(true);
        if (root)
            return 2;
        if (root.error().kind != ErrorKind::Permission)
            return 3;
        if (root.error().message().find("cannot become root") == std::string::npos)
            return 4;
        return child_status(false) ? 0 : 5;
    }));
}

TEST_F(Privileges, DropUnderSudoKeepsOnlyTheSavedUid) {
    const passwd* pw = ::getpwnam("nobody");
    if (pw == nullptr)
        GTEST_SKIP() << "no user nobody";
    const std::string home = pw->pw_dir;
    const gid_t gid = pw->pw_gid;
    expect_ok(in_child([&] {
        ::setenv("SUDO_USER", "nobody", 1);
        ::setenv("HOME", "/root", 1);
        auto dropped = drop_to_invoking_user();
        if (!dropped || !*dropped)
            return 1;
        uid_t r = 0, e = 0, s = 1;
        gid_t rg = 0, eg = 0, sg = 1;
        ::getresuid(&r, &e, &s);
        ::getresgid(&rg, &eg, &sg);
        if (r != kNobody || e != kNobody || s != 0)
            return 2;
        if (rg != gid || eg != gid || sg != 0)
            return 3;
        if (std::getenv("HOME") == nullptr || home != std::getenv("HOME"))
            return 4;
        if (!can_regain_root())
            return 5;
        {
            auto root = ScopedRoot::enter("build an image");
            if (!root || !root->elevated() || root->user_uid() != kNobody ||
                root->user_gid() != gid)
                return 6;
            ::getresuid(&r, &e, &s);
            if (r != 0 || e != 0)
                return 7;
        }
        ::getresuid(&r, &e, &s);
        ::getresgid(&rg, &eg, &sg);
        if (r != kNobody || e != kNobody || s != 0 || rg != gid || eg != gid)
            return 8;
        return 0;
    }));
}

TEST_F(Privileges, NoDropWithoutSudo) {
    expect_ok(in_child([] {
        ::unsetenv("SUDO_USER");
        auto plain = drop_to_invoking_user();
        if (!plain || *plain)
            return 1;
        ::setenv("SUDO_USER", "root", 1);
        auto as_root = drop_to_invoking_user();
        if (!as_root || *as_root)
            return 2;
        auto root = ScopedRoot::enter("build an image");
        if (!root || root->elevated())
            return 3; // root already: nothing to change or restore
        return ::geteuid() == 0 ? 0 : 4;
    }));
}

TEST_F(Privileges, ScopedRootNeedsSavedRoot) {
    expect_ok(in_child([] {
        if (int rc = drop_like_sudo_does(kNobody, kNobody, kNobody); rc != 0)
            return rc;
        auto root = ScopedRoot::enter("build an image");
        if (root || root.error().kind != ErrorKind::Permission)
            return 1;
        return root.error().hint.find("sudo") != std::string::npos ? 0 : 2;
    }));
}

// A dropped client must still be able to stop the root helper it started (kill(2) of a root
// process needs root): the destructor would otherwise wait forever for a child it never hit.
TEST_F(Privileges, ADroppedParentCanKillItsRootChild) {
    expect_ok(in_child([] {
        if (int rc = drop_like_sudo_does(kNobody, kNobody, 0); rc != 0)
            return rc;
        ChildSpec spec;
        spec.argv = {"sleep", "60"};
        spec.regain_root = true;
        auto child = ChildProcess::spawn(spec);
        if (!child)
            return 1;
        ExitStatus st = child->kill();
        if (st.signal != SIGKILL)
            return 2;
        return ::geteuid() == kNobody ? 0 : 3;
    }));
}

} // namespace
} // namespace fleetbox
