// fleetbox::Error and fleetbox::Result: how every public call reports failure.
//
// Why: the library never throws across its API and never exits the caller's process. Every
// fallible call returns Result<T> (tl::expected, the C++23 std::expected shape, since g++ 12
// has no std::expected): either the value or an Error. An Error says what kind of failure it
// was (so callers can branch on kind), which operation failed (with the path or VM it
// touched), why, and usually what to do about it. The CLI prints it as
// "error: <message()>" plus "hint: <hint>".
//
//   auto vm = fleetbox::start("web");
//   if (!vm) { std::cerr << vm.error().message() << "\n" << vm.error().hint << "\n"; }
#pragma once

#include <fleetbox/export.hpp>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace fleetbox {

enum class ErrorKind {
    Io,                // a system call failed (err_no set)
    InvalidArgument,   // the caller's input is wrong
    NotFound,          // a named thing does not exist
    AlreadyExists,     // a named thing exists and must not
    Busy,              // held by someone else (lock, running VM)
    Timeout,           // a bounded wait ran out
    MissingDependency, // a required external program or package is missing
    ExternalCommand,   // an external program ran and failed
    Corrupt,           // stored data could not be parsed or verified
    NoSpace,           // out of disk space
    Network,           // a remote (VM, mirror, peer) could not be reached
    Permission,        // not allowed (root, capabilities, ownership)
    Interrupted,       // Ctrl-C, SIGTERM, or the caller's cancellation
    Internal,          // a bug or an impossible state
};

// "io", "invalid-argument", "not-found", ... (stable: scripts and logs may match on it).
// Pure; never fails.
FLEETBOX_API std::string_view to_string(ErrorKind kind);

// A value type (copyable); holds no resources. Its methods are pure and never fail.
struct FLEETBOX_API Error {
    ErrorKind kind = ErrorKind::Internal;
    int err_no = 0;        // errno of the failing call, 0 when not a system call
    std::string operation; // what was being done, e.g. "open /x/config.json"
    std::string context;   // why it failed, when errno alone does not say it
    std::string hint;      // what the user can do, may be empty

    // "<operation>: <why>", where why is the context, strerror(err_no), or both. One line.
    [[nodiscard]] std::string message() const;

    // Prefix the operation with an outer step, e.g. wrap("build image debian-12").
    [[nodiscard]] Error wrap(std::string_view outer) const&;
    [[nodiscard]] Error wrap(std::string_view outer) &&;
    [[nodiscard]] Error with_hint(std::string h) &&;
};

// The value or the Error; check before use (`if (!r) ... r.error()`), `*r` / `r->` after.
template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

} // namespace fleetbox
