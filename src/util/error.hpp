// Error and Result: the one way fleetbox code reports failure.
//
// Why: library code never throws across its API and never exits. The types themselves are
// public (include/fleetbox/error.hpp, where their rules are written down); this header adds
// what only fleetbox's own code uses: the fail() constructors and the FBX_TRY/FBX_CHECK
// propagation macros.
#pragma once

#include <fleetbox/error.hpp>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace fleetbox {

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
