// Capped log files: a log that outgrew its cap is rotated in place ("copy-truncate").
//
// Why: serial.log holds whatever the guest writes on its console, so an untrusted guest could
// fill the host's disk through it; qemu.log and helper.log grow with every event of a
// long-lived VM or helper. The writers (QEMU's serial chardev with append=on, QEMU's and the
// helper's stdout/stderr opened O_APPEND) keep their file descriptors for their whole life and
// can't be told to reopen, so the file is never renamed away from under them: its content is
// copied to `<log>.1` (replacing the previous .1 by an atomic rename) and the log is truncated
// to zero; the writers' next append lands at the new end. Bytes written between the copy and
// the truncation are lost (a window of one copy of at most a few MiB), which a log can afford.
//
// Caps (ADR 0005, "capped logs"): serial.log 8 MiB (a guest's boot and a long test session's
// console fit many times over), qemu.log and helper.log 1 MiB (one line per event). So a
// member directory holds at most twice each cap in logs.
//
// Symlinks: a store directory belongs to its (trusted, but not root-trusted) owner, who could
// plant a symlink as a log name. Everything here works relative to a directory descriptor,
// opens with O_NOFOLLOW, and replaces `.1` with renameat(2), which replaces a symlink itself
// rather than following it; a log that is not a regular file is left alone.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>

namespace fleetbox {

inline constexpr std::uint64_t kSerialLogCap = 8ULL << 20;
inline constexpr std::uint64_t kQemuLogCap = 1ULL << 20;
inline constexpr std::uint64_t kHelperLogCap = 1ULL << 20;

// Rotates `dir_fd`/`name` when it is a regular file larger than `cap` bytes; returns whether it
// did. A missing log is not an error.
Result<bool> cap_log_at(int dir_fd, const std::string& name, std::uint64_t cap);

// Same, in the directory `dir` (opened O_DIRECTORY | O_NOFOLLOW: a symlinked directory is
// refused, not followed).
Result<bool> cap_log_in(const std::string& dir, const std::string& name, std::uint64_t cap);

} // namespace fleetbox
