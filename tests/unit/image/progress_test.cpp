// Progress output: plain lines per phase boundary off a terminal, an in-place updating line
// on a terminal (forced here), nothing in quiet mode.
#include "image/progress.hpp"

#include <cstdio>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::image {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// Captures what a Progress writes to a FILE*.
class Captured {
public:
    Captured() : file_(std::tmpfile()) {}
    ~Captured() { std::fclose(file_); }
    Captured(const Captured&) = delete;
    Captured& operator=(const Captured&) = delete;
    std::FILE* file() { return file_; }
    std::string text() {
        std::fflush(file_);
        std::string out;
        std::rewind(file_);
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0)
            out.append(buf, n);
        return out;
    }

private:
    std::FILE* file_;
};

TEST(Progress, PlainModePrintsPhaseBoundaries) {
    Captured out;
    {
        Progress p(ProgressMode::Plain, "image debian-12", out.file());
        p.begin("bootstrap packages");
        p.detail("I: downloading"); // not shown in plain mode
        p.begin("make ext4");       // ends the previous phase as done
        p.failed();
        p.note("reusing the image");
    }
    EXPECT_THAT(out.text(),
                MatchesRegex("image debian-12: bootstrap packages\\.\\.\\.\n"
                             "image debian-12: bootstrap packages\\.\\.\\. done \\([0-9.]+ m?s\\)\n"
                             "image debian-12: make ext4\\.\\.\\.\n"
                             "image debian-12: make ext4\\.\\.\\. failed \\([0-9.]+ m?s\\)\n"
                             "image debian-12: reusing the image\n"));
}

TEST(Progress, AutoOnAFileIsPlain) {
    Captured out;
    EXPECT_EQ(resolve_progress_mode(ProgressMode::Auto, out.file()), ProgressMode::Plain);
    EXPECT_EQ(resolve_progress_mode(ProgressMode::Quiet, out.file()), ProgressMode::Quiet);
    EXPECT_EQ(resolve_progress_mode(ProgressMode::Tty, out.file()), ProgressMode::Tty);
}

TEST(Progress, QuietPrintsNothing) {
    Captured out;
    {
        Progress p(ProgressMode::Quiet, "image x", out.file());
        p.begin("a");
        p.note("n");
        p.done();
    }
    EXPECT_EQ(out.text(), "");
}

TEST(Progress, TtyModeRewritesOneLinePerPhase) {
    Captured out;
    {
        Progress p(ProgressMode::Tty, "image debian-12", out.file());
        p.begin("bootstrap packages");
        p.detail("extracting archives...");
        p.done();
    }
    std::string text = out.text();
    EXPECT_THAT(text, HasSubstr("\r\033[Kimage debian-12: bootstrap packages... "));
    EXPECT_THAT(text, HasSubstr("  extracting archives..."));
    EXPECT_THAT(
        text,
        ContainsRegex(
            "\r\033\\[Kimage debian-12: bootstrap packages\\.\\.\\. done \\([0-9.]+ m?s\\)\n$"));
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1); // one finished line
}

TEST(Progress, UnfinishedPhaseIsClosedOnDestruction) {
    Captured out;
    { Progress(ProgressMode::Plain, "image x", out.file()).begin("a"); }
    EXPECT_THAT(out.text(), HasSubstr("image x: a... stopped ("));
    Captured none;
    { Progress p(ProgressMode::Plain, "image x", none.file()); }
    EXPECT_THAT(none.text(), Not(HasSubstr("stopped")));
}

} // namespace
} // namespace fleetbox::image
