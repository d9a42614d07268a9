// The command line fleetbox sends to sshd for one exec, and the pieces that let a timeout or
// a cancellation really stop it (ADR 0018).
//
// Why: sshd runs an exec request as `$SHELL -c <command>` and a "signal" channel request
// reaches at most that one process (and OpenSSH honors it only in some versions). A command
// such as `sh -c 'sleep 300 & sleep 300; wait'` leaves its children running. So a command
// that must be stoppable is wrapped: `setsid -f -w` starts it in a fresh session, hence a
// fresh process group whose id is the pid of the wrapper's inner shell; that shell prints
// "fleetbox-pgid=<pgid>" as the FIRST line of stdout and then runs the user's command through
// the login shell as its child. The host strips that line (PgidMarker) and, to stop the
// command, runs `kill -s KILL -- -<pgid>` on a second channel (through `sudo -n` when the
// command runs as root). Every process of the command dies in one kill(2), including the
// children it forked, unless one left the group itself (setsid, a daemon).
//
// The inner shell keeps the user's command as a child and exits with its status, so a command
// killed by signal N still reports 128+N (as the login shell would).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace fleetbox::guest {

struct RemoteOptions {
    bool as_root = false;       // run through `sudo -n` (root, no password prompt)
    bool process_group = false; // own process group + pgid marker on stdout (killable)
};

// The exec-request text for `command` (which the guest's login shell runs as written).
// Without options the command is returned unchanged.
std::string wrap_command(const std::string& command, const RemoteOptions& options);

// The exec-request text that kills process group `pgid` (SIGKILL), as root when `as_root`.
std::string group_kill_command(long pgid, bool as_root);

inline constexpr std::string_view kPgidMarker = "fleetbox-pgid=";

// Takes the first line of a wrapped command's stdout when it is the pgid marker and passes
// every other byte through unchanged. A first line that is not a marker (the wrapper could
// not run) is passed through too.
class PgidMarker {
public:
    // Feeds one chunk of stdout; `deliver` gets the bytes meant for the caller (maybe none).
    template <typename Deliver>
    void feed(std::string_view chunk, Deliver&& deliver) {
        if (done_) {
            deliver(chunk);
            return;
        }
        head_.append(chunk);
        settle();
        if (done_ && !head_.empty()) {
            std::string rest = std::move(head_);
            head_.clear();
            deliver(std::string_view(rest));
        }
    }
    // At the end of the stream: what is still held back (an unfinished first line).
    std::string flush() {
        done_ = true;
        return std::exchange(head_, std::string());
    }
    [[nodiscard]] std::optional<long> pgid() const { return pgid_; }
    // True once the first line was decided (marker taken, or not a marker).
    [[nodiscard]] bool decided() const { return done_; }

private:
    void settle();

    std::string head_;
    std::optional<long> pgid_;
    bool done_ = false;
};

} // namespace fleetbox::guest
