// e2e: `sudo fleetbox` for a store that belongs to an unprivileged user (ADR 0016). The CLI is
// run as root with SUDO_USER=nobody, the way sudo runs it, on a store owned by uid 65534:
// up -> the QEMU runs as 65534 with no capabilities and no_new_privs, the helper as 65534 with
// only CAP_NET_ADMIN -> ssh works -> nothing in the store is root's and nothing is readable by
// others -> down -> up again -> rm -> nothing left.
//
// Why nobody: it exists on every Debian machine, so the test needs no useradd. Its home
// (/nonexistent) is never used: FLEETBOX_HOME names the store. The image is copied (not
// hardlinked like other tests) and given to 65534, because the store's files must be the
// owner's and the shared cache must stay root's. The helper opens /dev/net/tun as the user:
// Debian's udev makes it 0666, a container may not, so the test puts a 0666 node over
// /dev/net in a private mount namespace (gtest runs each test in its own process; the CLI,
// helper and QEMU inherit the namespace; the host's /dev is untouched).
#include "e2e/vm/e2e_fixture.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;

constexpr uid_t kNobody = 65534;
constexpr const char* kVm = "own-web";
constexpr const char* kCapNetAdmin = "0000000000001000"; // 1 << CAP_NET_ADMIN (12)

std::string command_name(pid_t pid) {
    auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
    return base_name(cmdline.substr(0, cmdline.find('\0')));
}

// Paths under `dir` (recursively) not owned by `uid`, or readable/writable by group or others.
std::vector<std::string> foreign_or_open(const std::string& dir, uid_t uid) {
    std::vector<std::string> bad;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st {};
        const std::string path = it->path();
        if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode))
            continue;
        if (st.st_uid != uid)
            bad.push_back(path + " is owned by uid " + std::to_string(st.st_uid));
        else if ((st.st_mode & 077) != 0 && path.find("/images/") == std::string::npos)
            bad.push_back(path + fmt::format(" has mode {:o}", st.st_mode & 07777));
    }
    return bad;
}

class StoreOwner : public VmTest {
protected:
    void SetUp() override {
        VmTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
        ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
        ASSERT_EQ(::mount("fbx-tun", "/dev/net", "tmpfs", 0, "mode=0755"), 0);
        ASSERT_EQ(::mknod("/dev/net/tun", S_IFCHR | 0666, ::makedev(10, 200)), 0);
        ASSERT_EQ(::chmod("/dev/net/tun", 0666), 0);
        // The scratch root stays root's; the store inside it is nobody's.
        ASSERT_EQ(::chmod(root().c_str(), 0711), 0);
        home_ = root() + "/u";
        ASSERT_EQ(::mkdir(home_.c_str(), 0700), 0);
        auto copied = copy_cached_image(home_);
        ASSERT_TRUE(copied) << copied.error().message();
        std::error_code ec;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(home_, ec))
            ASSERT_EQ(::lchown(entry.path().c_str(), kNobody, kNobody), 0) << entry.path();
        ASSERT_EQ(::chown(home_.c_str(), kNobody, kNobody), 0);
    }

    CliRun fbx(std::vector<std::string> args) {
        CliOptions options;
        options.env_set = {"SUDO_USER=nobody", "SUDO_UID=65534", "SUDO_GID=65534"};
        return run_fleetbox(home_, std::move(args), options);
    }

    std::string home_;
};

TEST_F(StoreOwner, SudoRunsEverythingButTheNetworkAsTheStoreOwner) {
    auto up = fbx({"up", kVm});
    ASSERT_EQ(up.code, 0) << up;

    auto pids = store_processes(home_);
    ASSERT_EQ(pids.size(), 2u) << "one detached helper and one QEMU";
    for (pid_t pid : pids) {
        const std::string name = command_name(pid);
        SCOPED_TRACE(name);
        EXPECT_EQ(proc_status_field(pid, "Uid"), "65534\t65534\t65534\t65534");
        EXPECT_EQ(proc_status_field(pid, "Gid"), "65534\t65534\t65534\t65534");
        if (name.rfind("qemu-system", 0) == 0) {
            EXPECT_EQ(proc_status_field(pid, "CapEff"), "0000000000000000");
            EXPECT_EQ(proc_status_field(pid, "CapPrm"), "0000000000000000");
            EXPECT_EQ(proc_status_field(pid, "NoNewPrivs"), "1");
        } else {
            EXPECT_EQ(proc_status_field(pid, "CapEff"), kCapNetAdmin);
            EXPECT_EQ(proc_status_field(pid, "CapPrm"), kCapNetAdmin);
        }
    }

    auto hostname = fbx({"ssh", kVm, "--", "hostname"});
    EXPECT_EQ(hostname.code, 0) << hostname;
    EXPECT_EQ(hostname.out, std::string(kVm) + "\n");

    EXPECT_THAT(foreign_or_open(home_, kNobody), ::testing::IsEmpty());

    auto down = fbx({"down", kVm});
    ASSERT_EQ(down.code, 0) << down;
    EXPECT_TRUE(wait_no_store_processes(home_, std::chrono::seconds(60)));

    auto again = fbx({"up", kVm});
    ASSERT_EQ(again.code, 0) << again;
    auto marker = fbx({"ssh", kVm, "--", "test -d /home"});
    EXPECT_EQ(marker.code, 0) << marker;
    EXPECT_THAT(foreign_or_open(home_, kNobody), ::testing::IsEmpty());

    auto rm = fbx({"rm", "-f", kVm});
    ASSERT_EQ(rm.code, 0) << rm;
    EXPECT_FALSE(path_exists(home_ + "/clusters/own-web/own-web"));
    EXPECT_TRUE(wait_no_store_processes(home_, std::chrono::seconds(60)));
    EXPECT_EQ(net_links(), std::vector<std::string>{"lo"});
    EXPECT_FALSE(any_contains(nft_tables(), "fbx_")) << ::testing::PrintToString(nft_tables());
}

} // namespace
} // namespace fleetbox::test
