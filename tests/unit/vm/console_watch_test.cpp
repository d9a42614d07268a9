// Unit tests for ConsoleWatch: the guest's "seed failed" line is reported only once complete
// and only at the start of a line; the reason is trimmed, printable and bounded; a recreated
// log is read again after restart(); a symlink at the path is not followed. Also
// printable_excerpt, which cuts guest text for messages.
#include "support/test_support.hpp"
#include "util/console_markers.hpp"
#include "vm/console_watch.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace fleetbox {
namespace {

// Appends to a file (the way QEMU's chardev appends guest output).
void append(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
}

TEST(ConsoleWatch, TheMarkerIsTheSeedFailedLine) {
    EXPECT_STREQ(kMarkerSeedFailed, "fleetbox: seed failed:");
}

TEST(ConsoleWatch, NothingWhileTheLogIsMissingOrQuiet) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    EXPECT_EQ(watch.failure(), std::nullopt); // no file yet
    append(log, "[    0.000000] Linux version 6.1.0\nfleetbox: stage=initramfs uptime=1.49\n");
    EXPECT_EQ(watch.failure(), std::nullopt);
    append(log, "fleetbox: stage=seed uptime=3.10\n");
    EXPECT_EQ(watch.failure(), std::nullopt);
}

TEST(ConsoleWatch, FindsTheReasonOnlyOnceTheLineIsComplete) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    append(log, "booting\r\nfleetbox: seed failed: no network inter");
    EXPECT_EQ(watch.failure(), std::nullopt); // the line is still being written
    append(log, "face with MAC 52:54:00:ab:cd:01\r\nmore output\n");
    auto why = watch.failure();
    ASSERT_TRUE(why.has_value());
    EXPECT_EQ(*why, "no network interface with MAC 52:54:00:ab:cd:01");
}

TEST(ConsoleWatch, MarkerSplitAcrossWrites) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    append(log, "ok\nfleetbox: se");
    EXPECT_EQ(watch.failure(), std::nullopt);
    append(log, "ed failed: cannot unpack the seed on /dev/vdb\n");
    EXPECT_EQ(watch.failure(), std::optional<std::string>("cannot unpack the seed on /dev/vdb"));
}

TEST(ConsoleWatch, IgnoresTheMarkerInTheMiddleOfALine) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    append(log, "echo 'fleetbox: seed failed: not really'\n"
                "[    3.1] audit: fleetbox: seed failed: quoted\n");
    EXPECT_EQ(watch.failure(), std::nullopt);
    append(log, "fleetbox: seed failed: for real\n");
    EXPECT_EQ(watch.failure(), std::optional<std::string>("for real"));
}

TEST(ConsoleWatch, TheFirstFailureLineCounts) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    append(log, "fleetbox: seed failed: first\nfleetbox: seed failed: second\n");
    EXPECT_EQ(watch.failure(), std::optional<std::string>("first"));
}

TEST(ConsoleWatch, ReasonIsTrimmedAndPrintable) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    append(log, std::string("fleetbox: seed failed:   \x1b[31mbad\x07 \x01seed\xff\xfe\t  \r\n"));
    auto why = watch.failure();
    ASSERT_TRUE(why.has_value());
    EXPECT_EQ(*why, "[31mbad seed"); // ESC, BEL, ^A, tab and high bytes are gone
    for (unsigned char c : *why) {
        EXPECT_GE(c, 0x20);
        EXPECT_LT(c, 0x7f);
    }
}

TEST(ConsoleWatch, LongReasonIsCutTo200Characters) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    append(log, "fleetbox: seed failed: " + std::string(500, 'r') + "\n");
    auto why = watch.failure();
    ASSERT_TRUE(why.has_value());
    EXPECT_EQ(*why, std::string(200, 'r') + "...");
}

TEST(ConsoleWatch, MarkerAfterLotsOfOutputIsFound) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    std::string noise;
    for (int i = 0; i < 5000; ++i)
        noise += "[    1.234567] some kernel message number " + std::to_string(i) + "\n";
    ASSERT_GT(noise.size(), 64u * 1024u); // more than one read
    append(log, noise + "fleetbox: seed failed: late\n");
    EXPECT_EQ(watch.failure(), std::optional<std::string>("late"));
}

TEST(ConsoleWatch, ReadsOnlyWhatWasAppended) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    append(log, "line one\n");
    EXPECT_EQ(watch.failure(), std::nullopt);
    append(log, "fleetbox: seed failed: after\n");
    EXPECT_EQ(watch.failure(), std::optional<std::string>("after"));
}

TEST(ConsoleWatch, RestartReadsARecreatedLogFromItsStart) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    append(log, std::string(300, '.') + "\nfirst boot hung\n");
    EXPECT_EQ(watch.failure(), std::nullopt);
    // The relaunch recreates the (shorter) log.
    ASSERT_EQ(::unlink(log.c_str()), 0);
    append(log, "fleetbox: seed failed: second try\n");
    watch.restart();
    EXPECT_EQ(watch.failure(), std::optional<std::string>("second try"));
}

TEST(ConsoleWatch, RestartDropsAPartialLineOfTheOldLog) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, kMarkerSeedFailed);
    append(log, "fleetbox: seed failed: old attempt");
    EXPECT_EQ(watch.failure(), std::nullopt);
    ASSERT_EQ(::unlink(log.c_str()), 0);
    watch.restart();
    append(log, " continued\nnothing wrong\n");
    EXPECT_EQ(watch.failure(), std::nullopt);
}

TEST(ConsoleWatch, DoesNotFollowASymlink) {
    test::ScratchDir dir;
    const std::string target = dir.file("elsewhere.log");
    const std::string log = dir.file("serial.log");
    test::write_text(target, "fleetbox: seed failed: via a link\n");
    ASSERT_EQ(::symlink(target.c_str(), log.c_str()), 0);
    ConsoleWatch watch(log, kMarkerSeedFailed);
    EXPECT_EQ(watch.failure(), std::nullopt);
    // The same text in the file itself is found.
    ConsoleWatch direct(target, kMarkerSeedFailed);
    EXPECT_EQ(direct.failure(), std::optional<std::string>("via a link"));
}

TEST(ConsoleWatch, OtherMarkers) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    ConsoleWatch watch(log, "PANIC:");
    append(log, "fleetbox: seed failed: not this one\nPANIC: yes\n");
    EXPECT_EQ(watch.failure(), std::optional<std::string>("yes"));
}

TEST(PrintableExcerpt, KeepsPrintableAsciiTrimmedAndBounded) {
    EXPECT_EQ(printable_excerpt("  hello world \r\n"), "hello world");
    EXPECT_EQ(printable_excerpt("a\x1b[0mb\x7f\x80\xff"
                                "c"),
              "a[0mbc");
    EXPECT_EQ(printable_excerpt("tab\there"), "tabhere");
    EXPECT_EQ(printable_excerpt(""), "");
    EXPECT_EQ(printable_excerpt("\x01\x02\n"), "");
    EXPECT_EQ(printable_excerpt(std::string(200, 'x')), std::string(200, 'x'));
    EXPECT_EQ(printable_excerpt(std::string(201, 'x')), std::string(200, 'x') + "...");
    EXPECT_EQ(printable_excerpt("abcdef", 3), "abc...");
    EXPECT_EQ(printable_excerpt("  abc  ", 3), "abc"); // trimmed before it is measured
}

} // namespace
} // namespace fleetbox
