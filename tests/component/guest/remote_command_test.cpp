// The exec wrapper (remote_command.hpp) run for real by /bin/sh on this host, as the guest's
// login shell would run it: the pgid marker comes first and names a fresh process group, the
// command's output, stdin and exit status (128+N for a signal) pass through unchanged, any
// command text survives the quoting, and group_kill_command kills the command together with
// the children it forked. No SSH: the channel side is covered by the e2e readiness test.
#include "guest/remote_command.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"

#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <sstream>
#include <thread>

namespace fleetbox::guest {
namespace {

using namespace std::chrono_literals;

struct Run {
    std::optional<long> pgid;
    std::string out; // stdout without the marker
    std::string err;
    int code = -1;
};

// Runs `command` wrapped, through `sh -c` like sshd runs an exec request.
Run run_wrapped(const std::string& command, const std::string& input_file = {}) {
    ChildSpec spec;
    std::string wrapped = wrap_command(command, {false, true});
    if (!input_file.empty())
        wrapped += " < " + input_file;
    spec.argv = {"/bin/sh", "-c", wrapped};
    spec.env_set = {"SHELL=/bin/sh"};
    spec.out = spec.err = Stream::Capture;
    auto r = run_command(spec, 60s);
    Run run;
    if (!r) {
        run.err = r.error().message();
        return run;
    }
    PgidMarker marker;
    marker.feed(r->out, [&](std::string_view s) { run.out.append(s); });
    run.out += marker.flush();
    run.pgid = marker.pgid();
    run.err = r->err;
    run.code = r->status.signal != 0 ? 128 + r->status.signal : r->status.code;
    return run;
}

// Process ids whose process group is `pgid` (from /proc/<pid>/stat; zombies included).
std::vector<int> group_members(long pgid) {
    std::vector<int> pids;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        auto read = read_file(e.path().string() + "/stat");
        if (!read)
            continue;
        const std::string& stat = *read;
        auto close = stat.rfind(')');
        if (close == std::string::npos)
            continue;
        std::istringstream rest(stat.substr(close + 2));
        std::string state;
        long ppid = 0, pgrp = 0;
        rest >> state >> ppid >> pgrp;
        if (pgrp == pgid && state != "Z")
            pids.push_back(std::stoi(name));
    }
    return pids;
}

TEST(RemoteCommandWrapper, MarkerNamesAFreshGroupAndOutputPassesThrough) {
    auto r = run_wrapped("echo out; echo err >&2; read -r a b c d g e < /proc/$$/stat; echo $g");
    ASSERT_TRUE(r.pgid) << r.out << r.err;
    EXPECT_NE(*r.pgid, static_cast<long>(::getpgrp()));
    // The command's own shell is in the announced group.
    EXPECT_EQ(r.out, "out\n" + std::to_string(*r.pgid) + "\n") << r.out;
    EXPECT_EQ(r.err, "err\n");
    EXPECT_EQ(r.code, 0);
}

TEST(RemoteCommandWrapper, ExitStatusAndSignalDeathPassThrough) {
    EXPECT_EQ(run_wrapped("exit 7").code, 7);
    EXPECT_EQ(run_wrapped("kill -TERM $$").code, 128 + SIGTERM);
    EXPECT_EQ(run_wrapped("true").code, 0);
}

TEST(RemoteCommandWrapper, AnyCommandTextSurvivesTheQuoting) {
    const std::string tricky = R"(printf '%s|' "a b" 'c'"'"'d' `echo x` $((1+2)) \$HOME; echo)";
    auto r = run_wrapped(tricky);
    EXPECT_EQ(r.out, "a b|c'd|x|3|$HOME|\n") << r.err;
    auto multi = run_wrapped("echo one\necho two # comment 'unbalanced");
    EXPECT_EQ(multi.out, "one\ntwo\n") << multi.err;
}

TEST(RemoteCommandWrapper, StdinReachesTheCommand) {
    test::ScratchDir dir;
    test::write_text(dir.file("in"), "line 1\nline 2\n");
    auto r = run_wrapped("wc -l", dir.file("in"));
    EXPECT_EQ(r.out, "2\n") << r.err;
}

TEST(RemoteCommandWrapper, GroupKillStopsTheCommandAndItsChildren) {
    test::ScratchDir dir;
    const std::string out = dir.file("out");
    ChildSpec spec;
    spec.argv = {"/bin/sh", "-c",
                 wrap_command("sleep 300 & sleep 300 & sh -c 'sleep 300'; wait", {false, true}) +
                     " > " + out};
    spec.env_set = {"SHELL=/bin/sh"};
    auto child = ChildProcess::spawn(spec);
    ASSERT_TRUE(child) << child.error().message();

    // The marker arrives first; wait (bounded) for the group to hold all its sleepers.
    std::optional<long> pgid;
    for (int i = 0; i < 200 && !pgid; ++i) {
        std::this_thread::sleep_for(50ms);
        PgidMarker m;
        m.feed(test::read_text(out), [](std::string_view) {});
        pgid = m.pgid();
    }
    ASSERT_TRUE(pgid) << "no marker in " << test::read_text(out);
    for (int i = 0; i < 200 && group_members(*pgid).size() < 5; ++i)
        std::this_thread::sleep_for(50ms);
    ASSERT_GE(group_members(*pgid).size(), 5u); // sh, user's sh, 3 sleeps (+ inner sh -c)

    ChildSpec kill;
    kill.argv = {"/bin/sh", "-c", group_kill_command(*pgid, false)};
    auto killed = run_command(kill, 30s);
    ASSERT_TRUE(killed) << killed.error().message();
    EXPECT_EQ(killed->status.code, 0) << killed->err;

    auto status = child->wait(30s); // setsid -w returns once its child is gone
    ASSERT_TRUE(status) << status.error().message();
    for (int i = 0; i < 100 && !group_members(*pgid).empty(); ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(group_members(*pgid).empty()) << "survivors in group " << *pgid;
}

} // namespace
} // namespace fleetbox::guest
