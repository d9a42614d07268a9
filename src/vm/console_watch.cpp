// ConsoleWatch: pread(2) of the appended part of the console log, split into lines. The log
// is opened (O_NOFOLLOW) once it exists and kept open; restart() drops it, because every
// launch writes a new log.
#include "vm/console_watch.hpp"

#include "sys/fd.hpp"
#include "util/strings.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace fleetbox {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxLine = 4096; // a longer "line" is not a marker line: drop it
} // namespace

std::string printable_excerpt(const std::string& text, std::size_t max) {
    std::string out;
    for (unsigned char c : text)
        if (c >= 0x20 && c < 0x7f)
            out += static_cast<char>(c);
    out = std::string(trim(out));
    if (out.size() > max)
        out = out.substr(0, max) + "...";
    return out;
}

void ConsoleWatch::restart() {
    fd_.reset();
    offset_ = 0;
    partial_.clear();
}

std::optional<std::string> ConsoleWatch::failure() {
    if (!fd_)
        fd_ = Fd(::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd_)
        return std::nullopt;
    char buf[kReadChunk];
    for (;;) {
        ssize_t n = ::pread(fd_.get(), buf, sizeof buf, offset_);
        if (n <= 0)
            return std::nullopt;
        offset_ += n;
        partial_.append(buf, static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos;
             start = nl + 1) {
            std::string line = printable_excerpt(partial_.substr(start, nl - start), kMaxLine);
            if (starts_with(line, marker_)) {
                partial_.erase(0, nl + 1); // reported once; a later call looks further on
                return printable_excerpt(line.substr(marker_.size()));
            }
        }
        partial_.erase(0, start);
        if (partial_.size() > kMaxLine)
            partial_.clear();
    }
}

} // namespace fleetbox
