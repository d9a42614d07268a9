// Vm::serial_log, ssh_command and keep() on a handle over a scratch store (no VM, no helper):
// the console is read from the member directory (rotated part first, bounded, symlinks
// refused), the ssh command pins the VM's own known_hosts, and keep() of a handle that holds
// no helper says so instead of pretending.
#include "client/vm_impl.hpp"
#include "support/test_support.hpp"
#include "sys/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class VmConsole : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = TempDir::create("/tmp", "fbx-console-");
        ASSERT_TRUE(dir) << dir.error().message();
        dir_.emplace(std::move(*dir));
        ::chmod(dir_->path().c_str(), 0700);
        auto store = Store::open(dir_->path());
        ASSERT_TRUE(store) << store.error().message();
        auto member = store->ensure_member_dir("web-1");
        ASSERT_TRUE(member) << member.error().message();
        member_dir_ = *member;
        guest::SshTarget target;
        target.vm_name = "web-1";
        target.host = "192.168.7.2";
        vm_.emplace(std::make_unique<Vm::Impl>("web-1", "192.168.7.2", std::move(*store), target,
                                               std::chrono::seconds(1)));
    }

    std::optional<TempDir> dir_;
    std::string member_dir_;
    std::optional<Vm> vm_;
};

TEST_F(VmConsole, SerialLogIsEmptyBeforeAnyBoot) {
    auto log = vm_->serial_log();
    ASSERT_TRUE(log) << log.error().message();
    EXPECT_EQ(*log, "");
}

TEST_F(VmConsole, SerialLogReadsTheRotatedPartFirst) {
    test::write_text(member_dir_ + "/serial.log.1", "older line\n");
    test::write_text(member_dir_ + "/serial.log", "newer line\n");
    auto log = vm_->serial_log();
    ASSERT_TRUE(log) << log.error().message();
    EXPECT_EQ(*log, "older line\nnewer line\n");
}

TEST_F(VmConsole, SerialLogIsBoundedToItsLastMebibyte) {
    std::string older(700 * 1024, 'o');
    std::string newer = std::string(600 * 1024, 'n') + "END\n";
    test::write_text(member_dir_ + "/serial.log.1", older);
    test::write_text(member_dir_ + "/serial.log", newer);
    auto log = vm_->serial_log();
    ASSERT_TRUE(log) << log.error().message();
    EXPECT_EQ(log->size(), std::size_t{1} << 20);
    EXPECT_EQ(log->substr(log->size() - newer.size()), newer) << "all of the current log";
    EXPECT_EQ(log->find_first_not_of('o'), (std::size_t{1} << 20) - newer.size())
        << "then the end of the rotated one";
}

TEST_F(VmConsole, SerialLogRefusesASymlink) {
    ASSERT_EQ(::symlink("/etc/passwd", (member_dir_ + "/serial.log").c_str()), 0);
    auto log = vm_->serial_log();
    ASSERT_FALSE(log);
    EXPECT_EQ(log.error().kind, ErrorKind::Permission);
    EXPECT_THAT(log.error().message(), HasSubstr("symbolic link"));
}

TEST_F(VmConsole, SshCommandPinsTheVmsHostKey) {
    EXPECT_THAT(vm_->ssh_command(),
                ElementsAre("ssh", "-i", dir_->path() + "/id_ed25519", "-o",
                            "UserKnownHostsFile=" + member_dir_ + "/known_hosts", "-o",
                            "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes",
                            "fleetbox@192.168.7.2"));
    EXPECT_EQ(vm_->ssh_command_line(),
              "ssh -i " + dir_->path() + "/id_ed25519 -o UserKnownHostsFile=" + member_dir_ +
                  "/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes "
                  "fleetbox@192.168.7.2");
}

TEST_F(VmConsole, KeepWithoutAHelperIsAnError) {
    auto kept = vm_->keep();
    ASSERT_FALSE(kept);
    EXPECT_EQ(kept.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(kept.error().message(), HasSubstr("keep web-1: it is not running"));
}

} // namespace
} // namespace fleetbox
