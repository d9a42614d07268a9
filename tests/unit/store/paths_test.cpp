// Store root resolution: FLEETBOX_HOME (verbatim, made absolute), else ~/.fleetbox of the
// invoking user (the CLI drops to SUDO_USER first; a process that stays root is root).
#include "store/paths.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using test::ScopedEnv;
using test::ScratchDir;

// Runs the test body with the current directory set to `dir`, restoring it afterwards.
class ScopedCwd {
public:
    explicit ScopedCwd(const std::string& dir) {
        char buf[4096];
        old_ = ::getcwd(buf, sizeof buf) ? buf : "/";
        EXPECT_EQ(::chdir(dir.c_str()), 0);
    }
    ~ScopedCwd() {
        if (::chdir(old_.c_str()) != 0)
            ADD_FAILURE() << "cannot return to " << old_;
    }
    ScopedCwd(const ScopedCwd&) = delete;
    ScopedCwd& operator=(const ScopedCwd&) = delete;

private:
    std::string old_;
};

TEST(StoreRoot, FleetboxHomeIsUsedVerbatim) {
    ScopedEnv home("FLEETBOX_HOME", "/some/where/fb");
    auto root = resolve_store_root();
    ASSERT_TRUE(root) << root.error().message();
    EXPECT_EQ(*root, "/some/where/fb");
}

TEST(StoreRoot, TrailingSlashesAreDropped) {
    ScopedEnv home("FLEETBOX_HOME", "/some/where/fb//");
    EXPECT_EQ(resolve_store_root().value(), "/some/where/fb");
}

TEST(StoreRoot, RelativeFleetboxHomeIsMadeAbsolute) {
    ScratchDir dir;
    ScopedCwd cwd(dir.path());
    char buf[4096];
    const std::string here = ::getcwd(buf, sizeof buf);
    {
        ScopedEnv home("FLEETBOX_HOME", "state/fb");
        EXPECT_EQ(resolve_store_root().value(), here + "/state/fb");
    }
    {
        ScopedEnv home("FLEETBOX_HOME", "./fb");
        EXPECT_EQ(resolve_store_root().value(), here + "/fb");
    }
    {
        ScopedEnv home("FLEETBOX_HOME", ".");
        EXPECT_EQ(resolve_store_root().value(), here);
    }
}

TEST(StoreRoot, DefaultsToHomeDotFleetbox) {
    ScopedEnv fb("FLEETBOX_HOME", std::nullopt);
    ScopedEnv sudo("SUDO_USER", std::nullopt);
    ScopedEnv home("HOME", "/home/tester");
    EXPECT_EQ(resolve_store_root().value(), "/home/tester/.fleetbox");
}

TEST(StoreRoot, EmptyFleetboxHomeMeansUnset) {
    ScopedEnv fb("FLEETBOX_HOME", "");
    ScopedEnv sudo("SUDO_USER", std::nullopt);
    ScopedEnv home("HOME", "/home/tester/");
    EXPECT_EQ(resolve_store_root().value(), "/home/tester/.fleetbox");
}

// Root stays in root's store under sudo; the CLI reaches the user's by dropping to them first.
TEST(StoreRoot, RootUnderSudoUsesItsOwnHome) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs euid 0 to act as sudo";
    ScopedEnv fb("FLEETBOX_HOME", std::nullopt);
    ScopedEnv sudo("SUDO_USER", "nobody");
    ScopedEnv home("HOME", "/root");
    EXPECT_EQ(resolve_store_root().value(), "/root/.fleetbox");
}

TEST(StoreRoot, FleetboxHomeWinsOverSudo) {
    ScopedEnv fb("FLEETBOX_HOME", "/srv/fb");
    ScopedEnv sudo("SUDO_USER", "nobody");
    EXPECT_EQ(resolve_store_root().value(), "/srv/fb");
}

TEST(AbsolutePath, RefusesEmpty) {
    auto p = absolute_path("");
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(absolute_path("/").value(), "/");
}

} // namespace
} // namespace fleetbox
