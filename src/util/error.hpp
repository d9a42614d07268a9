// Error and Result: the one way fleetbox code reports failure.
//
// Why: library code never throws across its API and never exits. Every fallible call returns
// Result<T> (tl::expected, since g++ 12 has no std::expected). An Error says what kind of
// failure it was (so callers can branch, and the CLI can pick a hint), which operation failed
// (with the path or name it touched), why, and optionally what the user can do about it.
// The CLI prints it as one line: "error: <operation>: <why>" plus "hint: <hint>".
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace fleetbox {

enum class ErrorKind {
    Io,                // a system call failed (errno set)
    InvalidArgument,   // the caller's input is wrong
    NotFound,          // a named thing does not exist
    AlreadyExists,     // a named thing exists and must not
    Busy,              // held by someone else (lock, running VM)
    Timeout,           // a bounded wait ran out
    MissingDependency, // a required external program or package is missing
    ExternalCommand,   // an external program ran and failed
    Corrupt,           // stored data could not be parsed or verified
    NoSpace,           // out of disk space
    Network,           // a remote (mirror, peer) could not be reached
    Permission,        // not allowed (root, capabilities, ownership)
    Interrupted,       // the user pressed Ctrl-C or the process got SIGTERM
    Internal,          // a bug or an impossible state
};

std::string_view to_string(ErrorKind kind);

struct Error {
    ErrorKind kind = ErrorKind::Internal;
    int err_no = 0;        // errno of the failing call, 0 when not a system call
    std::string operation; // what was being done, e.g. "open /x/config.json"
    std::string context;   // why it failed, when errno alone does not say it
    std::string hint;      // what the user can do, may be empty

    // "<operation>: <why>", where why is the context, strerror(err_no), or both.
    [[nodiscard]] std::string message() const;

    // Prefix the operation with an outer step, e.g. wrap("build image debian-12").
    [[nodiscard]] Error wrap(std::string_view outer) const&;
    [[nodiscard]] Error wrap(std::string_view outer) &&;
    [[nodiscard]] Error with_hint(std::string h) &&;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

[[nodiscard]] inline tl::unexpected<Error> fail(Error e) {
    return tl::unexpected<Error>(std::move(e));
}
[[nodiscard]] tl::unexpected<Error> fail(ErrorKind kind, std::string operation,
                                         std::string context = {}, std::string hint = {});
// An Io error from errno (captured by the caller right after the failing call).
[[nodiscard]] tl::unexpected<Error> fail_errno(std::string operation, int err_no);
[[nodiscard]] Error errno_error(std::string operation, int err_no);

} // namespace fleetbox

// Propagate an error from an expression returning Result<T>; evaluates to the value.
// (GNU statement expression: the project builds only with g++/clang.)
#define FBX_TRY(expr)                                                                              \
    __extension__({                                                                                \
        auto&& fbx_try_result_ = (expr);                                                           \
        if (!fbx_try_result_)                                                                      \
            return ::tl::unexpected(std::move(fbx_try_result_).error());                           \
        std::move(fbx_try_result_).value();                                                        \
    })

// Same, for Status (Result<void>) expressions.
#define FBX_CHECK(expr)                                                                            \
    do {                                                                                           \
        auto&& fbx_check_result_ = (expr);                                                         \
        if (!fbx_check_result_)                                                                    \
            return ::tl::unexpected(std::move(fbx_check_result_).error());                         \
    } while (false)
