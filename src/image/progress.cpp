// Progress output (see progress.hpp). The terminal line is redrawn with "\r\033[K" (return
// to column 0, erase to end of line), which every ANSI/VT100-style terminal understands.
// Lines are truncated to the terminal width (TIOCGWINSZ) so a redraw never wraps.
#include "image/progress.hpp"

#include "util/clock.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace fleetbox::image {

namespace {

std::size_t terminal_width(std::FILE* out) {
    winsize ws{};
    if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
        return ws.ws_col;
    return 100;
}

} // namespace

ProgressMode resolve_progress_mode(ProgressMode mode, std::FILE* out) {
    if (mode != ProgressMode::Auto)
        return mode;
    return (out != nullptr && ::isatty(::fileno(out))) ? ProgressMode::Tty : ProgressMode::Plain;
}

Progress::Progress(ProgressMode mode, std::string subject, std::FILE* out)
    : mode_(resolve_progress_mode(mode, out)), subject_(std::move(subject)), out_(out) {
    if (out_ == nullptr)
        mode_ = ProgressMode::Quiet;
    if (mode_ == ProgressMode::Tty)
        thread_ = std::thread([this] { ticker(); });
}

Progress::~Progress() {
    {
        std::lock_guard lock(mu_);
        if (active_)
            finish("stopped");
    }
    stop_ticker();
}

void Progress::stop_ticker() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void Progress::begin(const std::string& phase) {
    if (mode_ == ProgressMode::Quiet)
        return;
    std::lock_guard lock(mu_);
    if (active_)
        finish("done");
    phase_ = phase;
    detail_.clear();
    active_ = true;
    started_ = std::chrono::steady_clock::now();
    if (mode_ == ProgressMode::Plain)
        fmt::print(out_, "{}: {}...\n", subject_, phase_);
    else
        draw_locked();
    std::fflush(out_);
}

void Progress::detail(const std::string& text) {
    if (mode_ != ProgressMode::Tty)
        return;
    std::lock_guard lock(mu_);
    if (!active_ || text == detail_)
        return;
    detail_ = text;
    draw_locked();
}

void Progress::done() {
    std::lock_guard lock(mu_);
    if (active_)
        finish("done");
}

void Progress::failed(const char* verdict) {
    std::lock_guard lock(mu_);
    if (active_)
        finish(verdict);
}

void Progress::note(const std::string& line) {
    if (mode_ == ProgressMode::Quiet)
        return;
    std::lock_guard lock(mu_);
    if (mode_ == ProgressMode::Tty && active_)
        fmt::print(out_, "\r\033[K");
    fmt::print(out_, "{}: {}\n", subject_, line);
    if (mode_ == ProgressMode::Tty && active_)
        draw_locked();
    std::fflush(out_);
}

// Caller holds mu_.
void Progress::finish(const char* verdict) {
    active_ = false;
    if (mode_ == ProgressMode::Quiet)
        return;
    std::string elapsed = format_duration(seconds_since(started_));
    if (mode_ == ProgressMode::Tty)
        fmt::print(out_, "\r\033[K");
    fmt::print(out_, "{}: {}... {} ({})\n", subject_, phase_, verdict, elapsed);
    std::fflush(out_);
}

// Caller holds mu_.
void Progress::draw_locked() {
    std::string line =
        fmt::format("{}: {}... {}", subject_, phase_, format_duration(seconds_since(started_)));
    if (!detail_.empty())
        line += "  " + detail_;
    std::size_t width = terminal_width(out_) - 1;
    if (line.size() > width)
        line.resize(width);
    fmt::print(out_, "\r\033[K{}", line);
    std::fflush(out_);
}

void Progress::ticker() {
    std::unique_lock lock(mu_);
    while (!stop_) {
        cv_.wait_for(lock, std::chrono::milliseconds(500));
        if (!stop_ && active_)
            draw_locked();
    }
}

} // namespace fleetbox::image
