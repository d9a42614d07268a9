// e2e: read-only fixtures (Options::fixtures, ADR 0019) on one real VM through the library.
// A host directory with a nested file, an executable and a symlink is visible at its guest
// path as soon as start() returns (mounted before the VM is reported ready), read-only
// (a write fails with EROFS, also as root), root-owned, with the same content. After the host
// directory changes and the VM is stopped and started again, the guest sees the new content
// (the image is rebuilt at every boot), while the options given to the second start are
// ignored (the set is frozen at create).
#include "e2e/vm/library_fixture.hpp"

#include <cstdlib>
#include <filesystem>
#include <fleetbox/fleetbox.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

class FixtureVm : public LibraryVmTest {};

// `cmd` in the guest; its stdout (asserting exit 0).
std::string run(Vm& vm, const std::string& cmd) {
    return guest_out(vm, cmd, 60s);
}

TEST_F(FixtureVm, HostDirectoryIsReadOnlyInTheGuestAndRebuiltAtEveryBoot) {
    const std::string host = root() + "/fixture-src";
    std::filesystem::create_directories(host + "/nested/deeper");
    write_text(host + "/nested/deeper/file.txt", "first version\n");
    write_text(host + "/tool.sh", "#!/bin/sh\necho tool ran\n");
    std::filesystem::permissions(host + "/tool.sh", std::filesystem::perms(0755));
    std::filesystem::create_symlink("nested/deeper/file.txt", host + "/link");

    Options o = small_vm_options();
    o.fixtures = {{host, "/srv/fixture"}};
    // The image's default (the fast path: its seed unit mounts the fixtures before sshd);
    // FLEETBOX_E2E_FIXTURE_PROVISIONING=nocloud checks the cloud-init path (the client
    // mounts them before reporting the VM ready) without a second VM in every CI run.
    if (const char* method = std::getenv("FLEETBOX_E2E_FIXTURE_PROVISIONING"))
        o.provisioning = method;
    std::vector<std::string> log;
    o.log = [&](const std::string& line) { log.push_back(line); };
    auto vm = fleetbox::start("e2e-fix", o);
    ASSERT_TRUE(vm) << vm.error().message() << " (" << vm.error().hint << ")";

    {
        SCOPED_TRACE("mounted read-only before ready, same content");
        auto opts = run(*vm, "findmnt -n -o FSTYPE,OPTIONS --mountpoint /srv/fixture");
        EXPECT_THAT(opts, HasSubstr("ext4"));
        EXPECT_THAT(opts, HasSubstr("ro,"));
        EXPECT_EQ(run(*vm, "cat /srv/fixture/nested/deeper/file.txt"), "first version\n");
        EXPECT_EQ(run(*vm, "readlink /srv/fixture/link"), "nested/deeper/file.txt\n");
        EXPECT_EQ(run(*vm, "cat /srv/fixture/link"), "first version\n");
        EXPECT_EQ(run(*vm, "/srv/fixture/tool.sh"), "tool ran\n");
        EXPECT_EQ(run(*vm, "ls -A /srv/fixture | sort | tr '\\n' ' '"), "link nested tool.sh ");
        // On the fast path the guest's seed unit mounted it (no fallback to the client).
        EXPECT_THAT(read_file(store_->member_dir("e2e-fix") + "/serial.log").value_or(""),
                    Not(HasSubstr("cannot mount")));
        EXPECT_EQ(run(*vm, "stat -c '%u:%g %a' /srv/fixture/nested/deeper/file.txt "
                           "/srv/fixture/tool.sh /srv/fixture/nested"),
                  "0:0 444\n0:0 555\n0:0 555\n");
    }
    {
        SCOPED_TRACE("writes fail with EROFS, also as root");
        for (const char* cmd :
             {"touch /srv/fixture/new 2>&1", "sudo -n touch /srv/fixture/nested/new 2>&1",
              "sudo -n sh -c 'echo x >> /srv/fixture/nested/deeper/file.txt' 2>&1"}) {
            auto r = vm->ssh(cmd, 60s);
            ASSERT_TRUE(r) << r.error().message();
            EXPECT_NE(r->exit_code, 0) << cmd;
            EXPECT_THAT(r->out, HasSubstr("Read-only file system")) << cmd;
        }
        EXPECT_EQ(run(*vm, "cat /srv/fixture/nested/deeper/file.txt"), "first version\n");
        // The disk itself is read-only (QEMU attached it so): not even root can remount it rw.
        EXPECT_EQ(run(*vm, "cat /sys/block/$(basename $(readlink -f "
                           "/dev/disk/by-id/virtio-fbxfix0))/ro"),
                  "1\n");
        auto remount = vm->ssh("sudo -n mount -o remount,rw /srv/fixture 2>&1", 60s);
        ASSERT_TRUE(remount) << remount.error().message();
        EXPECT_NE(remount->exit_code, 0) << remount->out;
        EXPECT_THAT(run(*vm, "findmnt -n -o OPTIONS --mountpoint /srv/fixture"), HasSubstr("ro,"));
    }
    {
        SCOPED_TRACE("rebuilt from the host directory at the next boot; the set is frozen");
        ASSERT_TRUE(vm->stop());
        write_text(host + "/nested/deeper/file.txt", "second version\n");
        write_text(host + "/added.txt", "added\n");
        std::filesystem::remove(host + "/tool.sh");
        auto again_opts = o;
        again_opts.fixtures = {{host, "/other/place"}};
        log.clear();
        auto again = fleetbox::start("e2e-fix", again_opts);
        ASSERT_TRUE(again) << again.error().message() << " (" << again.error().hint << ")";
        EXPECT_EQ(run(*again, "cat /srv/fixture/nested/deeper/file.txt"), "second version\n");
        EXPECT_EQ(run(*again, "cat /srv/fixture/added.txt"), "added\n");
        EXPECT_EQ(run(*again, "ls -A /srv/fixture | sort | tr '\\n' ' '"),
                  "added.txt link nested ");
        EXPECT_EQ(run(*again, "test -e /other/place && echo yes || echo no"), "no\n");
        EXPECT_THAT(::testing::PrintToString(log), HasSubstr("--fixture ignored"));
        auto opts = run(*again, "findmnt -n -o OPTIONS --mountpoint /srv/fixture");
        EXPECT_THAT(opts, HasSubstr("ro,"));
        ASSERT_TRUE(again->destroy());
    }
    (void)vm->destroy(); // already gone: idempotent
    expect_nothing_left();
}

} // namespace
} // namespace fleetbox::test
