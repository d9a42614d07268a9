// Unit tests for util/strings: split/join/trim/starts_with, shell quoting (checked against a
// real POSIX shell), last_line (stderr summaries) and the duration/byte formatters.
//
// Why: shell_quote output is shown to users as a command they can paste, so it must survive a
// round trip through /bin/sh; last_line picks the line that becomes an error's "why".
#include "util/strings.hpp"

#include <climits>
#include <cstdio>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace fleetbox {
namespace {

using Strings = std::vector<std::string>;

TEST(Split, KeepsEmptyFields) {
    EXPECT_EQ(split("a,b,,c", ','), (Strings{"a", "b", "", "c"}));
    EXPECT_EQ(split(",", ','), (Strings{"", ""}));
    EXPECT_EQ(split("a,", ','), (Strings{"a", ""}));
    EXPECT_EQ(split(",a", ','), (Strings{"", "a"}));
}

TEST(Split, NoSeparatorAndEmptyInput) {
    EXPECT_EQ(split("abc", ','), (Strings{"abc"}));
    EXPECT_EQ(split("", ','), (Strings{""}));
}

TEST(Split, Lines) {
    EXPECT_EQ(split("l1\nl2\n", '\n'), (Strings{"l1", "l2", ""}));
}

TEST(Join, Basics) {
    EXPECT_EQ(join({}, ", "), "");
    EXPECT_EQ(join({"a"}, ", "), "a");
    EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
    EXPECT_EQ(join({"", ""}, ":"), ":");
}

TEST(Join, InvertsSplit) {
    for (std::string s : {"a,b,,c", ",", "", "x", ",lead", "trail,"})
        EXPECT_EQ(join(split(s, ','), ","), s) << s;
}

TEST(Trim, StripsSpaceTabCrLf) {
    EXPECT_EQ(trim("  a b \t\r\n"), "a b");
    EXPECT_EQ(trim("\r\n\tx"), "x");
    EXPECT_EQ(trim("x"), "x");
    EXPECT_EQ(trim("   \t\n"), "");
    EXPECT_EQ(trim(""), "");
    EXPECT_EQ(trim("a  b"), "a  b"); // inner whitespace kept
}

TEST(StartsWith, Basics) {
    EXPECT_TRUE(starts_with("fleetbox", "fleet"));
    EXPECT_TRUE(starts_with("fleetbox", ""));
    EXPECT_FALSE(starts_with("fleet", "fleetbox"));
    EXPECT_FALSE(starts_with("box", "fleet"));
}

TEST(ShellQuote, SafeWordsUnchanged) {
    EXPECT_EQ(shell_quote("abc"), "abc");
    EXPECT_EQ(shell_quote("/usr/bin/qemu-img"), "/usr/bin/qemu-img");
    EXPECT_EQ(shell_quote("a@b%c_d+e=f:g,h.i/j-k"), "a@b%c_d+e=f:g,h.i/j-k");
}

TEST(ShellQuote, EmptyStringIsTwoQuotes) {
    EXPECT_EQ(shell_quote(""), "''");
}

TEST(ShellQuote, SpecialCharactersAreQuoted) {
    EXPECT_EQ(shell_quote("a b"), "'a b'");
    EXPECT_EQ(shell_quote("$HOME"), "'$HOME'");
    EXPECT_EQ(shell_quote("*"), "'*'");
    EXPECT_EQ(shell_quote("a;rm -rf /"), "'a;rm -rf /'");
}

TEST(ShellQuote, SingleQuoteEscaped) {
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote("'"), "''\\'''");
}

// What /bin/sh makes of `printf %s <quoted>`: the quoting must reproduce the original bytes.
std::string shell_echo(const std::string& quoted) {
    std::string cmd = "printf %s " + quoted;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr)
        return "<popen failed>";
    std::string out;
    char buf[256];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    ::pclose(p);
    return out;
}

TEST(ShellQuote, RoundTripsThroughShell) {
    const Strings cases = {
        "plain",       "",          "it's",      "''",         "a b  c", "$HOME `id` $(id)",
        "back\\slash", "tab\there", "new\nline", "\"double\"", "*?[a]",  "~user",
        "-n",          "!x&y|z;"};
    for (const auto& s : cases)
        EXPECT_EQ(shell_echo(shell_quote(s)), s) << "arg: " << s;
}

TEST(ShellJoin, QuotesEachArgument) {
    EXPECT_EQ(shell_join({"ls", "-l", "a b", "", "it's"}), "ls -l 'a b' '' 'it'\\''s'");
    EXPECT_EQ(shell_join({}), "");
}

TEST(LastLine, PicksLastNonEmptyTrimmedLine) {
    EXPECT_EQ(last_line("first\nsecond\n"), "second");
    EXPECT_EQ(last_line("a\nb\n\n   \n\t\n"), "b");
    EXPECT_EQ(last_line("x\r\n  real reason  \r\n"), "real reason");
    EXPECT_EQ(last_line("only"), "only");
}

TEST(LastLine, EmptyWhenNoText) {
    EXPECT_EQ(last_line(""), "");
    EXPECT_EQ(last_line("\n\n  \n"), "");
}

TEST(FormatDuration, Milliseconds) {
    EXPECT_EQ(format_duration(0.0), "0 ms");
    EXPECT_EQ(format_duration(0.85), "850 ms");
    EXPECT_EQ(format_duration(0.1), "100 ms");
}

TEST(FormatDuration, Seconds) {
    EXPECT_EQ(format_duration(1.0), "1.0 s");
    EXPECT_EQ(format_duration(1.2), "1.2 s");
    EXPECT_EQ(format_duration(59.5), "59.5 s");
    EXPECT_EQ(format_duration(119.9), "119.9 s");
}

TEST(FormatDuration, MinutesAndSeconds) {
    EXPECT_EQ(format_duration(120.0), "2m00s");
    EXPECT_EQ(format_duration(125.7), "2m05s");
    EXPECT_EQ(format_duration(3600.0), "60m00s");
}

TEST(FormatBytes, PlainBytes) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1), "1 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
}

TEST(FormatBytes, BinaryUnitsWithOneDecimal) {
    EXPECT_EQ(format_bytes(1024), "1.0 KiB");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_bytes(300ULL * 1024), "300.0 KiB");
    EXPECT_EQ(format_bytes(1024ULL * 1024), "1.0 MiB");
    EXPECT_EQ(format_bytes(3ULL << 29), "1.5 GiB");
    EXPECT_EQ(format_bytes(2ULL << 40), "2.0 TiB");
    EXPECT_EQ(format_bytes(800), "800 B");
    EXPECT_EQ(format_bytes(512ULL << 20), "512.0 MiB");
    EXPECT_EQ(format_bytes(5ULL << 28), "1.2 GiB"); // 1.25 GiB, rounded half to even
}

TEST(FormatBytes, CapsAtTiB) {
    EXPECT_EQ(format_bytes(1ULL << 50), "1024.0 TiB");
    EXPECT_NE(format_bytes(ULLONG_MAX).find(" TiB"), std::string::npos);
}

} // namespace
} // namespace fleetbox
