// Progress of one download as the user sees it: a redrawn line on a terminal, a line per
// tenth of the file in a log (CI), or nothing.
//
// Why separate from the transfer: the output is the part users read, and it is tested on its
// own with a fake clock (the transfer feeds it byte counts and times, nothing else).
#pragma once

#include "fetch/fetch.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

namespace fleetbox::fetch {

// "45s", "3m05s", "1h02m".
[[nodiscard]] std::string format_eta(double seconds);

class ProgressReporter {
public:
    // `start` is where this transfer begins (the resumed .part's size); times are seconds on
    // a clock the caller chooses (monotonic in production).
    ProgressReporter(ProgressStyle style, std::FILE* out, std::string label);

    // A new response: `start` bytes already on disk, `total` the whole file (0: unknown).
    void begin(std::uint64_t start, std::uint64_t total, double now);
    // `done` bytes of the whole file are on disk.
    void update(std::uint64_t done, double now);
    // The last byte arrived: Tty ends its line, Lines prints the closing line if not yet.
    void finish(std::uint64_t done, double now);
    // The transfer stopped early: a Tty line is ended so the error starts on its own line.
    void abort();

private:
    [[nodiscard]] std::string line(std::uint64_t done, double now) const;
    void emit(const std::string& text, bool redraw);

    ProgressStyle style_;
    std::FILE* out_;
    std::string label_;
    std::uint64_t start_ = 0;
    std::uint64_t total_ = 0;
    double t0_ = 0;
    double last_draw_ = -1;
    int last_tenth_ = 0;
    std::uint64_t last_unknown_mark_ = 0;
    bool drawn_ = false;
    bool finished_ = false;
};

} // namespace fleetbox::fetch
