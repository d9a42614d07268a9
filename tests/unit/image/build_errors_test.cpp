// Classification of failed build steps into one clear error line each.
#include "image/build_errors.hpp"
#include "image/builder.hpp"
#include "image/tools.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::image {
namespace {

using ::testing::HasSubstr;

MirrorSet host_mirror() {
    MirrorSet m;
    m.lines = {"deb http://deb.debian.org/debian bookworm main"};
    m.uris = {"http://deb.debian.org/debian"};
    m.files = {"/etc/apt/sources.list.d/debian.sources"};
    return m;
}

StepFailure mmdebstrap_failure(std::string output) {
    return {"debian-12", "mmdebstrap", ExitStatus{1, 0}, std::move(output),
            "/x/images/.logs/debian-12-build.log"};
}

TEST(BuildErrors, UnreachableMirrorIsANetworkErrorNamingIt) {
    auto e = classify_failure(
        mmdebstrap_failure(
            "I: running apt-get update...\n"
            "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  "
            "Could not connect to deb.debian.org:80 (151.101.2.132), connection timed out\n"
            "E: apt-get update -oAPT::Status-Fd=<$fd> -oDpkg::Use-Pty=false failed\n"),
        host_mirror());
    EXPECT_EQ(e.kind, ErrorKind::Network);
    EXPECT_THAT(e.message(),
                HasSubstr("cannot reach the Debian mirror http://deb.debian.org/debian "
                          "(from /etc/apt/sources.list.d/debian.sources)"));
    EXPECT_THAT(e.message(), HasSubstr("Failed to fetch"));
    EXPECT_THAT(e.hint, HasSubstr("/x/images/.logs/debian-12-build.log"));
}

TEST(BuildErrors, ResolverFailureIsNetwork) {
    auto e = classify_failure(
        mmdebstrap_failure("W: Temporary failure resolving 'deb.debian.org'\n"), host_mirror());
    EXPECT_EQ(e.kind, ErrorKind::Network);
}

TEST(BuildErrors, FullDiskIsNoSpace) {
    auto e = classify_failure(
        mmdebstrap_failure(
            "dpkg: error processing archive x.deb (--unpack):\n cannot copy extracted data for "
            "'./usr/lib/x' to '/usr/lib/x.dpkg-new': failed to write (No space left on device)\n"),
        host_mirror());
    EXPECT_EQ(e.kind, ErrorKind::NoSpace);
    EXPECT_THAT(e.message(), HasSubstr("mmdebstrap ran out of disk space"));
}

TEST(BuildErrors, MissingPackageIsNotANetworkError) {
    auto e = classify_failure(mmdebstrap_failure("E: Unable to locate package linux-image-nope\n"
                                                 "E: Failed to fetch is not here\n"),
                              host_mirror());
    EXPECT_EQ(e.kind, ErrorKind::ExternalCommand);
    EXPECT_THAT(e.message(), HasSubstr("Unable to locate package linux-image-nope"));
}

TEST(BuildErrors, OtherFailuresCarryTheLastErrorLine) {
    auto e = classify_failure(
        mmdebstrap_failure("I: step\nE: the real reason\nsome trailing noise\n"), host_mirror());
    EXPECT_EQ(e.kind, ErrorKind::ExternalCommand);
    EXPECT_EQ(e.message(),
              "build image debian-12: mmdebstrap exited with status 1: E: the real reason");
    StepFailure plain{"debian-12", "qemu-img", ExitStatus{-1, 9}, "", ""};
    auto k = classify_failure(plain, host_mirror());
    EXPECT_THAT(k.message(), HasSubstr("qemu-img killed by SIGKILL"));
    // Network words from a non-mmdebstrap tool are not a mirror problem.
    StepFailure mkfs{"debian-12", "mkfs.ext4", ExitStatus{1, 0}, "Connection refused\n", ""};
    EXPECT_EQ(classify_failure(mkfs, host_mirror()).kind, ErrorKind::ExternalCommand);
}

TEST(Preflight, MissingToolNamesItsPackage) {
    auto st = check_tools({{"sh", "dash"}, {"fleetbox-no-such-tool", "fleetbox-pkg"}});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::MissingDependency);
    EXPECT_THAT(st.error().message(),
                HasSubstr("fleetbox-no-such-tool is not installed (package fleetbox-pkg)"));
    EXPECT_THAT(st.error().hint, HasSubstr("apt-get install fleetbox-pkg"));
    EXPECT_TRUE(check_tools({{"sh", "dash"}}));
}

TEST(Preflight, FreeSpaceThreshold) {
    EXPECT_TRUE(check_free_space("/", 0));
    auto st = check_free_space("/", 1ULL << 62);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::NoSpace);
    EXPECT_THAT(st.error().message(), HasSubstr("a build needs at least 4194304.0 TiB"));
}

TEST(FilesystemSize, CoversDataHeadroomAndInodesIn64MiBSteps) {
    constexpr std::uint64_t MiB = 1ULL << 20;
    std::uint64_t s = filesystem_size(400 * MiB, 20000, 256 * MiB);
    EXPECT_EQ(s % (64 * MiB), 0u);
    EXPECT_GE(s, 400 * MiB + 40 * MiB + 256 * MiB);
    EXPECT_LT(s, 900 * MiB);
    // Many tiny files: the inode table decides.
    EXPECT_GE(filesystem_size(10 * MiB, 100000, 0), 100000ULL * 16384);
    EXPECT_EQ(filesystem_size(0, 0, 0), 64 * MiB);
}

} // namespace
} // namespace fleetbox::image
