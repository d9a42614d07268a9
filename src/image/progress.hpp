// Progress of a long image operation, one phase at a time.
//
// Why: an image build takes minutes; a user at a terminal should see which phase it is in
// and that it is alive, while a CI log (not a terminal) should get plain lines, and a -q
// run nothing at all. On a terminal each phase is one line rewritten in place (carriage
// return + erase-line) with its elapsed time ticking every half second from a small
// background thread, and left behind as "... done (52.3 s)" when the phase ends.
// Everything is plain ASCII so logs and dumb terminals render it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace fleetbox::image {

enum class ProgressMode { Auto, Tty, Plain, Quiet };

// Auto -> Tty when `out` is a terminal, else Plain.
ProgressMode resolve_progress_mode(ProgressMode mode, std::FILE* out);

class Progress {
public:
    // `subject` prefixes every line, e.g. "image debian-12". `out` is not owned.
    Progress(ProgressMode mode, std::string subject, std::FILE* out = stderr);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // Start a phase ("bootstrap packages"); ends a phase still open first.
    void begin(const std::string& phase);
    // Extra detail shown after the elapsed time on a terminal (e.g. mmdebstrap's own step);
    // ignored in plain mode, which prints only phase boundaries.
    void detail(const std::string& text);
    // End the current phase as done / failed.
    void done();
    void failed(const char* verdict = "failed"); // e.g. "interrupted"
    // A standalone line ("reusing cached image ...").
    void note(const std::string& line);

    [[nodiscard]] ProgressMode mode() const { return mode_; }

private:
    void finish(const char* verdict);
    void draw_locked();
    void ticker();
    void stop_ticker();

    ProgressMode mode_;
    std::string subject_;
    std::FILE* out_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::string phase_;
    std::string detail_;
    bool active_ = false;
    bool stop_ = false;
    std::chrono::steady_clock::time_point started_;
    std::thread thread_;
};

} // namespace fleetbox::image
