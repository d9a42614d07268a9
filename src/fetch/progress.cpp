// ProgressReporter (see progress.hpp). The rate is the average since this transfer began
// (bytes of this run only, so a resumed download does not claim an impossible speed); the
// ETA follows from it.
#include "fetch/progress.hpp"

#include "util/strings.hpp"

#include <cmath>
#include <fmt/format.h>

namespace fleetbox::fetch {

std::string format_eta(double seconds) {
    auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
    if (s < 60)
        return fmt::format("{}s", s);
    if (s < 3600)
        return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

ProgressReporter::ProgressReporter(ProgressStyle style, std::FILE* out, std::string label)
    : style_(out == nullptr ? ProgressStyle::Quiet : style), out_(out), label_(std::move(label)) {}

void ProgressReporter::begin(std::uint64_t start, std::uint64_t total, double now) {
    start_ = start;
    total_ = total;
    t0_ = now;
    last_tenth_ = total > 0 ? static_cast<int>(start * 10 / total) : 0;
    last_unknown_mark_ = start;
}

std::string ProgressReporter::line(std::uint64_t done, double now) const {
    double elapsed = now - t0_;
    double rate = elapsed > 0 ? static_cast<double>(done - start_) / elapsed : 0.0;
    std::string rate_text =
        rate > 0 ? format_bytes(static_cast<unsigned long long>(std::llround(rate))) + "/s"
                 : "-- MiB/s";
    if (total_ == 0)
        return fmt::format("{}: {}, {}", label_, format_bytes(done), rate_text);
    double fraction = static_cast<double>(done) / static_cast<double>(total_);
    std::string eta = "--";
    if (done >= total_)
        eta = "0s";
    else if (rate > 0)
        eta = format_eta(static_cast<double>(total_ - done) / rate);
    return fmt::format("{}: {:3.0f}% {} of {}, {}, {} left", label_, std::floor(fraction * 100),
                       format_bytes(done), format_bytes(total_), rate_text, eta);
}

void ProgressReporter::emit(const std::string& text, bool redraw) {
    if (redraw)
        std::fprintf(out_, "\r%s\033[K", text.c_str());
    else
        std::fprintf(out_, "%s\n", text.c_str());
    std::fflush(out_);
}

void ProgressReporter::update(std::uint64_t done, double now) {
    if (style_ == ProgressStyle::Tty) {
        if (last_draw_ >= 0 && now - last_draw_ < 0.25)
            return;
        last_draw_ = now;
        drawn_ = true;
        emit(line(done, now), true);
        return;
    }
    if (style_ != ProgressStyle::Lines)
        return;
    if (total_ > 0) {
        int tenth = static_cast<int>(std::min(done, total_) * 10 / total_);
        if (tenth > last_tenth_) {
            last_tenth_ = tenth;
            emit(line(done, now), false);
        }
        return;
    }
    // Unknown size: a line per 100 MiB.
    constexpr std::uint64_t kStep = std::uint64_t{100} << 20;
    if (done >= last_unknown_mark_ + kStep) {
        last_unknown_mark_ = done - done % kStep;
        emit(line(done, now), false);
    }
}

void ProgressReporter::finish(std::uint64_t done, double now) {
    if (finished_)
        return;
    finished_ = true;
    if (style_ == ProgressStyle::Tty) {
        emit(line(done, now), true);
        std::fputc('\n', out_);
        std::fflush(out_);
    } else if (style_ == ProgressStyle::Lines) {
        bool printed_last = total_ > 0 && last_tenth_ >= 10;
        if (!printed_last)
            emit(line(done, now), false);
    }
}

void ProgressReporter::abort() {
    if (style_ == ProgressStyle::Tty && drawn_ && !finished_) {
        std::fputc('\n', out_);
        std::fflush(out_);
    }
    finished_ = true;
}

} // namespace fleetbox::fetch
