// wrap_command / group_kill_command / PgidMarker (see remote_command.hpp and ADR 0018).
//
// Quoting: the user's command travels as ONE single-quoted word ($1 of the inner shell), so
// no character of it is interpreted by the wrapper; the inner script itself is constant.
#include "guest/remote_command.hpp"

#include "util/strings.hpp"

#include <cctype>
#include <climits>

namespace fleetbox::guest {

namespace {

// Run by `sh` as the new group's leader: announce the pgid ($$: setsid made this shell the
// leader), then run the command through the login shell as a child and pass its status on.
constexpr std::string_view kGroupScript =
    "printf 'fleetbox-pgid=%s\\n' \"$$\"; \"${SHELL:-/bin/sh}\" -c \"$1\"; exit $?";
// Only for sudo: the target user's login shell runs the command.
constexpr std::string_view kPlainScript = "exec \"${SHELL:-/bin/sh}\" -c \"$1\"";
// "$0" of the inner shell: names it in ps and in its own error messages.
constexpr std::string_view kArgv0 = "fleetbox-exec";
// A marker line is short; anything longer without a newline is the command's own output.
constexpr std::size_t kMaxMarkerLine = 40;

bool all_digits(std::string_view s) {
    for (char c : s)
        if (std::isdigit(static_cast<unsigned char>(c)) == 0)
            return false;
    return true;
}

} // namespace

std::string wrap_command(const std::string& command, const RemoteOptions& options) {
    if (!options.as_root && !options.process_group)
        return command;
    std::string out = "exec ";
    if (options.as_root)
        out += "sudo -n ";
    if (options.process_group)
        out += "setsid -f -w ";
    out += "sh -c ";
    out += shell_quote(options.process_group ? kGroupScript : kPlainScript);
    out += ' ';
    out += kArgv0;
    out += ' ';
    out += shell_quote(command);
    return out;
}

std::string group_kill_command(long pgid, bool as_root) {
    if (pgid <= 1)
        return "false"; // never `kill -- -1` (every process the user may signal)
    std::string kill = "kill -s KILL -- -" + std::to_string(pgid);
    return as_root ? "sudo -n " + kill : kill;
}

void PgidMarker::settle() {
    auto nl = head_.find('\n');
    std::string_view line(head_);
    if (nl != std::string::npos)
        line = line.substr(0, nl);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    const bool prefix_ok = line.size() <= kMaxMarkerLine &&
                           (starts_with(line, kPgidMarker) || starts_with(kPgidMarker, line)) &&
                           all_digits(line.substr(std::min(line.size(), kPgidMarker.size())));
    if (nl == std::string::npos) {
        done_ = !prefix_ok; // not (the start of) a marker: hand everything over
        return;
    }
    done_ = true;
    auto digits =
        line.size() > kPgidMarker.size() ? line.substr(kPgidMarker.size()) : std::string_view();
    if (!prefix_ok || digits.empty() || digits.size() > 9)
        return; // a first line of the command's own: passed through as is
    long value = std::stol(std::string(digits));
    if (value <= 1 || value > INT_MAX)
        return;
    pgid_ = value;
    head_.erase(0, nl + 1);
}

} // namespace fleetbox::guest
