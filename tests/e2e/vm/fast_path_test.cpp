// e2e: the boot fast path (ADR 0012) on real VMs, through the real CLI, in the test's private
// network namespace. A VM of an image fleetbox built gets its identity from the fleetbox seed,
// applied by the image's own unit with no cloud-init: it answers SSH with its name and static
// address, the pinned host key (a wrong pin is refused), passwordless sudo that does not wait
// on DNS, its root filesystem grown to the disk size asked for, a machine-id of its own, no
// secret readable by an unprivileged guest user, and no cloud-init unit run. A second boot of
// the same disk keeps everything. The NoCloud path still works on the same image when asked
// for, and a seed the guest cannot apply fails the boot at once, naming the console log.
#include "e2e/vm/e2e_fixture.hpp"
#include "util/strings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class FastPath : public VmTest {
protected:
    CliRun fbx(std::vector<std::string> args) { return run_fleetbox(root(), std::move(args)); }
    CliRun guest(const std::string& vm, const std::string& command) {
        return fbx({"ssh", vm, "--", command});
    }
    // One line of output, without its newline ("" on failure, with the run printed).
    std::string guest_line(const std::string& vm, const std::string& command) {
        auto run = guest(vm, command);
        EXPECT_EQ(run.code, 0) << command << "\n" << run;
        return std::string(trim(run.out));
    }
    std::string config_field(const std::string& vm, const std::string& field) {
        return test::config_field(*store_, vm, field);
    }
    // The address in config.json (what fleetbox reserved for the VM).
    std::string vm_ip(const std::string& vm) { return config_field(vm, "ip"); }
};

TEST_F(FastPath, IdentityKeysDiskAndSecondBoot) {
    const std::string vm = "fp-1";
    auto up = fbx({"up", vm, "--disk", "8G", "--timings"});
    ASSERT_EQ(up.code, 0) << up;
    EXPECT_EQ(config_field(vm, "provisioning"), "fleetbox-seed");
    EXPECT_TRUE(path_exists(store_->member_dir(vm) + "/seed.tar"));
    EXPECT_FALSE(path_exists(store_->member_dir(vm) + "/seed.iso"));
    // --timings has the guest's phases from its console markers.
    EXPECT_THAT(up.out, HasSubstr("GUEST PHASE"));
    EXPECT_THAT(up.out, HasSubstr("userspace to sshd"));

    // Name, address, route: what the seed said.
    const std::string ip = vm_ip(vm);
    ASSERT_FALSE(ip.empty());
    EXPECT_EQ(guest_line(vm, "hostname"), vm);
    EXPECT_THAT(guest_line(vm, "ip -4 -o addr show dev eth0"), HasSubstr("inet " + ip + "/24"));
    EXPECT_THAT(guest_line(vm, "ip route show default"),
                HasSubstr("default via " + ip.substr(0, ip.rfind('.')) + ".1"));
    // sudo without a password, and the name resolves locally (no DNS wait for sudo).
    EXPECT_EQ(guest_line(vm, "sudo -n id -u"), "0");
    EXPECT_THAT(guest_line(vm, "getent ahostsv4 " + vm + " | head -1"), HasSubstr("127.0.1.1"));
    // The root filesystem fills the 8 GiB disk (ext4 keeps some for itself).
    auto size_mib = std::stoll(guest_line(vm, "df -B1M --output=size / | tail -1"));
    EXPECT_GT(size_mib, 7500) << "df / shows " << size_mib << " MiB of an 8 GiB disk";
    EXPECT_LE(size_mib, 8192);
    // No cloud-init unit ran; the fast path's did.
    EXPECT_EQ(
        guest_line(
            vm, "systemctl show -p ActiveEnterTimestampMonotonic --value cloud-init-local.service "
                "cloud-init.service cloud-config.service cloud-final.service | sort -u"),
        "0");
    EXPECT_EQ(guest_line(vm, "systemctl is-active fleetbox-seed.service"), "active");
    EXPECT_EQ(guest_line(vm, "systemctl is-active ssh.service networking.service || true"),
              "active\ninactive");
    // Secrets: the host key is root's alone; no copy of it is left readable, none on the cmdline.
    EXPECT_EQ(guest_line(vm, "sudo stat -c '%a %U' /etc/ssh/ssh_host_ed25519_key"), "600 root");
    EXPECT_EQ(guest_line(vm, "test -r /dev/vdb && echo readable || echo denied"), "denied");
    EXPECT_EQ(guest_line(vm, "sudo test -e /run/fleetbox/seed && echo left || echo gone"), "gone");
    EXPECT_THAT(guest_line(vm, "cat /proc/cmdline"), Not(HasSubstr("PRIVATE KEY")));
    EXPECT_THAT(guest_line(vm, "cat /proc/cmdline"), HasSubstr("fleetbox.seed="));
    // What people point at a VM is there.
    EXPECT_EQ(guest_line(vm, "python3 -c 'print(6*7)'"), "42");
    const std::string machine_id = guest_line(vm, "cat /etc/machine-id");
    EXPECT_EQ(machine_id.size(), 32u) << machine_id;

    // A second VM has a machine-id of its own.
    auto other = fbx({"up", "fp-2"});
    ASSERT_EQ(other.code, 0) << other;
    EXPECT_NE(guest_line("fp-2", "cat /etc/machine-id"), machine_id);
    EXPECT_EQ(guest_line("fp-2", "hostname"), "fp-2");

    // A wrong pin is refused: fp-1's known_hosts swapped for a line with fp-2's host key.
    const std::string known_hosts = store_->member_dir(vm) + "/known_hosts";
    const std::string pinned = read_file(known_hosts).value_or("");
    auto other_key = split(
        std::string(
            trim(read_file(store_->member_dir("fp-2") + "/ssh_host_ed25519_key.pub").value_or(""))),
        ' ');
    ASSERT_GE(other_key.size(), 2u);
    write_text(known_hosts, ip + " " + other_key[0] + " " + other_key[1] + "\n");
    auto refused = guest(vm, "true");
    EXPECT_NE(refused.code, 0) << refused;
    EXPECT_THAT(refused.err, HasSubstr("Host key verification failed")) << refused;
    write_text(known_hosts, pinned);
    EXPECT_EQ(guest_line(vm, "echo pinned"), "pinned");
    EXPECT_EQ(fbx({"rm", "-f", "fp-2"}).code, 0);

    // Data persists across down/up, and the second boot of the disk keeps its identity.
    ASSERT_EQ(guest(vm, "echo kept > ~/kept && sudo touch /etc/kept-too && sync").code, 0);
    ASSERT_EQ(fbx({"down", vm}).code, 0);
    auto again = fbx({"up", vm});
    ASSERT_EQ(again.code, 0) << again;
    EXPECT_EQ(guest_line(vm, "cat ~/kept"), "kept");
    EXPECT_EQ(guest_line(vm, "test -e /etc/kept-too && echo yes"), "yes");
    EXPECT_EQ(guest_line(vm, "hostname"), vm);
    EXPECT_EQ(guest_line(vm, "cat /etc/machine-id"), machine_id);
    EXPECT_THAT(guest_line(vm, "ip -4 -o addr show dev eth0"), HasSubstr("inet " + ip + "/24"));
    EXPECT_EQ(guest_line(vm, "sudo -n true && echo ok"), "ok");

    EXPECT_EQ(fbx({"rm", "-f", vm}).code, 0);
    expect_nothing_left();
}

TEST_F(FastPath, NoCloudPathStillWorksOnTheSameImage) {
    const std::string vm = "fp-nocloud";
    auto up = fbx({"up", vm, "--provisioning", "nocloud"});
    ASSERT_EQ(up.code, 0) << up;
    EXPECT_EQ(config_field(vm, "provisioning"), "nocloud");
    EXPECT_TRUE(path_exists(store_->member_dir(vm) + "/seed.iso"));
    EXPECT_EQ(guest_line(vm, "hostname"), vm);
    EXPECT_EQ(guest_line(vm, "sudo -n true && echo ok"), "ok");
    EXPECT_EQ(guest_line(vm, "systemctl is-active cloud-init.service"), "active");
    EXPECT_EQ(guest_line(vm, "systemctl is-active fleetbox-seed.service || true"), "inactive");
    // /etc/hosts is fleetbox's file (write_files), not cloud-init's template: the own name on
    // 127.0.1.1 and the cluster block the host keeps current (ADR 0014).
    EXPECT_THAT(guest_line(vm, "getent ahostsv4 " + vm + " | head -1"), HasSubstr("127.0.1.1"));
    EXPECT_EQ(guest_line(vm, "grep -c '^# fleetbox cluster begin' /etc/hosts"), "1");
    auto logs = fbx({"logs", vm});
    EXPECT_THAT(logs.out, HasSubstr("cloud-init"));
    // Later `up`s keep the method the VM was created with.
    ASSERT_EQ(fbx({"down", vm}).code, 0);
    auto again = fbx({"up", vm, "--provisioning", "fleetbox-seed"});
    ASSERT_EQ(again.code, 0) << again;
    EXPECT_THAT(again.err, HasSubstr("/--provisioning/--fixture ignored"));
    EXPECT_EQ(config_field(vm, "provisioning"), "nocloud");
    EXPECT_EQ(guest_line(vm, "hostname"), vm);
    EXPECT_EQ(guest_line(vm, "grep -c '^# fleetbox cluster begin' /etc/hosts"), "1")
        << "a second boot keeps the block";
    EXPECT_EQ(fbx({"rm", "-f", vm}).code, 0);
    expect_nothing_left();
}

TEST_F(FastPath, ASeedTheGuestCannotApplyFailsTheBootAtOnce) {
    const std::string vm = "fp-badseed";
    ASSERT_EQ(fbx({"up", vm}).code, 0);
    ASSERT_EQ(fbx({"down", vm}).code, 0);
    // Not a tar: the guest's unit cannot unpack it and says so on the console.
    const std::string seed = store_->member_dir(vm) + "/seed.tar";
    write_text(seed, std::string(10240, 'x'));
    auto up = fbx({"up", vm});
    EXPECT_EQ(up.code, 1) << up;
    EXPECT_THAT(lines_starting(up.err, "error: "), ::testing::SizeIs(1)) << up;
    EXPECT_THAT(up.err, HasSubstr("could not apply its seed")) << up;
    EXPECT_THAT(up.err, HasSubstr("cannot unpack the seed")) << up;
    EXPECT_THAT(up.err, HasSubstr("serial.log")) << up;
    EXPECT_THAT(up.err, Not(HasSubstr("not reachable after")))
        << "the boot wait must end at the guest's report";
    // The VM existed before: it is stopped, its disk kept.
    EXPECT_TRUE(path_exists(store_->member_dir(vm) + "/disk.qcow2"));
    expect_nothing_left();
    EXPECT_EQ(fbx({"rm", "-f", vm}).code, 0);
}

} // namespace
} // namespace fleetbox::test
