// Unit tests for what sys/child_process sets up for a child that must not be trusted with the
// parent's privileges: run_as (uid, gid, supplementary groups; a failed switch is a spawn
// error), no_new_privs, umask, parent_death_signal surviving the credential switch, and
// inherit_fds (kept open across exec, overlapping numbers, refused targets).
//
// Why: the helper starts QEMU as the invoking user with no capabilities and hands it its tap
// as a descriptor; each of these is checked in the child's own /proc/self, never assumed.
// Switching to another uid needs root: those tests skip when run unprivileged.
#include "support/process_helpers.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;

ChildSpec capture(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Capture;
    spec.err = Stream::Capture;
    return spec;
}

// The value of one "Key:\tvalue" line of the child's /proc/self/status.
std::string status_field(ChildSpec spec, const std::string& key) {
    spec.argv = {"cat", "/proc/self/status"};
    spec.out = Stream::Capture;
    auto out = run_checked(spec);
    if (!out)
        return "error: " + out.error().message();
    for (const auto& line : split(out->out, '\n'))
        if (starts_with(line, key + ":"))
            return std::string(trim(line.substr(key.size() + 1)));
    return "missing";
}

#define REQUIRE_ROOT()                                                                             \
    if (::geteuid() != 0)                                                                          \
    GTEST_SKIP() << "switching to another uid needs root"

TEST(ChildPrivileges, RunAsSwitchesEveryUidAndGid) {
    REQUIRE_ROOT();
    ChildSpec spec;
    spec.run_as = RunAs{kNobody, kNobody, {}};
    EXPECT_EQ(status_field(spec, "Uid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(status_field(spec, "Gid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(status_field(spec, "Groups"), "");
    // A uid change drops every capability a root parent had.
    EXPECT_EQ(status_field(spec, "CapEff"), "0000000000000000");
    EXPECT_EQ(status_field(spec, "CapPrm"), "0000000000000000");
}

TEST(ChildPrivileges, RunAsSetsSupplementaryGroups) {
    REQUIRE_ROOT();
    ChildSpec spec;
    spec.run_as = RunAs{kNobody, kNobody, {100, 65534}};
    EXPECT_EQ(status_field(spec, "Groups"), "100 65534");
    auto id = run_checked([] {
        auto s = capture({"id", "-u"});
        s.run_as = RunAs{kNobody, kNobody, {}};
        return s;
    }());
    ASSERT_TRUE(id) << id.error().message();
    EXPECT_EQ(trim(id->out), "65534");
}

// Forks a process that becomes nobody (no capabilities left), then spawns `true` with
// `run_as`; its exit code is 0 when the spawn succeeded, 2 when it failed with EPERM.
int spawn_as_nobody(const RunAs& run_as) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
            ::setresuid(kNobody, kNobody, kNobody) != 0)
            ::_exit(3);
        ChildSpec spec;
        spec.argv = {"true"};
        spec.run_as = run_as;
        auto r = run_checked(spec);
        if (r)
            ::_exit(0);
        ::_exit(r.error().err_no == EPERM && r.error().message().find("as uid") != std::string::npos
                    ? 2
                    : 4);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(ChildPrivileges, RunAsOwnCredentialsNeedsNoPrivilege) {
    REQUIRE_ROOT();
    EXPECT_EQ(spawn_as_nobody(RunAs{kNobody, kNobody, {}}), 0);
}

TEST(ChildPrivileges, FailedSwitchIsASpawnError) {
    REQUIRE_ROOT();
    EXPECT_EQ(spawn_as_nobody(RunAs{0, 0, {}}), 2);
    EXPECT_EQ(spawn_as_nobody(RunAs{kNobody, kNobody, {0}}), 2); // setgroups needs CAP_SETGID
}

TEST(ChildPrivileges, NoNewPrivs) {
    ChildSpec spec;
    EXPECT_EQ(status_field(spec, "NoNewPrivs"), "0");
    spec.no_new_privs = true;
    EXPECT_EQ(status_field(spec, "NoNewPrivs"), "1");
}

TEST(ChildPrivileges, Umask) {
    auto spec = capture({"sh", "-c", "umask"});
    spec.umask = 077;
    auto out = run_checked(spec);
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(trim(out->out), "0077");
    spec.umask = 027;
    out = run_checked(spec);
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(trim(out->out), "0027");
}

// Spawns `sleep 100` with run_as nobody and a parent-death signal from a process that then
// exits; the orphan's exit status, or nullopt when it outlived its parent.
std::optional<int> orphan_as_nobody_status() {
    int p[2];
    if (::pipe(p) != 0)
        return std::nullopt;
    pid_t mid = ::fork();
    if (mid == 0) {
        ::close(p[0]);
        ChildSpec spec;
        spec.argv = {"sleep", "100"};
        spec.err = Stream::Null;
        spec.run_as = RunAs{kNobody, kNobody, {}};
        spec.parent_death_signal = SIGKILL;
        auto child = ChildProcess::spawn(spec);
        pid_t pid = child ? child->detach() : -1;
        (void)!::write(p[1], &pid, sizeof pid);
        ::_exit(0);
    }
    ::close(p[1]);
    pid_t pid = -1;
    if (::read(p[0], &pid, sizeof pid) != sizeof pid)
        pid = -1;
    ::close(p[0]);
    int st = 0;
    ::waitpid(mid, &st, 0);
    if (pid <= 0)
        return std::nullopt;
    auto reaped = test::reap_within(pid);
    if (!reaped) {
        test::kill_and_reap(pid);
        return std::nullopt;
    }
    return *reaped;
}

TEST(ChildPrivileges, ParentDeathSignalSurvivesTheUidSwitch) {
    REQUIRE_ROOT();
    test::Subreaper reaper;
    ASSERT_TRUE(reaper.ok());
    auto st = orphan_as_nobody_status();
    ASSERT_TRUE(st) << "the child outlived its parent: the uid switch cleared PR_SET_PDEATHSIG";
    EXPECT_TRUE(WIFSIGNALED(*st));
    EXPECT_EQ(WTERMSIG(*st), SIGKILL);
}

// A file in the scratch dir opened O_CLOEXEC; its path is what /proc/self/fd/N points at.
Fd open_file(const test::ScratchDir& dir, const std::string& name) {
    return Fd(::open(dir.file(name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
}

// readlink of each /proc/self/fd/N in the child, one line per number.
std::vector<std::string> child_fd_targets(ChildSpec spec, const std::vector<int>& numbers) {
    std::string script;
    for (int n : numbers)
        script += "readlink /proc/self/fd/" + std::to_string(n) + " || echo closed; ";
    spec.argv = {"sh", "-c", script};
    spec.out = Stream::Capture;
    auto out = run_checked(spec);
    if (!out)
        return {out.error().message()};
    auto lines = split(trim(out->out), '\n');
    return {lines.begin(), lines.end()};
}

TEST(ChildPrivileges, InheritedFdIsOpenInTheChildUnderItsNumber) {
    test::ScratchDir dir;
    Fd a = open_file(dir, "a");
    ASSERT_TRUE(a);
    ChildSpec spec;
    spec.inherit_fds = {{a.get(), 9}};
    EXPECT_THAT(child_fd_targets(spec, {9}), ::testing::ElementsAre(dir.file("a")));
    // The parent's descriptor is untouched and still close-on-exec.
    EXPECT_EQ(::fcntl(a.get(), F_GETFD), FD_CLOEXEC);
    // Without inherit_fds, the CLOEXEC descriptor never reaches a child.
    EXPECT_THAT(child_fd_targets(ChildSpec{}, {a.get()}), ::testing::ElementsAre("closed"));
}

TEST(ChildPrivileges, InheritedFdKeepsItsOwnNumber) {
    test::ScratchDir dir;
    Fd a = open_file(dir, "a");
    ASSERT_TRUE(a);
    ChildSpec spec;
    spec.inherit_fds = {{a.get(), a.get()}};
    EXPECT_THAT(child_fd_targets(spec, {a.get()}), ::testing::ElementsAre(dir.file("a")));
}

TEST(ChildPrivileges, OverlappingNumbersAreSwappedCorrectly) {
    test::ScratchDir dir;
    Fd a = open_file(dir, "a");
    Fd b = open_file(dir, "b");
    ASSERT_TRUE(a && b);
    ChildSpec spec;
    spec.inherit_fds = {{a.get(), b.get()}, {b.get(), a.get()}};
    EXPECT_THAT(child_fd_targets(spec, {a.get(), b.get()}),
                ::testing::ElementsAre(dir.file("b"), dir.file("a")));
    // A chain: a -> b's number, b -> a third number.
    spec.inherit_fds = {{a.get(), b.get()}, {b.get(), 20}};
    EXPECT_THAT(child_fd_targets(spec, {b.get(), 20, a.get()}),
                ::testing::ElementsAre(dir.file("a"), dir.file("b"), "closed"));
}

TEST(ChildPrivileges, InheritedFdMayTakeTheNumberOfAStdioSource) {
    test::ScratchDir dir;
    Fd a = open_file(dir, "a");
    Fd log = open_file(dir, "log");
    ASSERT_TRUE(a && log);
    ChildSpec spec;
    spec.argv = {"sh", "-c", "echo to-stdout; readlink /proc/self/fd/" + std::to_string(log.get())};
    spec.out = Stream::File;
    spec.out_file = log.get();
    spec.inherit_fds = {{a.get(), log.get()}};
    auto r = run_checked(spec);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(test::read_text(dir.file("log")), "to-stdout\n" + dir.file("a") + "\n");
}

TEST(ChildPrivileges, InheritFdsWorksWithRunAs) {
    REQUIRE_ROOT();
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    Fd read_end(p[0]);
    Fd write_end(p[1]);
    ChildSpec spec;
    spec.argv = {"sh", "-c", "id -u >&7"};
    spec.run_as = RunAs{kNobody, kNobody, {}};
    spec.inherit_fds = {{write_end.get(), 7}};
    auto r = run_checked(spec);
    ASSERT_TRUE(r) << r.error().message();
    write_end.reset();
    char buf[64] = {};
    ssize_t n = ::read(read_end.get(), buf, sizeof buf - 1);
    ASSERT_GT(n, 0);
    EXPECT_EQ(trim(std::string(buf, static_cast<size_t>(n))), "65534");
}

TEST(ChildPrivileges, BadInheritFdsAreRefusedBeforeFork) {
    test::ScratchDir dir;
    Fd a = open_file(dir, "a");
    ASSERT_TRUE(a);
    ChildSpec spec;
    spec.argv = {"true"};
    spec.inherit_fds = {{a.get(), 1}};
    auto r = ChildProcess::spawn(spec);
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message(), HasSubstr("stdio"));
    spec.inherit_fds = {{a.get(), 8}, {a.get(), 8}};
    r = ChildProcess::spawn(spec);
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message(), HasSubstr("twice"));
    spec.inherit_fds = {{1000, 8}};
    r = ChildProcess::spawn(spec);
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message(), HasSubstr("not open"));
}

} // namespace
} // namespace fleetbox
