// ConsoleWatch: notices a failure the guest reports on its serial console while it boots.
//
// Why: a guest whose identity cannot be applied (a damaged seed, a missing NIC) never opens
// its SSH port, and without this the host would only learn so at the boot timeout (10 minutes
// under TCG). Images fleetbox builds print one line starting with kMarkerSeedFailed instead;
// the helper's boot wait polls this watch and fails the boot at once, naming the reason and
// the console log. The log is guest output: it is only searched for the marker, and the text
// shown is cut to one printable line.
#pragma once

#include "sys/fd.hpp"

#include <optional>
#include <string>
#include <sys/types.h>

namespace fleetbox {

class ConsoleWatch {
public:
    ConsoleWatch(std::string log_path, std::string marker)
        : path_(std::move(log_path)), marker_(std::move(marker)) {}

    // A new boot attempt writes a new log: start over at its beginning.
    void restart();
    // The rest of the first line that starts with the marker (trimmed, printable ASCII, at
    // most 200 characters), once that line is complete; nullopt until then. Reads only what
    // was appended since the last call. A missing or unreadable log reads as "nothing yet".
    std::optional<std::string> failure();

private:
    std::string path_;
    std::string marker_;
    Fd fd_; // the log of this attempt, opened once it exists
    off_t offset_ = 0;
    std::string partial_; // an incomplete last line, kept for the next call
};

// The printable ASCII of `text`, trimmed and cut to `max` characters (guest data in messages).
std::string printable_excerpt(const std::string& text, std::size_t max = 200);

} // namespace fleetbox
