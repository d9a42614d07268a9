// Progress output of a download, driven with synthetic byte counts and times: the line per
// tenth (logs, CI), the redrawn terminal line, and the unit formatting they share.
#include "fetch/progress.hpp"

#include <algorithm>
#include <cstdio>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace fleetbox::fetch {
namespace {

// Captures what a reporter prints into a memory stream.
class Captured {
public:
    Captured() : f_(open_memstream(&buf_, &size_)) {}
    ~Captured() {
        if (f_ != nullptr)
            std::fclose(f_);
        std::free(buf_);
    }
    std::FILE* file() { return f_; }
    std::string text() {
        std::fflush(f_);
        return std::string(buf_, size_);
    }
    std::vector<std::string> lines() {
        std::vector<std::string> out;
        std::string t = text();
        std::size_t start = 0;
        for (std::size_t nl; (nl = t.find('\n', start)) != std::string::npos; start = nl + 1)
            out.push_back(t.substr(start, nl - start));
        return out;
    }

private:
    char* buf_ = nullptr;
    std::size_t size_ = 0;
    std::FILE* f_;
};

TEST(FormatEta, SecondsMinutesHours) {
    EXPECT_EQ(format_eta(45), "45s");
    EXPECT_EQ(format_eta(185), "3m05s");
    EXPECT_EQ(format_eta(3720), "1h02m");
}

TEST(Progress, LinesModePrintsOneLinePerTenth) {
    Captured out;
    ProgressReporter p(ProgressStyle::Lines, out.file(), "image x");
    const std::uint64_t total = 1000;
    p.begin(0, total, 0.0);
    for (std::uint64_t done = 7; done <= total; done += 7)
        p.update(done, static_cast<double>(done) / 100.0);
    p.update(total, 10.0);
    p.finish(total, 10.0);
    auto lines = out.lines();
    ASSERT_EQ(lines.size(), 10U) << out.text();
    EXPECT_NE(lines.front().find("image x:  10%"), std::string::npos) << lines.front();
    EXPECT_NE(lines.back().find("100%"), std::string::npos) << lines.back();
    EXPECT_NE(lines.back().find("of 1000 B"), std::string::npos) << lines.back();
    for (const auto& l : lines)
        EXPECT_EQ(l.find('\r'), std::string::npos);
}

TEST(Progress, LinesModeOfAResumedDownloadStartsAtItsTenth) {
    Captured out;
    ProgressReporter p(ProgressStyle::Lines, out.file(), "x");
    p.begin(350, 1000, 0.0);
    for (std::uint64_t done = 360; done <= 1000; done += 10)
        p.update(done, 1.0);
    p.finish(1000, 1.0);
    EXPECT_EQ(out.lines().size(), 7U) << out.text(); // 40% .. 100%
}

TEST(Progress, LinesModeWithUnknownSizeEndsWithTheTotal) {
    Captured out;
    ProgressReporter p(ProgressStyle::Lines, out.file(), "x");
    p.begin(0, 0, 0.0);
    p.update(5u << 20, 1.0);
    p.finish(5u << 20, 2.0);
    auto lines = out.lines();
    ASSERT_EQ(lines.size(), 1U) << out.text();
    EXPECT_NE(lines[0].find("5.0 MiB, 2.5 MiB/s"), std::string::npos) << lines[0];
    EXPECT_EQ(lines[0].find('%'), std::string::npos);
}

TEST(Progress, TtyModeRedrawsOneLineWithRateAndEta) {
    Captured out;
    ProgressReporter p(ProgressStyle::Tty, out.file(), "image y");
    p.begin(0, 100u << 20, 0.0);
    p.update(25u << 20, 1.0);
    p.update(50u << 20, 2.0);
    p.finish(100u << 20, 4.0);
    std::string t = out.text();
    EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 1) << t;
    EXPECT_EQ(t.back(), '\n');
    EXPECT_NE(t.find("\rimage y:  25% 25.0 MiB of 100.0 MiB, 25.0 MiB/s, 3s left"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("100%"), std::string::npos);
}

TEST(Progress, TtyModeEndsItsLineWhenAborted) {
    Captured out;
    ProgressReporter p(ProgressStyle::Tty, out.file(), "z");
    p.begin(0, 100, 0.0);
    p.update(10, 1.0);
    p.abort();
    std::string t = out.text();
    EXPECT_EQ(t.back(), '\n');
}

TEST(Progress, QuietPrintsNothing) {
    Captured out;
    ProgressReporter p(ProgressStyle::Quiet, out.file(), "q");
    p.begin(0, 100, 0.0);
    p.update(50, 1.0);
    p.finish(100, 2.0);
    EXPECT_TRUE(out.text().empty());
}

} // namespace
} // namespace fleetbox::fetch
