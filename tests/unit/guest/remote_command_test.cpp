// Unit tests for the exec wrapper text and the pgid marker filter (remote_command.hpp): the
// pure parts of "a timeout or cancel kills the remote command's whole process group".
// tests/component/guest/remote_command_test.cpp runs the wrapper for real with /bin/sh.
#include "guest/remote_command.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace fleetbox::guest {
namespace {

// Feeds `chunks` through a marker; returns what the caller would see.
std::string pass(PgidMarker& m, const std::vector<std::string>& chunks) {
    std::string seen;
    for (const auto& c : chunks)
        m.feed(c, [&](std::string_view s) { seen.append(s); });
    seen += m.flush();
    return seen;
}

TEST(WrapCommand, PlainCommandIsSentAsWritten) {
    EXPECT_EQ(wrap_command("echo 'hi' $HOME", {}), "echo 'hi' $HOME");
}

TEST(WrapCommand, ProcessGroupQuotesTheCommandAsOneWord) {
    auto w = wrap_command("echo 'it''s' $HOME `x`", {false, true});
    EXPECT_EQ(w.rfind("exec setsid -f -w sh -c '", 0), 0u) << w;
    // The user's command is the last word, single-quoted with ' written as '\''.
    const std::string tail = " fleetbox-exec 'echo '\\''it'\\'''\\''s'\\'' $HOME `x`'";
    ASSERT_GE(w.size(), tail.size());
    EXPECT_EQ(w.substr(w.size() - tail.size()), tail) << w;
    EXPECT_NE(w.find("fleetbox-pgid=%s"), std::string::npos) << w;
}

TEST(WrapCommand, AsRootGoesThroughSudoWithoutPrompt) {
    EXPECT_EQ(wrap_command("id -u", {true, true}).rfind("exec sudo -n setsid -f -w sh -c ", 0), 0u);
    auto plain = wrap_command("id -u", {true, false});
    EXPECT_EQ(plain.rfind("exec sudo -n sh -c ", 0), 0u) << plain;
    EXPECT_EQ(plain.find("setsid"), std::string::npos) << plain;
}

TEST(GroupKillCommand, KillsTheNegatedPgid) {
    EXPECT_EQ(group_kill_command(4242, false), "kill -s KILL -- -4242");
    EXPECT_EQ(group_kill_command(4242, true), "sudo -n kill -s KILL -- -4242");
}

TEST(GroupKillCommand, NeverKillsEverything) {
    EXPECT_EQ(group_kill_command(1, false), "false");
    EXPECT_EQ(group_kill_command(0, true), "false");
    EXPECT_EQ(group_kill_command(-5, false), "false");
}

TEST(PgidMarker, TakesTheFirstLineAndPassesTheRest) {
    PgidMarker m;
    EXPECT_EQ(pass(m, {"fleetbox-pgid=123\nhello\n", "world\n"}), "hello\nworld\n");
    EXPECT_EQ(m.pgid(), 123);
}

TEST(PgidMarker, MarkerSplitAcrossChunks) {
    PgidMarker m;
    std::string seen;
    auto sink = [&](std::string_view s) { seen.append(s); };
    m.feed("fleet", sink);
    m.feed("box-pg", sink);
    EXPECT_FALSE(m.decided());
    m.feed("id=77", sink);
    EXPECT_FALSE(m.decided());
    EXPECT_EQ(seen, "");
    m.feed("\r\nout", sink);
    EXPECT_TRUE(m.decided());
    EXPECT_EQ(m.pgid(), 77);
    EXPECT_EQ(seen, "out");
}

TEST(PgidMarker, OtherFirstLinePassesThroughUnchanged) {
    PgidMarker m;
    EXPECT_EQ(pass(m, {"sh: setsid: not found\n", "more"}), "sh: setsid: not found\nmore");
    EXPECT_FALSE(m.pgid());
}

TEST(PgidMarker, DecidesEarlyWhenTheStartCannotBeAMarker) {
    PgidMarker m;
    std::string seen;
    m.feed("fleetbox-pgid=12x", [&](std::string_view s) { seen.append(s); });
    EXPECT_TRUE(m.decided());
    EXPECT_EQ(seen, "fleetbox-pgid=12x");
    EXPECT_FALSE(m.pgid());
}

TEST(PgidMarker, RejectsAbsurdGroups) {
    for (const char* line : {"fleetbox-pgid=1\n", "fleetbox-pgid=\n", "fleetbox-pgid=0\n",
                             "fleetbox-pgid=99999999999\n"}) {
        PgidMarker m;
        EXPECT_EQ(pass(m, {line}), line);
        EXPECT_FALSE(m.pgid()) << line;
    }
}

TEST(PgidMarker, UnfinishedMarkerIsFlushedAtTheEnd) {
    PgidMarker m;
    EXPECT_EQ(pass(m, {"fleetbox-pgid=5"}), "fleetbox-pgid=5");
    EXPECT_FALSE(m.pgid());
}

TEST(PgidMarker, EmptyOutput) {
    PgidMarker m;
    EXPECT_EQ(pass(m, {}), "");
    EXPECT_FALSE(m.pgid());
}

} // namespace
} // namespace fleetbox::guest
