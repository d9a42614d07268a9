// e2e: the other Debian releases fleetbox builds from packages (ADR 0021), debian-11
// (bullseye) and debian-13 (trixie), boot with the same tuning as debian-12 and answer SSH.
// One VM per image and every check on it (a boot under TCG is the expensive part): the
// right release and kernel series, its name, address and route, the user and passwordless
// sudo, the pinned host key from the seed, the console boot markers, the small virtio initrd
// and merged /usr. debian-11 boots through cloud-init (NoCloud: its cloud-init 20.4 is the
// oldest that must read fleetbox's seed), debian-13 through the fleetbox seed (systemd 257).
// Both provisioning methods were checked on both images by hand (see the ADR).
//
// The images are big builds (minutes each). In CI (CI or FLEETBOX_CI set; scripts/test also
// builds them in the background while the other tiers run) a missing image is built here;
// elsewhere the test skips and says how to build it.
#include "e2e/vm/e2e_fixture.hpp"
#include "util/strings.hpp"

#include <cstdlib>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Suite {
    const char* alias;
    const char* codename;
    const char* version_id;
    const char* kernel_series; // the release's kernel, "5.10." for bullseye
    const char* provisioning;
};

// gtest names the parameter by this (not a byte dump) in listings and failures.
void PrintTo(const Suite& s, std::ostream* os) {
    *os << s.alias << " (" << s.provisioning << ")";
}

bool in_ci() {
    for (const char* var : {"CI", "FLEETBOX_CI"}) {
        const char* v = std::getenv(var);
        if (v != nullptr && *v != '\0' && std::string(v) != "0" && std::string(v) != "false")
            return true;
    }
    return false;
}

class DebianSuite : public VmTest, public ::testing::WithParamInterface<Suite> {
protected:
    void SetUp() override {
        const Suite& s = GetParam();
        image_alias_ = s.alias;
        if (in_ci()) {
            // Built (or waited for, while scripts/test's background build holds the alias lock)
            // here, in the host's namespace: VmTest::SetUp then links it from inside the test's
            // private namespace, which cannot reach the mirror.
            auto built = cached_image(/*build_if_missing=*/true, s.alias);
            ASSERT_TRUE(built) << built.error().message();
        } else {
            auto found = image::ImageCache(image_cache_dir()).lookup(s.alias);
            if (found && *found && (*found)->outdated)
                GTEST_SKIP() << s.alias << " in " << image_cache_dir()
                             << " was built by another recipe (outside CI the tests do not "
                                "rebuild it): rebuild it with `fleetbox image build --force "
                             << s.alias << "` for the same FLEETBOX_HOME, or run with CI=1";
            if (!found || !*found) {
                // The store whose images/ is the cache: FLEETBOX_HOME for `image build`.
                std::string cache = image_cache_dir();
                std::string home = cache.size() > 7 && cache.substr(cache.size() - 7) == "/images"
                                       ? cache.substr(0, cache.size() - 7)
                                       : "<the directory above images/>";
                GTEST_SKIP() << s.alias << " is not in the image cache " << cache
                             << " (outside CI the tests do not build it): build it with "
                             << "`FLEETBOX_HOME=" << home << " fleetbox image build " << s.alias
                             << "`, or run with CI=1";
            }
        }
        VmTest::SetUp();
    }

    CliRun fbx(std::vector<std::string> args) { return run_fleetbox(root(), std::move(args)); }
    // One trimmed line of guest output ("" on failure, with the run printed).
    std::string guest_line(const std::string& vm, const std::string& command) {
        auto run = fbx({"ssh", vm, "--", command});
        EXPECT_EQ(run.code, 0) << command << "\n" << run;
        return std::string(trim(run.out));
    }
};

TEST_P(DebianSuite, BootsToSshWithTheSameTuning) {
    const Suite& s = GetParam();
    const std::string vm = std::string("suite-") + s.version_id;
    auto up = fbx({"up", vm, "--image", s.alias, "--provisioning", s.provisioning, "--timings"});
    ASSERT_EQ(up.code, 0) << up;
    EXPECT_EQ(config_field(*store_, vm, "provisioning"), s.provisioning);
    EXPECT_THAT(up.out, HasSubstr("GUEST PHASE")) << "the console markers give --timings";

    {
        SCOPED_TRACE("the release and its kernel");
        EXPECT_EQ(guest_line(vm, ". /etc/os-release && echo $VERSION_CODENAME $VERSION_ID"),
                  std::string(s.codename) + " " + s.version_id);
        EXPECT_THAT(guest_line(vm, "uname -r"), StartsWith(s.kernel_series));
        EXPECT_THAT(guest_line(vm, "uname -r"), HasSubstr("cloud-amd64"));
    }
    {
        SCOPED_TRACE("name, address, route");
        const std::string ip = config_field(*store_, vm, "ip");
        ASSERT_FALSE(ip.empty());
        EXPECT_EQ(guest_line(vm, "hostname"), vm);
        EXPECT_THAT(guest_line(vm, "ip -4 -o addr show dev eth0"), HasSubstr("inet " + ip + "/24"));
        EXPECT_THAT(guest_line(vm, "ip route show default"),
                    HasSubstr("default via " + ip.substr(0, ip.rfind('.')) + ".1"));
        EXPECT_THAT(guest_line(vm, "getent ahostsv4 " + vm + " | head -1"), HasSubstr("127.0.1.1"));
    }
    {
        SCOPED_TRACE("the user and sudo");
        EXPECT_EQ(guest_line(vm, "id -un; id -u"), "fleetbox\n1000");
        EXPECT_EQ(guest_line(vm, "sudo -n id -u"), "0");
    }
    {
        SCOPED_TRACE("the host key is the seed's (pinned on the host)");
        auto pinned = split(
            std::string(
                trim(read_file(store_->member_dir(vm) + "/ssh_host_ed25519_key.pub").value_or(""))),
            ' ');
        ASSERT_GE(pinned.size(), 2u);
        // sudo: bullseye's cloud-init 20.4 writes the public half 0600 (harmless: clients get
        // the key in the handshake, where the pin is checked).
        EXPECT_THAT(guest_line(vm, "sudo cat /etc/ssh/ssh_host_ed25519_key.pub"),
                    HasSubstr(pinned[0] + " " + pinned[1]));
        EXPECT_EQ(guest_line(vm, "ls /etc/ssh | grep -c '^ssh_host_.*_key$'"), "1")
            << "one host key: no build-time or generated others";
    }
    {
        SCOPED_TRACE("provisioning method");
        if (std::string(s.provisioning) == "nocloud") {
            EXPECT_EQ(guest_line(vm, "systemctl is-active cloud-init.service"), "active");
            EXPECT_EQ(guest_line(vm, "systemctl is-active fleetbox-seed.service || true"),
                      "inactive");
            EXPECT_EQ(guest_line(vm, "grep -c '^# fleetbox cluster begin' /etc/hosts"), "1");
        } else {
            EXPECT_EQ(guest_line(vm, "systemctl is-active fleetbox-seed.service"), "active");
            EXPECT_EQ(guest_line(vm, "systemctl show -p ActiveEnterTimestampMonotonic --value "
                                     "cloud-init-local.service cloud-init-main.service "
                                     "cloud-init-network.service cloud-config.service "
                                     "cloud-final.service | sort -u"),
                      "0");
        }
        EXPECT_EQ(guest_line(vm, "systemctl is-active ssh.service"), "active");
    }
    {
        SCOPED_TRACE("the image tuning");
        const std::string serial = read_file(store_->member_dir(vm) + "/serial.log").value_or("");
        for (const char* marker :
             {"fleetbox: stage=initramfs", "fleetbox: stage=systemd", "fleetbox: stage=sshd"})
            EXPECT_THAT(serial, HasSubstr(marker));
        // The small initrd with the virtio drivers (MODULES=list): loaded from it, not the disk.
        auto initrd_kib = std::stoll(
            guest_line(vm, "du -k --apparent-size /boot/initrd.img-$(uname -r) | cut -f1"));
        EXPECT_LT(initrd_kib, 12 * 1024) << "MODULES=list should give a small initrd";
        EXPECT_EQ(guest_line(vm, "for m in virtio_blk virtio_net; do test -d /sys/module/$m && "
                                 "echo $m; done | wc -l"),
                  "2");
        EXPECT_EQ(guest_line(vm, "readlink /bin /lib"), "usr/bin\nusr/lib") << "merged /usr";
        EXPECT_EQ(guest_line(vm, "test -x /usr/lib/openssh/sftp-server && echo sftp"), "sftp");
        EXPECT_EQ(guest_line(vm, "python3 -c 'print(6*7)'"), "42");
        EXPECT_EQ(guest_line(vm, "cat /etc/machine-id | wc -c"), "33");
    }

    EXPECT_EQ(fbx({"rm", "-f", vm}).code, 0);
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Images, DebianSuite,
                         ::testing::Values(Suite{"debian-11", "bullseye", "11", "5.10.", "nocloud"},
                                           Suite{"debian-13", "trixie", "13", "6.12.",
                                                 "fleetbox-seed"}),
                         // "debian11": gtest names are [A-Za-z0-9_]
                         [](const ::testing::TestParamInfo<Suite>& param) {
                             std::string name = param.param.alias;
                             name.erase(name.find('-'), 1);
                             return name;
                         });

} // namespace
} // namespace fleetbox::test
