// Component tests, real QEMU with a fake guest: what a launched QEMU may touch.
// - it runs as the requested uid/gid, with no capability, NoNewPrivs and umask 077; the
//   files and the QMP socket it makes are 0600 and the user's;
// - the disk chain is fixed by fleetbox: an overlay rebased onto another file (qemu-img
//   rebase -u) still gets the real base as its backing, and the other file is never opened;
// - an overlay or base whose qcow2 header names an external data file is refused before
//   QEMU starts;
// - qemu.log planted as a symlink is not followed;
// - a new boot never sees the previous boot's serial output (serial.log is appended to).
//
// Why: QEMU reads guest-controlled data and images the store's owner can rewrite; these are
// the limits issue 9 puts on it. Running as another uid needs root: those tests skip without.
#include "component/vm/fake_guest.hpp"
#include "support/process_helpers.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"
#include "vm/qemu_vm.hpp"

#include <algorithm>
#include <filesystem>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;

// Every file the process has open (readlink of /proc/<pid>/fd/*).
std::vector<std::string> open_files(pid_t pid) {
    std::vector<std::string> files;
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(entry.path(), ec);
        if (!ec)
            files.push_back(target.string());
    }
    return files;
}

void qemu_img(std::vector<std::string> args) {
    ChildSpec spec;
    spec.argv = {"qemu-img"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.out = Stream::Capture;
    auto r = run_checked(spec);
    ASSERT_TRUE(r) << r.error().message();
}

class QemuVmPrivileges : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_program(kQemuProgram).empty() || find_program("qemu-img").empty())
            GTEST_SKIP() << "qemu-system-x86_64 or qemu-img not installed";
    }
    static void require_root() {
        if (::geteuid() != 0)
            GTEST_SKIP() << "running QEMU as another uid needs root";
    }
    // Everything in the scratch dir (and the dir) becomes nobody's, but `except`.
    void give_to_nobody(const std::vector<std::string>& except = {}) {
        ASSERT_EQ(::chown(dir.path().c_str(), kNobody, kNobody), 0);
        for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
            if (std::find(except.begin(), except.end(), entry.path().string()) != except.end())
                continue;
            ASSERT_EQ(::lchown(entry.path().c_str(), kNobody, kNobody), 0);
        }
    }
    static mode_t mode_of(const std::string& path) {
        struct stat st {};
        return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 07777;
    }
    static uid_t owner_of(const std::string& path) {
        struct stat st {};
        return ::lstat(path.c_str(), &st) == 0 ? st.st_uid : static_cast<uid_t>(-1);
    }
    test::ScratchDir dir;
};

TEST_F(QemuVmPrivileges, QemuRunsAsTheRequestedUserWithNoPrivilege) {
    require_root();
    auto config = test::fake_vm_config(dir, true);
    give_to_nobody();
    LaunchOptions options;
    options.run_as = RunAs{kNobody, kNobody, {}};
    auto vm = QemuVm::launch(config, options);
    ASSERT_TRUE(vm) << vm.error().message();
    const pid_t pid = vm->pid();
    EXPECT_EQ(test::proc_status_field(pid, "Uid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(test::proc_status_field(pid, "Gid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(test::proc_status_field(pid, "Groups"), "");
    EXPECT_EQ(test::proc_status_field(pid, "CapEff"), "0000000000000000");
    EXPECT_EQ(test::proc_status_field(pid, "CapPrm"), "0000000000000000");
    EXPECT_EQ(test::proc_status_field(pid, "NoNewPrivs"), "1");
    EXPECT_EQ(test::proc_status_field(pid, "Umask"), "0077");
    // What QEMU made is the user's and nobody else's.
    EXPECT_EQ(owner_of(config.serial_log), kNobody);
    EXPECT_EQ(mode_of(config.serial_log), 0600);
    EXPECT_EQ(owner_of(config.qmp_socket), kNobody);
    EXPECT_EQ(mode_of(config.qmp_socket), 0600);
    EXPECT_EQ(mode_of(vm->qemu_log()), 0600);
}

TEST_F(QemuVmPrivileges, WithoutRunAsQemuKeepsTheLaunchersIdentityWithNoNewPrivs) {
    auto vm = QemuVm::launch(test::fake_vm_config(dir, true));
    ASSERT_TRUE(vm) << vm.error().message();
    const std::string uid = std::to_string(::geteuid());
    EXPECT_EQ(test::proc_status_field(vm->pid(), "Uid"),
              uid + "\t" + uid + "\t" + uid + "\t" + uid);
    EXPECT_EQ(test::proc_status_field(vm->pid(), "NoNewPrivs"), "1");
    EXPECT_EQ(test::proc_status_field(vm->pid(), "Umask"), "0077");
}

// The overlay's header is rewritten (qemu-img rebase -u) to name `other`, a root-only file.
// QEMU, as the user, still starts, reads the real base, and never opens `other`.
TEST_F(QemuVmPrivileges, ARebasedOverlayNeverMakesQemuOpenAnotherFile) {
    require_root();
    auto config = test::fake_vm_config(dir, true);
    const std::string base = dir.file("base.qcow2");
    const std::string other = dir.file("other.qcow2");
    const std::string overlay = dir.file("disk.qcow2");
    ASSERT_NO_FATAL_FAILURE(qemu_img({"create", "-q", "-f", "qcow2", base, "64M"}));
    ASSERT_NO_FATAL_FAILURE(qemu_img({"create", "-q", "-f", "qcow2", other, "64M"}));
    ASSERT_NO_FATAL_FAILURE(
        qemu_img({"create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, overlay, "64M"}));
    ASSERT_NO_FATAL_FAILURE(qemu_img({"rebase", "-u", "-F", "qcow2", "-b", other, overlay}));
    ASSERT_EQ(::chmod(other.c_str(), 0600), 0);
    give_to_nobody({other}); // `other` stays root's: the user cannot read it
    config.disk = overlay;
    config.base_image = base;
    LaunchOptions options;
    options.run_as = RunAs{kNobody, kNobody, {}};
    auto vm = QemuVm::launch(config, options);
    ASSERT_TRUE(vm) << vm.error().message() << "\n" << test::read_text(dir.file("qemu.log"));
    ASSERT_NE(vm->qmp(), nullptr);
    auto blocks = vm->qmp()->execute("query-block");
    ASSERT_TRUE(blocks) << blocks.error().message();
    std::string backing;
    for (const auto& b : *blocks)
        if (b.value("inserted", nlohmann::json::object()).value("node-name", "") == "root")
            backing = b["inserted"]["image"]["backing-image"].value("filename", "");
    EXPECT_EQ(backing, base);
    EXPECT_THAT(open_files(vm->pid()), Not(::testing::Contains(other)));
    EXPECT_THAT(open_files(vm->pid()), ::testing::Contains(base));
}

TEST_F(QemuVmPrivileges, EvenAsRootQemuOpensOnlyTheNamedBase) {
    auto config = test::fake_vm_config(dir, true);
    const std::string base = dir.file("base.qcow2");
    const std::string other = dir.file("other.qcow2");
    const std::string overlay = dir.file("disk.qcow2");
    ASSERT_NO_FATAL_FAILURE(qemu_img({"create", "-q", "-f", "qcow2", base, "64M"}));
    ASSERT_NO_FATAL_FAILURE(qemu_img({"create", "-q", "-f", "qcow2", other, "64M"}));
    ASSERT_NO_FATAL_FAILURE(
        qemu_img({"create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, overlay, "64M"}));
    ASSERT_NO_FATAL_FAILURE(qemu_img({"rebase", "-u", "-F", "qcow2", "-b", other, overlay}));
    config.disk = overlay;
    config.base_image = base;
    auto vm = QemuVm::launch(config);
    ASSERT_TRUE(vm) << vm.error().message();
    EXPECT_THAT(open_files(vm->pid()), Not(::testing::Contains(other)));
    EXPECT_THAT(open_files(vm->pid()), ::testing::Contains(base));
}

TEST_F(QemuVmPrivileges, AnImageWithAnExternalDataFileIsRefused) {
    auto config = test::fake_vm_config(dir, true);
    const std::string base = dir.file("base.qcow2");
    const std::string overlay = dir.file("disk.qcow2");
    ASSERT_NO_FATAL_FAILURE(qemu_img({"create", "-q", "-f", "qcow2", base, "64M"}));
    ASSERT_NO_FATAL_FAILURE(qemu_img({"create", "-q", "-f", "qcow2", "-o",
                                      "data_file=" + dir.file("data.raw"), overlay, "64M"}));
    config.disk = overlay;
    config.base_image = base;
    auto vm = QemuVm::launch(config);
    ASSERT_FALSE(vm);
    EXPECT_EQ(vm.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(vm.error().message(), HasSubstr("check disk " + overlay));
    EXPECT_THAT(vm.error().message(), HasSubstr("external data file"));
    EXPECT_FALSE(path_exists(dir.file("qemu.log"))) << "QEMU was never started";

    // The same for a base image.
    config.disk = dir.file("overlay2.qcow2");
    config.base_image = overlay;
    ASSERT_NO_FATAL_FAILURE(qemu_img({"create", "-q", "-f", "qcow2", config.disk, "64M"}));
    vm = QemuVm::launch(config);
    ASSERT_FALSE(vm);
    EXPECT_THAT(vm.error().message(), HasSubstr("external data file"));
}

TEST_F(QemuVmPrivileges, AQemuLogSymlinkIsNotFollowed) {
    auto config = test::fake_vm_config(dir, true);
    ASSERT_EQ(::symlink(dir.file("elsewhere").c_str(), dir.file("qemu.log").c_str()), 0);
    auto vm = QemuVm::launch(config);
    ASSERT_FALSE(vm);
    EXPECT_THAT(vm.error().message(), HasSubstr("open " + dir.file("qemu.log")));
    EXPECT_FALSE(path_exists(dir.file("elsewhere")));
}

TEST_F(QemuVmPrivileges, ANewBootNeverSeesThePreviousBootsSerialOutput) {
    auto config = test::fake_vm_config(dir, true);
    test::write_text(config.serial_log, "previous boot\n");
    auto vm = QemuVm::launch(config);
    ASSERT_TRUE(vm) << vm.error().message();
    ASSERT_TRUE(test::eventually(
        [&] { return test::read_text(config.serial_log).find('X') != std::string::npos; }));
    EXPECT_THAT(test::read_text(config.serial_log), Not(HasSubstr("previous boot")));
}

} // namespace
} // namespace fleetbox
