// Unit tests for sys/child_process: exit codes, output capture (large enough to deadlock a
// pipe), stream setup (Null, File), environment and cwd, fd hygiene (only 0/1/2 reach the
// child), missing programs and exec failures, run_command/run_checked and ExitStatus text.
//
// Why: fleetbox turns a failing mmdebstrap or qemu-img into one readable line, and a child that
// inherits a lock fd or a socket would keep it alive; these are the behaviors relied upon.
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

ChildSpec capture(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Capture;
    spec.err = Stream::Capture;
    return spec;
}

// True when this process has no unreaped children at all (nothing leaked by spawn).
bool no_children_left() {
    int st = 0;
    return ::waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD;
}

TEST(ChildProcess, TrueExitsZero) {
    auto r = run_command(capture({"true"}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status.code, 0);
    EXPECT_EQ(r->status.signal, 0);
    EXPECT_TRUE(r->status.ok());
}

TEST(ChildProcess, FalseExitsOneAndIsNotAnError) {
    auto r = run_command(capture({"false"}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status.code, 1);
    EXPECT_FALSE(r->status.ok());
}

TEST(ChildProcess, ArbitraryExitCode) {
    auto r = run_command(capture({"sh", "-c", "exit 42"}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status.code, 42);
    EXPECT_EQ(r->status.describe(), "exited with status 42");
}

TEST(ChildProcess, CapturesStdoutAndStderrSeparately) {
    auto r = run_command(capture({"sh", "-c", "echo to-out; echo to-err >&2; echo more-out"}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "to-out\nmore-out\n");
    EXPECT_EQ(r->err, "to-err\n");
}

TEST(ChildProcess, ArgumentsArePassedVerbatim) {
    auto r = run_command(capture({"printf", "%s|", "a b", "", "it's", "$HOME"}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "a b||it's|$HOME|");
}

TEST(ChildProcess, LargeOutputOnBothStreamsDoesNotDeadlock) {
    // 3 MiB on stdout and 2 MiB on stderr, far beyond a 64 KiB pipe buffer. The generous timeout
    // turns a deadlock into a failure instead of a hang.
    auto r = run_command(
        capture({"sh", "-c", "head -c 3145728 /dev/zero; head -c 2097152 /dev/zero >&2"}), 120s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->status.ok());
    EXPECT_EQ(r->out.size(), 3145728u);
    EXPECT_EQ(r->err.size(), 2097152u);
    EXPECT_TRUE(std::all_of(r->out.begin(), r->out.end(), [](char c) { return c == '\0'; }));
}

TEST(ChildProcess, MissingProgramIsMissingDependencyWithHint) {
    ChildSpec spec = capture({"fleetbox-no-such-program-7f3a"});
    spec.missing_hint = "apt-get install fleetbox-no-such-package";
    auto r = ChildProcess::spawn(spec);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::MissingDependency);
    EXPECT_EQ(r.error().hint, "apt-get install fleetbox-no-such-package");
    EXPECT_THAT(r.error().message(), HasSubstr("fleetbox-no-such-program-7f3a"));
    EXPECT_TRUE(no_children_left());
}

TEST(ChildProcess, MissingAbsoluteProgramIsMissingDependency) {
    auto r = run_command(capture({"/nonexistent/dir/prog"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::MissingDependency);
}

TEST(ChildProcess, NonExecutableFileIsMissingDependency) {
    test::ScratchDir dir;
    test::write_text(dir.file("script"), "#!/bin/sh\necho hi\n", 0644);
    auto r = run_command(capture({dir.file("script")}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::MissingDependency);
}

TEST(ChildProcess, ExecFailureIsReportedWithErrnoAndReaped) {
    test::ScratchDir dir;
    test::write_text(dir.file("bogus"),
                     std::string("\x7f"
                                 "ELF not really an ELF file"),
                     0755);
    auto r = ChildProcess::spawn(capture({dir.file("bogus")}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().err_no, ENOEXEC);
    EXPECT_THAT(r.error().message(), HasSubstr("bogus"));
    EXPECT_TRUE(no_children_left());
}

TEST(ChildProcess, EmptyArgvIsAnError) {
    auto r = ChildProcess::spawn(ChildSpec{});
    ASSERT_FALSE(r);
}

TEST(ChildProcess, EnvSetReachesChild) {
    ChildSpec spec = capture({"sh", "-c", "echo \"$FBX_TEST_X\""});
    spec.env_set = {"FBX_TEST_X=hello world"};
    auto r = run_command(spec);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "hello world\n");
}

TEST(ChildProcess, EnvSetReplacesInheritedValue) {
    test::ScopedEnv env("FBX_TEST_X", "old");
    ChildSpec spec = capture({"sh", "-c", "env | grep -c '^FBX_TEST_X='; echo \"$FBX_TEST_X\""});
    spec.env_set = {"FBX_TEST_X=new"};
    auto r = run_command(spec);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "1\nnew\n"); // exactly one entry, the new one
}

TEST(ChildProcess, InheritedEnvironmentPassesThrough) {
    test::ScopedEnv env("FBX_TEST_INHERITED", "from-parent");
    auto r = run_command(capture({"sh", "-c", "echo \"$FBX_TEST_INHERITED\""}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "from-parent\n");
}

TEST(ChildProcess, EnvUnsetRemovesVariable) {
    test::ScopedEnv env("FBX_TEST_Y", "present");
    ChildSpec spec = capture({"sh", "-c", "echo \"${FBX_TEST_Y-unset}\""});
    spec.env_unset = {"FBX_TEST_Y"};
    auto r = run_command(spec);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "unset\n");
}

TEST(ChildProcess, CwdIsApplied) {
    test::ScratchDir dir;
    char* real = ::realpath(dir.path().c_str(), nullptr);
    ASSERT_NE(real, nullptr);
    std::string expected = real;
    std::free(real);
    ChildSpec spec = capture({"pwd", "-P"});
    spec.cwd = dir.path();
    auto r = run_command(spec);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, expected + "\n");
}

TEST(ChildProcess, MissingCwdFailsSpawnAndReaps) {
    ChildSpec spec = capture({"true"});
    spec.cwd = "/nonexistent/fleetbox/cwd";
    auto r = ChildProcess::spawn(spec);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(r.error().err_no, ENOENT);
    EXPECT_TRUE(no_children_left());
}

TEST(ChildProcess, OnlyStandardFdsAreInherited) {
    // An fd without O_CLOEXEC, both at its natural number and duplicated high up.
    int raw = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(raw, 0);
    ASSERT_EQ(::dup2(raw, 100), 100);
    auto r = run_command(capture({"ls", "/proc/self/fd"}));
    ::close(100);
    ::close(raw);
    ASSERT_TRUE(r) << r.error().message();
    auto fds = split(std::string(trim(r->out)), '\n');
    // 0, 1, 2, plus the directory fd ls itself holds open while listing (the lowest free: 3).
    EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "3"})) << r->out;
}

TEST(ChildProcess, StdinNullIsDevNull) {
    ChildSpec spec = capture({"sh", "-c", "readlink /proc/$$/fd/0; cat; echo rc=$?"});
    spec.in = Stream::Null;
    auto r = run_command(spec, 60s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "/dev/null\nrc=0\n");
}

TEST(ChildProcess, StdoutNullIsDevNull) {
    // The command substitution reads the shell's own fd 1 without redirecting it (dash applies
    // a command's redirections in the shell itself while the command runs).
    ChildSpec spec =
        capture({"sh", "-c", "echo discarded; p=$(readlink /proc/$$/fd/1); echo \"$p\" >&2"});
    spec.out = Stream::Null;
    auto r = run_command(spec);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->err, "/dev/null\n");
    EXPECT_EQ(r->out, "");
}

TEST(ChildProcess, StreamFileWritesIntoGivenFds) {
    test::ScratchDir dir;
    // O_CLOEXEC on purpose: the child must still get them as its stdout/stderr.
    int out = ::open(dir.file("out.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = ::open(dir.file("err.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(out, 0);
    ASSERT_GE(err, 0);
    ChildSpec spec;
    spec.argv = {"sh", "-c", "echo out-line; echo err-line >&2"};
    spec.out = Stream::File;
    spec.out_file = out;
    spec.err = Stream::File;
    spec.err_file = err;
    auto r = run_command(spec);
    // Not owned by the child process: still open and usable here.
    EXPECT_EQ(::fcntl(out, F_GETFD), FD_CLOEXEC);
    ::close(out);
    ::close(err);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "");
    EXPECT_EQ(r->err, "");
    EXPECT_EQ(test::read_text(dir.file("out.log")), "out-line\n");
    EXPECT_EQ(test::read_text(dir.file("err.log")), "err-line\n");
}

TEST(RunChecked, SuccessReturnsOutput) {
    auto r = run_checked(capture({"echo", "fine"}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "fine\n");
}

TEST(RunChecked, FailureCarriesLastStderrLineAndStatus) {
    auto r = run_checked(
        capture({"sh", "-c",
                 "echo noise >&2; echo 'the real reason' >&2; echo; echo stdout-text; exit 3"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::ExternalCommand);
    EXPECT_EQ(r.error().context, "the real reason");
    EXPECT_THAT(r.error().message(), HasSubstr("the real reason"));
    EXPECT_THAT(r.error().message(), HasSubstr("exited with status 3"));
    EXPECT_THAT(r.error().message(), HasSubstr("sh"));
}

TEST(RunChecked, FallsBackToStdoutWhenStderrIsEmpty) {
    auto r = run_checked(capture({"sh", "-c", "echo 'reason on stdout'; exit 2"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().context, "reason on stdout");
}

TEST(RunChecked, KilledBySignalIsDescribed) {
    auto r = run_checked(capture({"sh", "-c", "kill -KILL $$"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::ExternalCommand);
    EXPECT_THAT(r.error().message(), HasSubstr("killed by SIGKILL"));
}

TEST(RunChecked, TimeoutIsTimeoutAndChildIsReaped) {
    auto r = run_checked(capture({"sleep", "30"}), 100ms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
    EXPECT_TRUE(no_children_left());
}

TEST(ExitStatus, Describe) {
    EXPECT_EQ((ExitStatus{0, 0}).describe(), "exited with status 0");
    EXPECT_EQ((ExitStatus{3, 0}).describe(), "exited with status 3");
    EXPECT_EQ((ExitStatus{-1, SIGKILL}).describe(), "killed by SIGKILL");
    EXPECT_EQ((ExitStatus{-1, SIGTERM}).describe(), "killed by SIGTERM");
    EXPECT_EQ((ExitStatus{-1, SIGSEGV}).describe(), "killed by SIGSEGV");
}

TEST(ExitStatus, Ok) {
    EXPECT_TRUE((ExitStatus{0, 0}).ok());
    EXPECT_FALSE((ExitStatus{1, 0}).ok());
    EXPECT_FALSE((ExitStatus{-1, SIGKILL}).ok());
    EXPECT_FALSE(ExitStatus{}.ok());
}

} // namespace
} // namespace fleetbox
