// One real debian-12 build (minutes; reused when the store already has it, which is the
// point: a test run builds the image once per machine, and again only when the recipe changed).
// Images live in $FLEETBOX_HOME/images when set, else $HOME/.fleetbox/images. Then the bytes are
// checked against the manifest and the ext4 inside is inspected (via a raw copy and debugfs) for
// the image traps: no host resolver, no build-time SSH host keys, no baked hostname, resolvable
// hostname, correct ownership (setuid sudo, group shadow), the kernel's modules and the small
// virtio initrd.
#include "image/cache.hpp"
#include "image/overlay.hpp"
#include "image/recipe.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"
#include "sys/sha256.hpp"

#include <cstdlib>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::image {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string images_dir() {
    const char* home = std::getenv("FLEETBOX_HOME");
    if (home != nullptr && *home != '\0')
        return std::string(home) + "/images";
    const char* h = std::getenv("HOME");
    return std::string(h != nullptr ? h : "/root") + "/.fleetbox/images";
}

std::string run_out(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Capture;
    auto r = run_command(spec);
    return r ? r->out : std::string();
}

class Debian12Image : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        for (const char* tool : {"mmdebstrap", "mkfs.ext4", "qemu-img", "debugfs"})
            if (find_program(tool).empty())
                return; // each test skips
        BuildOptions options;
        options.progress = ProgressMode::Plain; // CI logs show the phases
        options.replace_outdated = true;        // this binary's image is the one to check
        auto r = ImageCache(images_dir()).ensure("debian-12", options);
        if (r)
            info_ = new ImageInfo(*r);
        else
            error_ = new std::string(r.error().message() +
                                     (r.error().hint.empty() ? "" : " (" + r.error().hint + ")"));
    }
    static void TearDownTestSuite() {
        delete info_;
        delete error_;
        info_ = nullptr;
        error_ = nullptr;
    }
    void SetUp() override {
        if (info_ == nullptr && error_ == nullptr)
            GTEST_SKIP() << "mmdebstrap, e2fsprogs or qemu-utils missing";
        ASSERT_NE(info_, nullptr) << *error_;
    }
    static ImageInfo* info_;
    static std::string* error_;
};
ImageInfo* Debian12Image::info_ = nullptr;
std::string* Debian12Image::error_ = nullptr;

TEST_F(Debian12Image, SecondEnsureReusesIt) {
    auto again = ImageCache(images_dir()).ensure("debian-12", {});
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_TRUE(again->reused);
    EXPECT_EQ(again->manifest.built_at, info_->manifest.built_at);
}

TEST_F(Debian12Image, FilesMatchTheManifest) {
    const Manifest& m = info_->manifest;
    EXPECT_EQ(m.alias, "debian-12");
    EXPECT_EQ(m.suite, "bookworm");
    EXPECT_THAT(m.kernel_version, HasSubstr("cloud-amd64"));
    EXPECT_THAT(m.kernel_cmdline, HasSubstr("root=/dev/vda"));
    ASSERT_EQ(m.files.size(), 3u);
    for (const auto& f : m.files) {
        std::string path = info_->dir + "/" + f.name;
        EXPECT_EQ(*file_size(path), f.size) << f.name;
        EXPECT_EQ(*sha256_file_hex(path), f.sha256) << f.name;
    }
}

TEST_F(Debian12Image, KernelAndSmallInitrdForDirectBoot) {
    std::string kernel = test::read_text(info_->kernel_path);
    ASSERT_GT(kernel.size(), 0x206u);
    EXPECT_EQ(kernel.substr(0x202, 4), "HdrS"); // x86 boot protocol header of a bzImage
    auto initrd = *file_size(info_->initrd_path);
    EXPECT_GT(initrd, 1ULL << 20);
    EXPECT_LT(initrd, 12ULL << 20)
        << "MODULES=list should give a small initrd (stock is ~15-50 MB)";
    if (!find_program("lsinitramfs").empty()) {
        std::string listing = run_out({"lsinitramfs", info_->initrd_path});
        for (const char* mod : {"virtio_blk.ko", "virtio_mmio.ko", "virtio_pci.ko"})
            EXPECT_THAT(listing, HasSubstr(mod));
    }
}

TEST_F(Debian12Image, DiskIsAQcow2Base) {
    auto q = nlohmann::json::parse(
        run_out({"qemu-img", "info", "--output=json", "-U", info_->disk_path}));
    EXPECT_EQ(q["format"], "qcow2");
    EXPECT_EQ(q["virtual-size"].get<std::uint64_t>(), info_->manifest.virtual_size);
    EXPECT_FALSE(q.contains("backing-filename"));
    EXPECT_LT(info_->manifest.file("disk.qcow2")->size, 1ULL << 30);
}

TEST_F(Debian12Image, FilesystemHasTheTrapFixes) {
    test::ScratchDir scratch;
    std::string raw = scratch.file("disk.raw");
    ChildSpec convert;
    convert.argv = {"qemu-img", "convert", "-f", "qcow2", "-O", "raw", info_->disk_path, raw};
    auto converted = run_checked(convert);
    ASSERT_TRUE(converted) << converted.error().message();
    auto cat = [&](const std::string& p) { return run_out({"debugfs", "-R", "cat " + p, raw}); };
    auto ls = [&](const std::string& p) { return run_out({"debugfs", "-R", "ls " + p, raw}); };
    auto stat = [&](const std::string& p) { return run_out({"debugfs", "-R", "stat " + p, raw}); };

    EXPECT_THAT(cat("/etc/resolv.conf"), Not(HasSubstr("nameserver")));
    EXPECT_THAT(ls("/etc/ssh"), HasSubstr("sshd_config"));
    EXPECT_THAT(ls("/etc/ssh"), Not(HasSubstr("ssh_host_")));
    EXPECT_EQ(cat("/etc/hostname"), "");
    EXPECT_THAT(cat("/etc/nsswitch.conf"), HasSubstr("myhostname"));
    EXPECT_THAT(cat("/etc/fstab"), HasSubstr("/dev/vda\t/\text4"));
    EXPECT_THAT(cat("/etc/cloud/cloud.cfg.d/90-fleetbox.cfg"), HasSubstr("NoCloud"));
    EXPECT_THAT(cat("/etc/initramfs-tools/conf.d/fleetbox.conf"), HasSubstr("MODULES=list"));
    EXPECT_THAT(ls("/lib/modules"), HasSubstr(info_->manifest.kernel_version));
    EXPECT_THAT(ls("/usr/lib/openssh"), HasSubstr("sftp-server")); // scp uses SFTP since OpenSSH 9
    EXPECT_THAT(ls("/var/lib/apt/lists"), Not(HasSubstr("_Packages")));
    EXPECT_THAT(ls("/etc/dpkg/dpkg.cfg.d"), Not(HasSubstr("unsafe-io"))); // build-time only
    EXPECT_THAT(cat("/etc/initramfs-tools/scripts/init-top/fleetbox-marker"),
                HasSubstr("stage=initramfs"));
    // Ownership survived mmdebstrap (unshare mode as root) and mkfs.ext4 -d.
    EXPECT_THAT(stat("/usr/bin/sudo"), HasSubstr("Mode:  04755"));
    EXPECT_THAT(stat("/usr/bin/sudo"), HasSubstr("User:     0   Group:     0"));
    EXPECT_THAT(stat("/etc/shadow"), HasSubstr("Group:    42")); // shadow
    // Each VM gets its own machine id (empty file = first boot).
    EXPECT_EQ(cat("/etc/machine-id"), "");
    // The fast path's guest side (ADR 0012): the seed unit and script, enabled; the user with
    // its sudo rule; sshd serving the one pinned key; networkd kept off; the switch-root marker.
    EXPECT_THAT(cat("/etc/systemd/system/fleetbox-seed.service"),
                HasSubstr("ConditionKernelCommandLine=fleetbox.seed"));
    EXPECT_THAT(ls("/etc/systemd/system/sysinit.target.wants"), HasSubstr("fleetbox-seed.service"));
    EXPECT_THAT(cat("/usr/lib/fleetbox/fleetbox-seed"), HasSubstr("fleetbox-seed 1"));
    EXPECT_THAT(stat("/usr/lib/fleetbox/fleetbox-seed"), HasSubstr("Mode:  0755"));
    EXPECT_THAT(cat("/etc/passwd"), HasSubstr("fleetbox:x:1000:1000::/home/fleetbox:/bin/bash"));
    EXPECT_THAT(cat("/etc/sudoers.d/90-fleetbox"), HasSubstr("fleetbox ALL=(ALL) NOPASSWD:ALL"));
    EXPECT_THAT(stat("/etc/sudoers.d/90-fleetbox"), HasSubstr("Mode:  0440"));
    EXPECT_THAT(cat("/etc/ssh/sshd_config.d/fleetbox.conf"),
                HasSubstr("HostKey /etc/ssh/ssh_host_ed25519_key"));
    EXPECT_THAT(cat("/etc/systemd/system-preset/10-fleetbox.preset"),
                HasSubstr("disable systemd-networkd.service"));
    EXPECT_THAT(cat("/etc/initramfs-tools/scripts/init-bottom/fleetbox-marker"),
                HasSubstr("stage=switch-root"));
    // The manifest records this binary's recipe and offers the fast path first, NoCloud second.
    EXPECT_EQ(info_->manifest.recipe, recipe_fingerprint(*find_alias("debian-12").value()));
    EXPECT_FALSE(info_->outdated);
    ASSERT_EQ(info_->manifest.method_names(),
              (std::vector<std::string>{"fleetbox-seed", "nocloud"}));
}

TEST_F(Debian12Image, OverlayIsTinyAndPointsAtTheBase) {
    test::ScratchDir scratch;
    std::string out = scratch.file("vm.qcow2");
    auto st = create_overlay(*info_, out);
    ASSERT_TRUE(st) << st.error().message();
    auto q = nlohmann::json::parse(run_out({"qemu-img", "info", "--output=json", "-U", out}));
    EXPECT_EQ(q["virtual-size"].get<std::uint64_t>(), kDefaultDiskSize);
    EXPECT_EQ(q["backing-filename"], info_->disk_path);
    EXPECT_LT(*allocated_size(out), 1ULL << 20);
}

} // namespace
} // namespace fleetbox::image
