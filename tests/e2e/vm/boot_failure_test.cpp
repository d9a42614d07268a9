// e2e: boots that fail, through the real CLI, helper and QEMU in the test's private network
// namespace. A failed `up` of a new VM must say what failed and where to look, and leave
// nothing behind: no member directory, no helper or QEMU, no bridge or tap, no nft table.
// The logs it points at are kept in the store's failed/<name>/ and must exist; `logs NAME`
// shows the kept serial log and `rm -f NAME` removes it.
//
// - QEMU exits during boot: the image's kernel is replaced with garbage of the same size (an
//   entry whose sizes differ from its manifest would be rebuilt instead). The scratch vmlinuz
//   is a NEW file (the hardlink is unlinked first), so the shared cache is untouched.
// - SSH never comes up in time: a real boot with --boot-timeout 2 (far too short under TCG,
//   where even the fast path needs several seconds before sshd listens).
#include "e2e/vm/e2e_fixture.hpp"
#include "util/strings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

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
    // Every "*.log" path the error names exists, under failed/<name>/.
    void expect_named_logs_exist(const CliRun& up, const std::string& name) {
        std::vector<std::string> named;
        for (const auto& word : split(up.err, ' ')) {
            std::string path(trim(word));
            while (!path.empty() &&
                   (path.back() == ',' || path.back() == '.' || path.back() == ')'))
                path.pop_back();
            if (path.size() > 4 && path.ends_with(".log") && path.front() == '/')
                named.push_back(path);
        }
        ASSERT_FALSE(named.empty()) << "the error names no log: " << up;
        for (const auto& path : named) {
            EXPECT_THAT(path, ::testing::StartsWith(root() + "/failed/" + name + "/")) << up;
            EXPECT_TRUE(path_exists(path)) << path << " is named by the error but does not exist";
        }
    }
    // `logs NAME` shows the kept serial log with a note; `rm -f NAME` takes it away.
    void expect_kept_serial_log_until_rm(const std::string& name) {
        const std::string kept = root() + "/failed/" + name + "/serial.log";
        auto logs = run_fleetbox(root(), {"logs", name});
        EXPECT_EQ(logs.code, 0) << logs;
        EXPECT_THAT(logs.err, HasSubstr("failed first boot")) << logs;
        EXPECT_EQ(logs.out, read_file(kept).value_or(""))
            << logs; // QEMU may exit before any output
        auto rm = run_fleetbox(root(), {"rm", "-f", name});
        EXPECT_EQ(rm.code, 0) << rm;
        EXPECT_FALSE(path_exists(root() + "/failed/" + name));
        auto gone = run_fleetbox(root(), {"logs", name});
        EXPECT_EQ(gone.code, 1) << gone;
        EXPECT_THAT(gone.err, HasSubstr("does not exist")) << gone;
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
    expect_named_logs_exist(up, "e2e-badkernel");
    expect_vm_gone("e2e-badkernel");
    EXPECT_TRUE(path_exists(root() + "/failed/e2e-badkernel/qemu.log"));
    expect_kept_serial_log_until_rm("e2e-badkernel");
}

TEST_F(BootFailure, SshNeverComesUpWithinTheBootTimeout) {
    auto up = failed_up("e2e-slow", {"--boot-timeout", "2"});
    EXPECT_THAT(up.err, HasSubstr("e2e-slow")) << up;
    EXPECT_THAT(up.err, HasSubstr("serial.log")) << up;
    EXPECT_THAT(up.err, HasSubstr("2.0 s")) << up;
    expect_named_logs_exist(up, "e2e-slow");
    expect_vm_gone("e2e-slow");
    expect_kept_serial_log_until_rm("e2e-slow");
}

} // namespace
} // namespace fleetbox::test
