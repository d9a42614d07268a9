// The real mmdebstrap against a mirror that cannot be reached (a closed port on loopback:
// no traffic leaves the host): apt's own failure text must classify as a Network error that
// names the mirror, and the failed build must leave nothing behind. Needs root (mmdebstrap
// --mode=unshare as root) and mmdebstrap; skipped otherwise.
#include "image/cache.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace fleetbox::image {
namespace {

using ::testing::HasSubstr;

TEST(RealMmdebstrap, UnreachableMirrorIsANetworkErrorAndLeavesNothing) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    for (const char* tool : {"mmdebstrap", "mkfs.ext4", "qemu-img"})
        if (find_program(tool).empty())
            GTEST_SKIP() << tool << " is not installed";
    test::ScratchDir scratch;
    ImageCache cache(scratch.file("images"));
    BuildOptions options;
    options.progress = ProgressMode::Quiet;
    options.min_free_bytes = 0;
    options.mirrors = {"deb http://127.0.0.1:9/debian bookworm main"}; // discard port: refused
    auto r = cache.ensure("debian-12", options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Network) << r.error().message();
    EXPECT_THAT(r.error().message(),
                HasSubstr("cannot reach the Debian mirror http://127.0.0.1:9/debian"));
    EXPECT_THAT(r.error().hint, HasSubstr(cache.log_path("debian-12")));
    auto names = list_dir(cache.dir());
    ASSERT_TRUE(names);
    for (const auto& n : *names)
        EXPECT_TRUE(n == ".logs" || n == ".debian-12.lock") << n;
}

} // namespace
} // namespace fleetbox::image
