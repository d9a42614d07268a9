// e2e: boots that fail, through the real CLI, helper and QEMU in the test's private network
// namespace. A failed `up` of a new VM must say what failed and where to look, and leave
// nothing behind: no member directory, no helper or QEMU, no bridge or tap, no nft table.
//
// - QEMU exits during boot: the image's kernel is replaced with garbage of the same size (an
//   entry whose sizes differ from its manifest would be rebuilt instead). The scratch vmlinuz
//   is a NEW file (the hardlink is unlinked first), so the shared cache is untouched.
// - SSH never comes up in time: a real boot with --boot-timeout 5 (far too short under TCG).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "e2e/vm/e2e_fixture.hpp"

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

class BootFailure : public VmTest {
protected:
    // up NAME (extra args) must fail with one error line; returns the run.
    CliRun failed_up(const std::string& name, std::vector<std::string> extra) {
        std::vector<std::string> args{"up", name};
        args.insert(args.end(), extra.begin(), extra.end());
        auto up = run_fleetbox(root(), args);
        EXPECT_EQ(up.code, 1) << up;
        EXPECT_THAT(lines_starting(up.err, "error: "), SizeIs(1)) << up;
        return up;
    }
    void expect_vm_gone(const std::string& name) {
        EXPECT_FALSE(path_exists(store_->member_dir(name))) << "the failed VM's directory is left";
        auto quiet = run_fleetbox(root(), {"ls", "-q"});
        EXPECT_EQ(quiet.out, "") << quiet;
        expect_nothing_left();
    }
};

TEST_F(BootFailure, QemuExitsOnAGarbageKernel) {
    std::string kernel = root() + "/images/debian-12/vmlinuz";
    struct stat cached {};
    ASSERT_EQ(::stat(kernel.c_str(), &cached), 0);
    ASSERT_TRUE(std::filesystem::remove(kernel)); // only the scratch link; the cache keeps its file
    // Same size: the cache takes an entry whose files have their manifest sizes as complete.
    write_text(kernel, std::string(static_cast<size_t>(cached.st_size), 'x'));
    struct stat scratch {};
    ASSERT_EQ(::stat(kernel.c_str(), &scratch), 0);
    ASSERT_NE(scratch.st_ino, cached.st_ino) << "the cached kernel must never be written";

    auto up = failed_up("e2e-badkernel", {});
    EXPECT_THAT(up.err, HasSubstr("QEMU exited")) << up;
    EXPECT_THAT(up.err, ::testing::AnyOf(HasSubstr("serial.log"), HasSubstr("qemu.log"))) << up;
    expect_vm_gone("e2e-badkernel");
}

TEST_F(BootFailure, SshNeverComesUpWithinTheBootTimeout) {
    auto up = failed_up("e2e-slow", {"--boot-timeout", "5"});
    EXPECT_THAT(up.err, HasSubstr("e2e-slow")) << up;
    EXPECT_THAT(up.err, HasSubstr("serial.log")) << up;
    EXPECT_THAT(up.err, HasSubstr("5.0 s")) << up;
    expect_vm_gone("e2e-slow");
}

} // namespace
} // namespace fleetbox::test
