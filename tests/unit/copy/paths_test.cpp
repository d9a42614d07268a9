// Guest path rules, shell quoting and the `fleetbox cp` plan (where a copy lands).
#include "copy/cp_plan.hpp"
#include "copy/paths.hpp"
#include "util/strings.hpp"

#include <gtest/gtest.h>
#include <set>

namespace fleetbox::copy {
namespace {

TEST(GuestPath, SplitsAndNormalizes) {
    auto p = parse_guest_path("/usr//local/./bin/");
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(p->path, "/usr/local/bin");
    EXPECT_EQ(p->dir, "/usr/local");
    EXPECT_EQ(p->base, "bin");
    auto top = parse_guest_path("/etc");
    ASSERT_TRUE(top);
    EXPECT_EQ(top->dir, "/");
    EXPECT_EQ(top->base, "etc");
    auto root = parse_guest_path("/");
    ASSERT_TRUE(root);
    EXPECT_EQ(root->path, "/");
    EXPECT_EQ(root->base, ".");
}

TEST(GuestPath, RefusesRelativeAndDotDot) {
    auto rel = parse_guest_path("x");
    ASSERT_FALSE(rel);
    EXPECT_EQ(rel.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(rel.error().message(), "guest path \"x\" must be absolute");
    EXPECT_FALSE(parse_guest_path(""));
    auto up = parse_guest_path("/a/../etc");
    ASSERT_FALSE(up);
    EXPECT_NE(up.error().message().find("must not contain \"..\""), std::string::npos);
}

TEST(ShellQuote, QuotesEverything) {
    EXPECT_EQ(shell_single_quote("a b"), "'a b'");
    EXPECT_EQ(shell_single_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_single_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    EXPECT_EQ(host_base("/a/b/"), "b");
    EXPECT_EQ(host_base("b"), "b");
}

struct Plan : ::testing::Test {
    std::set<std::string> dirs{"out", "/srv/data"};
    Result<CpPlan> plan(const std::string& src, const std::string& dst) {
        return plan_cp(src, dst, [this](const std::string& p) { return dirs.count(p) > 0; });
    }
    std::string error(const std::string& src, const std::string& dst) {
        auto p = plan(src, dst);
        return p ? "no error" : p.error().message();
    }
};

TEST_F(Plan, RefusesBadSides) {
    EXPECT_EQ(error("a:/x", "b:/y"),
              "VM-to-VM copy is not supported (one side must be a local path)");
    EXPECT_EQ(error("a", "b"), "either src or dst must use name:/path syntax");
    EXPECT_EQ(error(":/x", "."), "invalid remote syntax: missing VM name before ':'");
    EXPECT_EQ(error("x", ":/y"), "invalid remote syntax: missing VM name before ':'");
    EXPECT_EQ(error("web:etc/hostname", "."), "guest path \"etc/hostname\" must be absolute");
    EXPECT_EQ(error("x", "web:rel"), "guest path \"rel\" must be absolute");
    EXPECT_EQ(error("x", "web:"), "guest path \"\" must be absolute");
}

TEST_F(Plan, DownloadIntoADirectoryKeepsTheName) {
    for (std::string dst : {".", "..", "out", "new/", "/srv/data"}) {
        SCOPED_TRACE(dst);
        auto p = plan("web:/etc/hostname", dst);
        ASSERT_TRUE(p) << p.error().message();
        EXPECT_FALSE(p->upload);
        EXPECT_EQ(p->vm, "web");
        EXPECT_EQ(p->remote, "/etc/hostname");
        EXPECT_EQ(p->local, dst + (dst.back() == '/' ? "" : "/") + "hostname");
    }
    auto exact = plan("web:/etc/hostname", "name.txt");
    ASSERT_TRUE(exact);
    EXPECT_EQ(exact->local, "name.txt");
    // The VM name is the text before the first colon; the rest is the path.
    auto colon = plan("web:/a:b", "x");
    ASSERT_TRUE(colon);
    EXPECT_EQ(colon->vm, "web");
    EXPECT_EQ(colon->remote, "/a:b");
}

TEST_F(Plan, GuestRootNeedsAnExplicitDestination) {
    EXPECT_EQ(error("web:/", "."),
              "copying the guest root needs an explicit local destination path");
    EXPECT_EQ(error("web:/", "out"),
              "copying the guest root needs an explicit local destination path");
    auto p = plan("web:/", "rootfs");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->local, "rootfs");
}

TEST_F(Plan, UploadIsExactUnlessTheGuestPathEndsWithSlash) {
    auto exact = plan("./bin", "web:/usr/local/bin");
    ASSERT_TRUE(exact);
    EXPECT_TRUE(exact->upload);
    EXPECT_EQ(exact->local, "./bin");
    EXPECT_EQ(exact->remote, "/usr/local/bin");
    auto into = plan("./bin", "web:/usr/local/bin/");
    ASSERT_TRUE(into);
    EXPECT_EQ(into->remote, "/usr/local/bin/bin");
    auto slash = plan("build/app/", "web:/opt/");
    ASSERT_TRUE(slash);
    EXPECT_EQ(slash->remote, "/opt/app");
    auto root = plan("x", "web:/");
    ASSERT_TRUE(root);
    EXPECT_EQ(root->remote, "/x");
    EXPECT_FALSE(plan("/", "web:/tmp/"));
}

} // namespace
} // namespace fleetbox::copy
