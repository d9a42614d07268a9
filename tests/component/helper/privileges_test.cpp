// Component tests of the helper's privilege drop (helper/privileges.hpp).
// - fleetbox-helper refuses a store owned by another uid, writable by group or others, or
//   reached through a symlink, with one line;
// - a running helper keeps only CAP_NET_ADMIN (effective, permitted, bounding), as root or
//   after switching to --user; what it starts gets no capability;
// - the real helper as a non-root user (65534) with CAP_NET_ADMIN only still does everything
//   the real backend does, inside the test's network namespace: bridge, nftables table,
//   forwarding sysctl, record in <store>/networks, a tap handed to QEMU as fd 3, QEMU as
//   that user with no capability and NoNewPrivs; and its reconcile mode kills that user's
//   stale QEMU.
//
// Why: root is for the network only (issue 9); these are the properties the CLI's helper
// relies on. Everything here needs root (to start the helper as root, to chown).
#include "client/helper_launcher.hpp"
#include "component/helper/helper_fixture.hpp"
#include "component/net/netns_fixture.hpp"
#include "component/vm/fake_guest.hpp"
#include "net/firewall.hpp"
#include "net/forwarding.hpp"
#include "net/netlink.hpp"
#include "net/network_record.hpp"
#include "net/tap.hpp"
#include "proto/prune_report.hpp"
#include "support/process_helpers.hpp"
#include "sys/process_identity.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <future>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;
constexpr const char* kNetAdminOnly = "0000000000001000";
constexpr const char* kNoCaps = "0000000000000000";

uid_t owner_of(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? st.st_uid : static_cast<uid_t>(-1);
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 07777;
}

void chown_tree(const std::string& root, uid_t uid) {
    ASSERT_EQ(::lchown(root.c_str(), uid, uid), 0);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
        ASSERT_EQ(::lchown(entry.path().c_str(), uid, uid), 0) << entry.path();
}

class HelperPrivileges : public test::HelperFixture {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "the privilege drop is tested from root";
    }
    // Runs the fake helper in the foreground; it must fail to start: its stderr.
    std::string failed_start(std::vector<std::string> extra = {}) {
        ChildSpec spec;
        spec.argv = {fake_helper(), "--store", store_.root(), "--member",
                     "web-1",       "--mode",  "bound"};
        spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
        spec.err = Stream::Capture;
        auto run = run_command(spec, 10s);
        EXPECT_TRUE(run) << run.error().message();
        if (!run)
            return {};
        EXPECT_EQ(run->status.code, 1);
        EXPECT_EQ(split(trim(run->err), '\n').size(), 1u) << run->err;
        return run->err;
    }
};

TEST_F(HelperPrivileges, AStoreOwnedByAnotherUidIsRefused) {
    ASSERT_EQ(::chown(store_.root().c_str(), kNobody, kNobody), 0);
    EXPECT_THAT(failed_start(), HasSubstr("it is owned by uid 65534, not by uid 0"));
    ASSERT_EQ(::chown(store_.root().c_str(), 0, 0), 0);
    EXPECT_THAT(failed_start({"--user", "65534:65534"}),
                HasSubstr("it is owned by uid 0, not by uid 65534"));
    EXPECT_FALSE(path_exists(socket_of("web-1"))) << "a refused helper never listens";
}

TEST_F(HelperPrivileges, AStoreWritableByGroupOrOthersIsRefused) {
    ASSERT_EQ(::chmod(store_.root().c_str(), 0770), 0);
    EXPECT_THAT(failed_start(), HasSubstr("it is writable by its group (mode 0770)"));
    ASSERT_EQ(::chmod(store_.root().c_str(), 0757), 0);
    EXPECT_THAT(failed_start(), HasSubstr("it is writable by others (mode 0757)"));
}

TEST_F(HelperPrivileges, AStoreReachedThroughASymlinkIsRefused) {
    ASSERT_EQ(::symlink(store_.root().c_str(), scratch_.file("link").c_str()), 0);
    ChildSpec spec;
    spec.argv = {fake_helper(), "--store", scratch_.file("link"), "--reconcile"};
    spec.err = Stream::Capture;
    auto run = run_command(spec, 10s);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status.code, 1);
    EXPECT_THAT(run->err, HasSubstr("is a symlink"));
}

TEST_F(HelperPrivileges, ABadUserIsAUsageError) {
    EXPECT_THAT(failed_start({"--user", "nobody"}), HasSubstr("expected numeric UID:GID"));
}

TEST_F(HelperPrivileges, ARootHelperKeepsOnlyNetAdmin) {
    auto helper = spawn("web-1");
    const pid_t pid = helper.pid();
    EXPECT_EQ(test::proc_status_field(pid, "Uid"), "0\t0\t0\t0");
    EXPECT_EQ(test::proc_status_field(pid, "CapEff"), kNetAdminOnly);
    EXPECT_EQ(test::proc_status_field(pid, "CapPrm"), kNetAdminOnly);
    EXPECT_EQ(test::proc_status_field(pid, "CapBnd"), kNetAdminOnly);
    EXPECT_EQ(test::proc_status_field(pid, "CapInh"), kNoCaps);
    EXPECT_EQ(test::proc_status_field(pid, "CapAmb"), kNoCaps);
    // What it starts (the fake backend's stand-in for QEMU) gains nothing, though uid 0.
    auto booted = boot(helper.client(), spec_for("web-1"));
    EXPECT_EQ(test::proc_status_field(booted.qemu_pid, "Uid"), "0\t0\t0\t0");
    EXPECT_EQ(test::proc_status_field(booted.qemu_pid, "CapEff"), kNoCaps);
    EXPECT_EQ(test::proc_status_field(booted.qemu_pid, "CapPrm"), kNoCaps);
}

TEST_F(HelperPrivileges, AHelperForAUserBecomesThatUserWithNetAdminOnly) {
    ASSERT_TRUE(store_.ensure_member_dir("web-1"));
    ASSERT_NO_FATAL_FAILURE(chown_tree(scratch_.path(), kNobody));
    client::LaunchOptions options;
    options.extra_args = {"--user", "65534:65534"};
    auto handle = launcher(options).spawn(store_, "web-1", client::HelperMode::Bound);
    ASSERT_TRUE(handle) << handle.error().message();
    const pid_t pid = handle->pid();
    EXPECT_EQ(test::proc_status_field(pid, "Uid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(test::proc_status_field(pid, "Gid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(test::proc_status_field(pid, "Groups"), "");
    EXPECT_EQ(test::proc_status_field(pid, "CapEff"), kNetAdminOnly);
    EXPECT_EQ(test::proc_status_field(pid, "CapPrm"), kNetAdminOnly);
    EXPECT_EQ(test::proc_status_field(pid, "CapBnd"), kNetAdminOnly);
    EXPECT_EQ(owner_of(socket_of("web-1")), kNobody);
    EXPECT_EQ(mode_of(socket_of("web-1")), 0600);
    auto booted = boot(handle->client(), spec_for("web-1"));
    EXPECT_EQ(test::proc_status_field(booted.qemu_pid, "Uid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(test::proc_status_field(booted.qemu_pid, "CapEff"), kNoCaps);
    EXPECT_EQ(test::proc_status_field(booted.qemu_pid, "CapPrm"), kNoCaps);
}

// ---- the real helper, as a non-root user, in the test's network namespace ---------------

class RealHelperAsUser : public test::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        if (find_program(kQemuProgram).empty() || find_program("qemu-img").empty())
            GTEST_SKIP() << "qemu-system-x86_64 or qemu-img not installed";
        auto store = Store::open(scratch_.file("store"));
        ASSERT_TRUE(store) << store.error().message();
        store_.emplace(std::move(*store));
    }
    void TearDown() override {
        if (host_mounts_)
            (void)::setns(host_mounts_.get(), CLONE_NEWNS);
    }
    // The helper as a user opens /dev/net/tun with that user's rights: Debian's udev makes it
    // 0666, but a container may have it 0600. In a private mount namespace (children inherit
    // it, the host's /dev is untouched) a tmpfs over /dev/net holds a 0666 tun node.
    void usable_tun_for_everyone() {
        host_mounts_.reset(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(host_mounts_);
        ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
        ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
        ASSERT_EQ(::mount("fbx-tun", "/dev/net", "tmpfs", 0, "mode=0755"), 0);
        ASSERT_EQ(::mknod("/dev/net/tun", S_IFCHR | 0666, ::makedev(10, 200)), 0);
        ASSERT_EQ(::chmod("/dev/net/tun", 0666), 0);
    }
    static std::string real_helper() { return test::built("tools/fleetbox/fleetbox-helper"); }

    test::ScratchDir scratch_;
    std::optional<Store> store_;
    Fd host_mounts_;
};

TEST_F(RealHelperAsUser, TheWholeBackendWorksWithNetAdminOnly) {
    ASSERT_NO_FATAL_FAILURE(usable_tun_for_everyone());
    const std::string member_dir = *store_->ensure_member_dir("web-1");
    const std::string image_dir = store_->images_dir() + "/fake";
    ASSERT_EQ(::mkdir(image_dir.c_str(), 0755), 0);
    test::write_fake_kernel(image_dir + "/vmlinuz", /*prints=*/true);
    test::write_text(image_dir + "/initrd.img", "not an initramfs\n");
    test::write_text(member_dir + "/seed.tar", "seed\n");
    ChildSpec img;
    img.argv = {"qemu-img", "create", "-q", "-f", "qcow2", image_dir + "/disk.qcow2", "64M"};
    ASSERT_TRUE(run_checked(img));
    img.argv = {"qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                "-F",
                "qcow2",
                "-b",
                image_dir + "/disk.qcow2",
                member_dir + "/disk.qcow2",
                "64M"};
    ASSERT_TRUE(run_checked(img));
    ASSERT_NO_FATAL_FAILURE(chown_tree(scratch_.path(), kNobody));

    client::LaunchOptions options;
    options.extra_args = {"--user", "65534:65534"};
    client::HelperLauncher launcher(real_helper(), options);
    auto handle = launcher.spawn(*store_, "web-1", client::HelperMode::Bound);
    ASSERT_TRUE(handle) << handle.error().message();
    EXPECT_EQ(test::proc_status_field(handle->pid(), "Uid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(test::proc_status_field(handle->pid(), "CapEff"), kNetAdminOnly);
    auto& client = handle->client();

    // Bridge (netlink), firewall table (nftables), forwarding sysctl, record (store).
    auto network = client.create_network({"web", "", {}});
    ASSERT_TRUE(network) << network.error().message();
    EXPECT_TRUE(link_exists(network->bridge));
    EXPECT_TRUE(firewall_exists(network->bridge));
    EXPECT_EQ(forwarding_enabled(network->bridge).value_or(false), true);
    const std::string record = record_path(*store_->networks_dir(), network->bridge);
    EXPECT_EQ(owner_of(record), kNobody);

    // A boot: tap (netlink), QEMU as the user with the tap as fd 3. The fake guest never
    // opens port 22, so the boot times out and the helper tears the tap down again.
    ASSERT_TRUE(client.reserve("web-1", ""));
    proto::BootSpec spec;
    spec.name = "web-1";
    spec.member_dir = member_dir;
    spec.disk_path = member_dir + "/disk.qcow2";
    spec.base_image_path = image_dir + "/disk.qcow2";
    spec.seed_path = member_dir + "/seed.tar";
    spec.kernel_path = image_dir + "/vmlinuz";
    spec.initrd_path = image_dir + "/initrd.img";
    spec.mac = "52:54:00:12:34:56";
    spec.cpus = 1;
    spec.memory_mb = 128;
    spec.boot_timeout_s = 20;
    auto booting = std::async(std::launch::async, [&] { return client.boot(spec); });
    pid_t qemu = 0;
    ASSERT_TRUE(test::eventually(
        [&] {
            for (pid_t pid : test::processes_mentioning(spec.disk_path))
                if (process_cmdline(pid).find(kQemuProgram) != std::string::npos)
                    qemu = pid;
            return qemu > 0 &&
                   test::read_text("/proc/" + std::to_string(qemu) + "/fdinfo/3").find("iff:") !=
                       std::string::npos;
        },
        20s))
        << test::read_text(member_dir + "/helper.log") << test::read_text(member_dir + "/qemu.log");
    EXPECT_EQ(test::proc_status_field(qemu, "Uid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(test::proc_status_field(qemu, "CapEff"), kNoCaps);
    EXPECT_EQ(test::proc_status_field(qemu, "CapPrm"), kNoCaps);
    EXPECT_EQ(test::proc_status_field(qemu, "NoNewPrivs"), "1");
    auto taps = list_links_with_prefix("fbt");
    ASSERT_TRUE(taps);
    ASSERT_EQ(taps->size(), 1u);
    EXPECT_THAT(test::read_text("/proc/" + std::to_string(qemu) + "/fdinfo/3"),
                HasSubstr("iff:\t" + taps->front() + "\n"));
    // A stop ends the boot at once: QEMU gone, tap gone.
    auto stopping = std::async(std::launch::async, [&] {
        auto stopper = client::HelperClient::connect(*store_, "web-1", {});
        return stopper ? (*stopper)->stop("web-1") : Status(fail(std::move(stopper).error()));
    });
    auto booted = booting.get();
    ASSERT_FALSE(booted);
    EXPECT_THAT(booted.error().message(), HasSubstr("stopped during boot"));
    EXPECT_TRUE(stopping.get());
    EXPECT_TRUE(test::wait_gone(qemu));
    EXPECT_TRUE(list_links_with_prefix("fbt")->empty());

    // Shutdown removes the network and its record (the user may delete its own files).
    auto closed = handle->close();
    ASSERT_TRUE(closed) << closed.error().message();
    EXPECT_TRUE(closed->ok()) << closed->describe();
    EXPECT_FALSE(link_exists(network->bridge));
    EXPECT_FALSE(firewall_exists(network->bridge));
    EXPECT_FALSE(path_exists(record));
}

TEST_F(RealHelperAsUser, ReconcileKillsTheUsersStaleQemu) {
    const std::string dir = *store_->networks_dir();
    const std::string bridge = "fbx-0000bbbb";
    const std::string tap = "fbt-0000bbbb";
    ASSERT_TRUE(create_bridge(bridge));
    ASSERT_TRUE(create_tap(tap));
    ASSERT_TRUE(enslave(tap, bridge));
    // The user's QEMU stand-in: holds the tap as fd 3, like a QEMU the helper started.
    auto tap_fd = open_tap(tap);
    ASSERT_TRUE(tap_fd) << tap_fd.error().message();
    ChildSpec stale;
    stale.argv = {"sleep", "100"};
    stale.run_as = RunAs{kNobody, kNobody, {}};
    stale.inherit_fds = {{tap_fd->get(), 3}};
    auto qemu = ChildProcess::spawn(stale);
    ASSERT_TRUE(qemu) << qemu.error().message();
    tap_fd->reset();
    NetworkRecord r;
    r.bridge = bridge;
    r.subnet = "192.168.7.0/24";
    r.cluster = "web";
    r.owner = {::getpid(), self_identity()->start_time + 1}; // a dead owner
    r.taps = {{tap, *identify_process(qemu->pid())}};
    ASSERT_TRUE(write_record(dir, r));
    ASSERT_NO_FATAL_FAILURE(chown_tree(scratch_.path(), kNobody));

    ChildSpec spec;
    spec.argv = {real_helper(), "--reconcile", "--store", store_->root(), "--user", "65534:65534"};
    spec.out = Stream::Capture;
    auto run = run_checked(spec, 60s);
    ASSERT_TRUE(run) << run.error().message();
    auto report = proto::decode_prune_report(run->out);
    ASSERT_TRUE(report) << run->out;
    EXPECT_TRUE(report->errors.empty()) << run->out;
    ASSERT_EQ(report->reclaimed.size(), 1u) << run->out;
    EXPECT_EQ(report->reclaimed[0].killed_qemu_pids, std::vector<int>{qemu->pid()});
    EXPECT_TRUE(report->reclaimed[0].removed);
    auto status = qemu->wait(10s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->signal, SIGKILL);
    EXPECT_FALSE(link_exists(bridge));
    EXPECT_FALSE(link_exists(tap));
    EXPECT_FALSE(path_exists(record_path(dir, bridge)));
}

} // namespace
} // namespace fleetbox
