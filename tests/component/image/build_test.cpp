// A whole image build with a fake mmdebstrap and the real mkfs.ext4 and qemu-img: the cache
// entry, its manifest, the kernel pick, the hooks' effect inside the ext4, reuse, forced
// rebuild, remove, and the sweep of a killed build's leftovers.
#include "fake_tools.hpp"
#include "image/overlay.hpp"
#include "image/scratch.hpp"
#include "sys/sha256.hpp"

#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox::image {
namespace {

using test_fakes::DiskReader;
using test_fakes::FakeEnv;
using test_fakes::output_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

mode_t mode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

class ImageBuild : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* tool : {"mkfs.ext4", "qemu-img", "debugfs"})
            if (find_program(tool).empty())
                GTEST_SKIP() << tool << " is not installed";
    }
    FakeEnv env_;
};

TEST_F(ImageBuild, BuildsACompleteEntry) {
    ImageCache cache(env_.images());
    auto info = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_FALSE(info->reused);
    EXPECT_EQ(env_.runs(), 1);
    EXPECT_EQ(info->dir, env_.images() + "/debian-12");
    EXPECT_EQ(*list_dir(info->dir),
              (std::vector<std::string>{"disk.qcow2", "initrd.img", "manifest.json", "vmlinuz"}));
    EXPECT_THAT(env_.leftovers(), ElementsAre("debian-12")); // no staging dir, no rootfs, no raw

    const Manifest& m = info->manifest;
    EXPECT_EQ(m.alias, "debian-12");
    EXPECT_EQ(m.kernel_version, "6.1.0-10-cloud-amd64"); // newest with an initrd
    EXPECT_EQ(test::read_text(info->kernel_path), "kernel 6.1.0-10\n");
    EXPECT_EQ(test::read_text(info->initrd_path), "initrd 6.1.0-10\n");
    EXPECT_THAT(m.mirrors, ElementsAre("deb http://127.0.0.1:9/debian bookworm main"));
    EXPECT_GT(m.build_seconds, 0.0);
    std::vector<std::string> phase_names;
    for (const auto& p : m.phases)
        phase_names.push_back(p.name);
    EXPECT_THAT(phase_names, ElementsAre("bootstrap", "kernel", "mkfs", "convert", "manifest"));
    EXPECT_THAT(m.boot_markers,
                ElementsAre("fleetbox: stage=initramfs", "fleetbox: stage=switch-root",
                            "fleetbox: stage=systemd", "fleetbox: stage=seed",
                            "fleetbox: stage=sshd"));
    // A built image offers the fast path first, NoCloud second, each with its kernel words.
    ASSERT_EQ(m.method_names(), (std::vector<std::string>{"fleetbox-seed", "nocloud"}));
    EXPECT_THAT(m.provisioning[0].kernel_cmdline, HasSubstr("fleetbox.seed=/dev/vdb"));
    EXPECT_THAT(m.provisioning[1].kernel_cmdline, HasSubstr("systemd.mask=cloud-final.service"));
    for (const auto& f : m.files) {
        EXPECT_EQ(*file_size(info->dir + "/" + f.name), f.size) << f.name;
        EXPECT_EQ(*sha256_file_hex(info->dir + "/" + f.name), f.sha256) << f.name;
    }
    auto qinfo =
        nlohmann::json::parse(output_of({"qemu-img", "info", "--output=json", info->disk_path}));
    EXPECT_EQ(qinfo["format"], "qcow2");
    EXPECT_EQ(qinfo["virtual-size"].get<std::uint64_t>(), m.virtual_size);
    EXPECT_FALSE(qinfo.contains("backing-filename"));
    // The manifest on disk is what lookup returns.
    auto again = cache.lookup("debian-12");
    ASSERT_TRUE(again && again->has_value());
    EXPECT_EQ((*again)->manifest.files[0].sha256, m.files[0].sha256);
    // The build log kept the fake's output.
    EXPECT_THAT(test::read_text(cache.log_path("debian-12")), HasSubstr("I: fake mmdebstrap into"));
}

TEST_F(ImageBuild, HooksFixTheTrapsInsideTheFilesystem) {
    ImageCache cache(env_.images());
    auto info = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(info) << info.error().message();
    DiskReader disk(info->disk_path);
    EXPECT_THAT(disk.cat("/usr/bin/hello"), HasSubstr("#!/bin/sh"));         // the tree is there
    EXPECT_THAT(disk.cat("/etc/resolv.conf"), Not(HasSubstr("nameserver"))); // no host resolver
    EXPECT_THAT(disk.ls("/etc/ssh"), HasSubstr("sshd_config"));
    EXPECT_THAT(disk.ls("/etc/ssh"), Not(HasSubstr("ssh_host_"))); // no shared host keys
    EXPECT_EQ(disk.cat("/etc/hostname"), "");
    EXPECT_THAT(disk.cat("/etc/nsswitch.conf"), HasSubstr("hosts:          files myhostname dns"));
    EXPECT_THAT(disk.cat("/etc/fstab"), HasSubstr("/dev/vda\t/\text4\t"));
    EXPECT_THAT(disk.cat("/etc/cloud/cloud.cfg.d/90-fleetbox.cfg"),
                HasSubstr("datasource_list: [ NoCloud, None ]"));
    EXPECT_THAT(disk.cat("/etc/initramfs-tools/conf.d/fleetbox.conf"), HasSubstr("MODULES=list"));
    EXPECT_THAT(disk.cat("/etc/initramfs-tools/hooks/fleetbox-virtio"),
                HasSubstr("force_load \"$m\""));
    EXPECT_THAT(disk.stat("/etc/initramfs-tools/hooks/fleetbox-virtio"), HasSubstr("Mode:  0755"));
    EXPECT_THAT(disk.stat("/etc/systemd/system/apt-daily.timer"),
                HasSubstr("Fast link dest: \"/dev/null\""));
    EXPECT_THAT(disk.ls("/var/lib/apt/lists"), Not(HasSubstr("x_Packages")));
    EXPECT_THAT(disk.ls("/etc/dpkg/dpkg.cfg.d"), Not(HasSubstr("unsafe-io"))); // build-time only
    // Console boot markers: the files as the guest's shell and systemd will read them.
    EXPECT_EQ(disk.cat("/etc/initramfs-tools/scripts/init-top/fleetbox-marker"),
              "#!/bin/sh\ncase \"$1\" in prereqs) exit 0;; esac\nread -r up _ < /proc/uptime\n"
              "echo \"fleetbox: stage=initramfs uptime=$up\" > /dev/console\n");
    EXPECT_THAT(disk.cat("/etc/systemd/system/fleetbox-marker.service"),
                HasSubstr("ExecStart=/bin/sh -c 'echo \"fleetbox: stage=systemd uptime=$$(cut -d\" "
                          "\" -f1 /proc/uptime)\" "
                          "> /dev/console'\n"));
    EXPECT_THAT(disk.cat("/etc/systemd/system/ssh.service.d/fleetbox-marker.conf"),
                HasSubstr("ExecStartPost=-/bin/sh -c 'echo \"fleetbox: stage=sshd uptime="));
    EXPECT_THAT(disk.stat("/etc/systemd/system/sysinit.target.wants/fleetbox-marker.service"),
                HasSubstr("Fast link dest: \"../fleetbox-marker.service\""));
}

TEST_F(ImageBuild, SecondEnsureReusesTheCachedImage) {
    ImageCache cache(env_.images());
    auto first = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(first) << first.error().message();
    auto second = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_TRUE(second->reused);
    EXPECT_EQ(env_.runs(), 1);
    EXPECT_EQ(second->manifest.built_at, first->manifest.built_at);
}

TEST_F(ImageBuild, ForcedBuildReplacesTheEntry) {
    ImageCache cache(env_.images());
    ASSERT_TRUE(cache.ensure("debian-12", env_.options()));
    test::write_text(env_.images() + "/debian-12/marker", "old");
    auto rebuilt = cache.build("debian-12", env_.options());
    ASSERT_TRUE(rebuilt) << rebuilt.error().message();
    EXPECT_FALSE(rebuilt->reused);
    EXPECT_EQ(env_.runs(), 2);
    EXPECT_FALSE(path_exists(env_.images() + "/debian-12/marker"));
    EXPECT_THAT(env_.leftovers(), ElementsAre("debian-12"));
}

// An entry made by another recipe is reused as it is, unless the caller asks for this
// binary's recipe (replace_outdated): then it is rebuilt, once.
TEST_F(ImageBuild, AnOutdatedEntryIsRebuiltOnlyWhenAsked) {
    ImageCache cache(env_.images());
    auto first = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_FALSE(first->outdated);
    Manifest old = first->manifest;
    old.recipe = "an-older-recipe";
    test::write_text(first->dir + "/manifest.json", manifest_to_json(old));
    auto kept = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(kept) << kept.error().message();
    EXPECT_TRUE(kept->outdated);
    EXPECT_EQ(env_.runs(), 1);
    auto options = env_.options();
    options.replace_outdated = true;
    auto rebuilt = cache.ensure("debian-12", options);
    ASSERT_TRUE(rebuilt) << rebuilt.error().message();
    EXPECT_FALSE(rebuilt->outdated);
    EXPECT_FALSE(rebuilt->reused);
    EXPECT_EQ(env_.runs(), 2);
    auto again = cache.ensure("debian-12", options);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->reused);
    EXPECT_EQ(env_.runs(), 2);
}

TEST_F(ImageBuild, DamagedEntryIsRebuilt) {
    ImageCache cache(env_.images());
    auto first = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(first);
    test::write_text(first->kernel_path, "truncated");
    auto second = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_FALSE(second->reused);
    EXPECT_EQ(env_.runs(), 2);
    EXPECT_EQ(test::read_text(second->kernel_path), "kernel 6.1.0-10\n");
}

TEST_F(ImageBuild, StaleStagingDirsOfThisAliasAreSwept) {
    test::write_text(env_.images() + "/.build-debian-12-Ab3dEf/rootfs/etc/x",
                     "from a killed build");
    test::write_text(env_.images() + "/.rm-debian-12-4242/disk.qcow2", "from a killed rm");
    test::write_text(env_.images() + "/.build-debian-12-x-Ab3dEf/keep", "another alias's build");
    ImageCache cache(env_.images());
    ASSERT_TRUE(cache.ensure("debian-12", env_.options()));
    EXPECT_THAT(env_.leftovers(), ElementsAre(".build-debian-12-x-Ab3dEf", "debian-12"));
}

TEST_F(ImageBuild, StaleScratchDirsOfThisStoreAndAliasAreSwept) {
    std::string mine = env_.work() + "/" + scratch_prefix(env_.images(), "debian-12") + "Ab3dEf";
    std::string other_store =
        env_.work() + "/" + scratch_prefix(env_.file("other/images"), "debian-12") + "Ab3dEf";
    test::write_text(mine + "/rootfs/etc/x", "from a killed build");
    test::write_text(other_store + "/rootfs/etc/x", "a build for another store");
    ImageCache cache(env_.images());
    ASSERT_TRUE(cache.ensure("debian-12", env_.options()));
    EXPECT_FALSE(path_exists(mine));
    EXPECT_TRUE(path_exists(other_store));
}

TEST_F(ImageBuild, IntermediatesCanStayInTheStagingDir) {
    auto options = env_.options();
    options.scratch_dir = "staging";
    ImageCache cache(env_.images());
    auto info = cache.ensure("debian-12", options);
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_THAT(env_.leftovers(), ElementsAre("debian-12"));
    EXPECT_THAT(test::read_text(cache.log_path("debian-12")),
                HasSubstr("fleetbox: intermediates in " + env_.images() + "/.build-debian-12-"));
}

// Like every file of the store, a built image is its owner's alone, whatever the umask.
TEST_F(ImageBuild, TheEntryAndItsLogAreOwnerOnly) {
    ImageCache cache(env_.images());
    const mode_t old = ::umask(0);
    auto info = cache.ensure("debian-12", env_.options());
    ::umask(old);
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(mode_of(info->dir), 0700U);
    const auto names = list_dir(info->dir).value();
    for (const auto& name : names)
        EXPECT_EQ(mode_of(info->dir + "/" + name), 0600U) << name;
    EXPECT_EQ(mode_of(env_.images() + "/.logs"), 0700U);
    EXPECT_EQ(mode_of(cache.log_path("debian-12")), 0600U);
    EXPECT_EQ(mode_of(env_.images() + "/.debian-12.lock"), 0600U);
}

// A symlink planted as the build log is refused before anything runs; what it names is
// neither created nor written.
TEST_F(ImageBuild, APlantedBuildLogSymlinkIsNotFollowed) {
    ASSERT_TRUE(ensure_dir(env_.images() + "/.logs"));
    ASSERT_TRUE(ensure_dir(env_.file("private"), 0700));
    const std::string absent = env_.file("private/created-through-link");
    const std::string present = env_.file("private/existing");
    test::write_text(present, "keep\n");
    ImageCache cache(env_.images());
    for (const auto& target : {absent, present}) {
        ::unlink(cache.log_path("debian-12").c_str());
        ASSERT_EQ(::symlink(target.c_str(), cache.log_path("debian-12").c_str()), 0);
        auto info = cache.ensure("debian-12", env_.options());
        ASSERT_FALSE(info);
        EXPECT_THAT(info.error().message(), HasSubstr("symbolic link"));
    }
    EXPECT_EQ(env_.runs(), 0);
    EXPECT_FALSE(path_exists(absent));
    EXPECT_EQ(test::read_text(present), "keep\n");
}

// A planted lock symlink is refused the same way (sys/file_lock).
TEST_F(ImageBuild, APlantedLockSymlinkIsNotFollowed) {
    ASSERT_TRUE(ensure_dir(env_.images()));
    const std::string target = env_.file("created-through-link");
    ImageCache cache(env_.images());
    ASSERT_EQ(::symlink(target.c_str(), cache.lock_path("debian-12").c_str()), 0);
    auto info = cache.ensure("debian-12", env_.options());
    ASSERT_FALSE(info);
    EXPECT_THAT(info.error().message(), HasSubstr("symbolic link"));
    EXPECT_FALSE(path_exists(target));
}

// Run through sudo, the CLI is the invoking user with saved uid 0; a build is its one scoped
// elevation: the build runs as root, its entry and log belong to the user afterwards, and the
// process is the user again. In a forked child (credentials are per process); its exit status
// is the number of the failed check.
TEST_F(ImageBuild, ADroppedProcessBuildsAsRootAndHandsTheEntryBack) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to act as sudo";
    constexpr uid_t kNobody = 65534;
    ASSERT_EQ(::chmod(env_.file("").c_str(), 0755), 0); // the scratch dir, for nobody
    ASSERT_TRUE(ensure_dir(env_.images(), 0700));
    ASSERT_EQ(::chown(env_.images().c_str(), kNobody, kNobody), 0);
    auto options = env_.options();
    options.require_root = true;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::alarm(120);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, 0) != 0 ||
            ::setresuid(kNobody, kNobody, 0) != 0)
            ::_exit(77);
        ImageCache cache(env_.images());
        auto info = cache.ensure("debian-12", options);
        if (!info)
            ::_exit(1);
        uid_t r = 0, e = 0, s = 1;
        ::getresuid(&r, &e, &s);
        if (r != kNobody || e != kNobody || s != 0)
            ::_exit(2); // back to the user
        struct stat st {};
        if (::stat(info->dir.c_str(), &st) != 0 || st.st_uid != kNobody)
            ::_exit(3);
        const auto names = list_dir(info->dir).value_or(std::vector<std::string>{});
        for (const auto& name : names)
            if (::stat((info->dir + "/" + name).c_str(), &st) != 0 || st.st_uid != kNobody)
                ::_exit(4);
        if (::stat(cache.log_path("debian-12").c_str(), &st) != 0 || st.st_uid != kNobody)
            ::_exit(5);
        // Root staged outside the store, and removed its staging directory before handing over.
        const std::string log = read_file(cache.log_path("debian-12")).value_or("");
        const std::string marker = "fleetbox: staging in ";
        const auto at = log.find(marker);
        if (at == std::string::npos)
            ::_exit(7);
        const std::string staged =
            log.substr(at + marker.size(), log.find('\n', at) - at - marker.size());
        if (staged.rfind(env_.images(), 0) == 0 || staged.rfind("/var/tmp/", 0) != 0 ||
            path_exists(staged))
            ::_exit(8);
        // The user can remove what the build left.
        ::_exit(cache.remove("debian-12") ? 0 : 6);
    }
    ASSERT_GT(pid, 0);
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77)
        GTEST_SKIP() << "cannot change credentials here";
    EXPECT_EQ(WEXITSTATUS(st), 0) << "failed check #" << WEXITSTATUS(st);
    EXPECT_EQ(env_.runs(), 1);
}

TEST_F(ImageBuild, RemoveDeletesTheEntryAndRefusesUnknownOnes) {
    ImageCache cache(env_.images());
    ASSERT_TRUE(cache.ensure("debian-12", env_.options()));
    ASSERT_TRUE(cache.list()->size() == 1);
    auto st = cache.remove("debian-12");
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_TRUE(env_.leftovers().empty());
    EXPECT_FALSE(path_exists(cache.log_path("debian-12")));
    EXPECT_TRUE(cache.list()->empty());

    st = cache.remove("debian-12");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(st.error().message(), "remove image debian-12: it is not cached");
    st = cache.remove("ubuntu-99");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::NotFound);
    st = cache.remove("../../etc");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::InvalidArgument);
}

TEST_F(ImageBuild, UnknownAliasFailsBeforeAnything) {
    ImageCache cache(env_.images());
    auto r = cache.ensure("debian-99", env_.options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(r.error().message(), HasSubstr("known images are debian-11, debian-12, debian-13"));
    EXPECT_EQ(env_.runs(), 0);
    EXPECT_TRUE(env_.leftovers().empty());
}

TEST_F(ImageBuild, OverlayOnTheBuiltImage) {
    ImageCache cache(env_.images());
    auto info = cache.ensure("debian-12", env_.options());
    ASSERT_TRUE(info);
    std::string out = env_.file("vm-disk.qcow2");
    ASSERT_TRUE(create_overlay(*info, out));
    auto q = nlohmann::json::parse(output_of({"qemu-img", "info", "--output=json", "-U", out}));
    EXPECT_EQ(q["virtual-size"].get<std::uint64_t>(), kDefaultDiskSize);
    EXPECT_EQ(q["backing-filename"], info->disk_path);
    auto small = create_overlay(*info, env_.file("small.qcow2"), info->manifest.virtual_size - 1);
    ASSERT_FALSE(small);
    EXPECT_THAT(small.error().message(), HasSubstr("is smaller than the image debian-12"));
    EXPECT_FALSE(path_exists(env_.file("small.qcow2")));
}

TEST_F(ImageBuild, PlainProgressNamesEveryPhase) {
    ImageCache cache(env_.images());
    auto options = env_.options();
    options.progress = ProgressMode::Plain;
    std::FILE* out = std::tmpfile();
    options.progress_out = out;
    ASSERT_TRUE(cache.ensure("debian-12", options));
    std::fflush(out);
    std::rewind(out);
    std::string text(4096, '\0');
    text.resize(std::fread(text.data(), 1, text.size(), out));
    std::fclose(out);
    for (const char* phase :
         {"bootstrap Debian packages (mmdebstrap bookworm)", "copy out kernel and initrd",
          "make ext4 root filesystem", "convert to qcow2", "write manifest"})
        EXPECT_THAT(text, HasSubstr(std::string("image debian-12: ") + phase + "... done ("))
            << text;
}

} // namespace
} // namespace fleetbox::image
