// Unit tests for util/error: Error::message() formatting, wrap()/with_hint(), errno_error's
// kind mapping, and the FBX_TRY / FBX_CHECK propagation macros.
//
// Why: every fleetbox failure reaches the user through Error::message(), and callers branch on
// ErrorKind (e.g. NotFound vs Io), so both the text shape and the errno->kind mapping are API.
#include "util/error.hpp"

#include <cerrno>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>
#include <set>
#include <string>

namespace fleetbox {
namespace {

TEST(ErrorMessage, OperationOnly) {
    Error e{ErrorKind::Internal, 0, "open /x/config.json", "", ""};
    EXPECT_EQ(e.message(), "open /x/config.json");
}

TEST(ErrorMessage, ContextOnly) {
    Error e{ErrorKind::InvalidArgument, 0, "", "name must not be empty", ""};
    EXPECT_EQ(e.message(), "name must not be empty");
}

TEST(ErrorMessage, ErrnoOnlyIsStrerror) {
    Error e{ErrorKind::Io, ENOENT, "", "", ""};
    EXPECT_EQ(e.message(), std::string(std::strerror(ENOENT)));
}

TEST(ErrorMessage, OperationAndErrno) {
    Error e{ErrorKind::Io, EACCES, "open /etc/shadow", "", ""};
    EXPECT_EQ(e.message(), "open /etc/shadow: " + std::string(std::strerror(EACCES)));
}

TEST(ErrorMessage, OperationContextAndErrno) {
    Error e{ErrorKind::Io, ENOSPC, "write image", "disk full while copying", ""};
    EXPECT_EQ(e.message(),
              "write image: disk full while copying (" + std::string(std::strerror(ENOSPC)) + ")");
}

TEST(ErrorMessage, ContextAndErrnoWithoutOperation) {
    Error e{ErrorKind::Io, EEXIST, "", "cannot create", ""};
    EXPECT_EQ(e.message(), "cannot create (" + std::string(std::strerror(EEXIST)) + ")");
}

TEST(ErrorMessage, HintIsNotPartOfMessage) {
    Error e{ErrorKind::MissingDependency, 0, "run qemu-img", "not found",
            "apt-get install qemu-utils"};
    EXPECT_EQ(e.message(), "run qemu-img: not found");
}

TEST(ErrorMessage, EverythingEmptyIsEmpty) {
    EXPECT_EQ(Error{}.message(), "");
}

TEST(ErrorWrap, PrefixesOperation) {
    Error e{ErrorKind::NotFound, ENOENT, "open /a", "ctx", "hint"};
    Error w = e.wrap("build image debian-12");
    EXPECT_EQ(w.operation, "build image debian-12: open /a");
    EXPECT_EQ(w.kind, ErrorKind::NotFound);
    EXPECT_EQ(w.err_no, ENOENT);
    EXPECT_EQ(w.context, "ctx");
    EXPECT_EQ(w.hint, "hint");
    // The const& overload leaves the original untouched.
    EXPECT_EQ(e.operation, "open /a");
}

TEST(ErrorWrap, EmptyOperationBecomesOuter) {
    Error w = Error{ErrorKind::Io, 0, "", "why", ""}.wrap("outer step");
    EXPECT_EQ(w.operation, "outer step");
    EXPECT_EQ(w.message(), "outer step: why");
}

TEST(ErrorWrap, NestsOutermostFirst) {
    Error w = Error{ErrorKind::Io, 0, "inner", "", ""}.wrap("middle").wrap("outer");
    EXPECT_EQ(w.message(), "outer: middle: inner");
}

TEST(ErrorWrap, WithHintReplacesHint) {
    Error w = Error{ErrorKind::Busy, 0, "lock", "", "old"}.with_hint("stop the other fleetbox");
    EXPECT_EQ(w.hint, "stop the other fleetbox");
    EXPECT_EQ(w.kind, ErrorKind::Busy);
}

TEST(ErrorKindMapping, ErrnoErrorMapsKinds) {
    EXPECT_EQ(errno_error("op", ENOENT).kind, ErrorKind::NotFound);
    EXPECT_EQ(errno_error("op", EEXIST).kind, ErrorKind::AlreadyExists);
    EXPECT_EQ(errno_error("op", ENOSPC).kind, ErrorKind::NoSpace);
    EXPECT_EQ(errno_error("op", EDQUOT).kind, ErrorKind::NoSpace);
    EXPECT_EQ(errno_error("op", EACCES).kind, ErrorKind::Permission);
    EXPECT_EQ(errno_error("op", EPERM).kind, ErrorKind::Permission);
    EXPECT_EQ(errno_error("op", EWOULDBLOCK).kind, ErrorKind::Busy);
    EXPECT_EQ(errno_error("op", EBUSY).kind, ErrorKind::Busy);
    EXPECT_EQ(errno_error("op", EIO).kind, ErrorKind::Io);
    EXPECT_EQ(errno_error("op", EINVAL).kind, ErrorKind::Io);
}

TEST(ErrorKindMapping, ErrnoErrorKeepsErrnoAndOperation) {
    Error e = errno_error("stat /nope", ENOENT);
    EXPECT_EQ(e.err_no, ENOENT);
    EXPECT_EQ(e.operation, "stat /nope");
    EXPECT_EQ(e.message(), "stat /nope: " + std::string(std::strerror(ENOENT)));
}

TEST(ErrorKindMapping, FailErrnoMatchesErrnoError) {
    auto u = fail_errno("read x", EEXIST);
    EXPECT_EQ(u.value().kind, ErrorKind::AlreadyExists);
    EXPECT_EQ(u.value().err_no, EEXIST);
    EXPECT_EQ(u.value().operation, "read x");
}

TEST(ErrorKindMapping, FailFillsAllFields) {
    Result<int> r = fail(ErrorKind::Corrupt, "parse manifest", "bad json", "delete it");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
    EXPECT_EQ(r.error().err_no, 0);
    EXPECT_EQ(r.error().operation, "parse manifest");
    EXPECT_EQ(r.error().context, "bad json");
    EXPECT_EQ(r.error().hint, "delete it");
}

TEST(ErrorKindNames, AreDistinctAndKnown) {
    const ErrorKind all[] = {ErrorKind::Io,
                             ErrorKind::InvalidArgument,
                             ErrorKind::NotFound,
                             ErrorKind::AlreadyExists,
                             ErrorKind::Busy,
                             ErrorKind::Timeout,
                             ErrorKind::MissingDependency,
                             ErrorKind::ExternalCommand,
                             ErrorKind::Corrupt,
                             ErrorKind::NoSpace,
                             ErrorKind::Network,
                             ErrorKind::Permission,
                             ErrorKind::Interrupted,
                             ErrorKind::Internal};
    std::set<std::string> names;
    for (auto k : all) {
        std::string n(to_string(k));
        EXPECT_NE(n, "unknown");
        EXPECT_FALSE(n.empty());
        names.insert(n);
    }
    EXPECT_EQ(names.size(), std::size(all));
    EXPECT_EQ(to_string(ErrorKind::NotFound), "not-found");
    EXPECT_EQ(to_string(ErrorKind::MissingDependency), "missing-dependency");
}

// --- FBX_TRY / FBX_CHECK -------------------------------------------------------------------

Result<int> parse_positive(int v) {
    if (v <= 0)
        return fail(ErrorKind::InvalidArgument, "parse", "not positive");
    return v;
}

int g_after_try = 0;

Result<int> doubled(int v) {
    int x = FBX_TRY(parse_positive(v));
    ++g_after_try;
    return x * 2;
}

TEST(FbxTry, YieldsValueOnSuccess) {
    g_after_try = 0;
    auto r = doubled(21);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 42);
    EXPECT_EQ(g_after_try, 1);
}

TEST(FbxTry, PropagatesErrorAndStopsEarly) {
    g_after_try = 0;
    auto r = doubled(-1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(r.error().operation, "parse");
    EXPECT_EQ(r.error().context, "not positive");
    EXPECT_EQ(g_after_try, 0);
}

Result<std::unique_ptr<int>> make_box(bool ok) {
    if (!ok)
        return fail(ErrorKind::NoSpace, "alloc");
    return std::make_unique<int>(7);
}

// FBX_TRY works with move-only values and converts between Result types (here into a Status).
Status use_box(bool ok, int& out) {
    std::unique_ptr<int> box = FBX_TRY(make_box(ok));
    out = *box;
    return {};
}

TEST(FbxTry, MoveOnlyValueAndDifferentResultType) {
    int out = 0;
    EXPECT_TRUE(use_box(true, out));
    EXPECT_EQ(out, 7);
    out = 0;
    auto st = use_box(false, out);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::NoSpace);
    EXPECT_EQ(out, 0);
}

int g_evaluations = 0;
Result<int> counted() {
    ++g_evaluations;
    return 5;
}
Result<int> use_counted() {
    return FBX_TRY(counted()) + 1;
}

TEST(FbxTry, EvaluatesExpressionOnce) {
    g_evaluations = 0;
    auto r = use_counted();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 6);
    EXPECT_EQ(g_evaluations, 1);
}

Status step(bool ok) {
    if (!ok)
        return fail(ErrorKind::Busy, "step", "held");
    return {};
}

int g_steps_done = 0;
Result<std::string> two_steps(bool first, bool second) {
    FBX_CHECK(step(first));
    ++g_steps_done;
    FBX_CHECK(step(second));
    ++g_steps_done;
    return std::string("done");
}

TEST(FbxCheck, PassesThroughOnSuccess) {
    g_steps_done = 0;
    auto r = two_steps(true, true);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "done");
    EXPECT_EQ(g_steps_done, 2);
}

TEST(FbxCheck, PropagatesFirstFailure) {
    g_steps_done = 0;
    auto r = two_steps(true, false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Busy);
    EXPECT_EQ(r.error().context, "held");
    EXPECT_EQ(g_steps_done, 1);

    g_steps_done = 0;
    EXPECT_FALSE(two_steps(false, true));
    EXPECT_EQ(g_steps_done, 0);
}

} // namespace
} // namespace fleetbox
