// The mmdebstrap recipe: the package set, variant, suite, target and mirrors in the argv,
// and hooks that carry every image trap fix (resolver, host keys, hostname, fstab, NoCloud,
// small virtio initrd). The hooks are executed for real in the component tests.
#include "image/recipe.hpp"

#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::image {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

const CatalogEntry& debian12() {
    return **find_alias("debian-12");
}

std::string arg_with_prefix(const std::vector<std::string>& argv, const std::string& prefix) {
    for (const auto& a : argv)
        if (a.rfind(prefix, 0) == 0)
            return a.substr(prefix.size());
    return {};
}

TEST(Recipe, ArgvCarriesModeVariantPackagesSuiteTargetAndMirrors) {
    std::vector<std::string> mirrors = {
        "deb http://m.example/debian bookworm main",
        "deb http://m.example/debian-security bookworm-security main"};
    auto argv = mmdebstrap_argv(debian12(), "/tmp/x/rootfs", mirrors);
    ASSERT_GE(argv.size(), 5u);
    EXPECT_EQ(argv[0], "mmdebstrap");
    EXPECT_THAT(argv, Contains("--mode=unshare"));
    EXPECT_THAT(argv, Contains("--variant=minbase"));
    EXPECT_THAT(argv, Contains("--format=directory"));
    std::string include = arg_with_prefix(argv, "--include=");
    std::vector<std::string> listed;
    for (size_t start = 0, comma;; start = comma + 1) {
        comma = include.find(',', start);
        listed.push_back(include.substr(start, comma - start));
        if (comma == std::string::npos)
            break;
    }
    EXPECT_EQ(listed, debian12().packages);
    // Positional tail: SUITE TARGET MIRROR...
    size_t n = argv.size();
    EXPECT_EQ(argv[n - 4], "bookworm");
    EXPECT_EQ(argv[n - 3], "/tmp/x/rootfs");
    EXPECT_EQ(argv[n - 2], mirrors[0]);
    EXPECT_EQ(argv[n - 1], mirrors[1]);
    EXPECT_FALSE(arg_with_prefix(argv, "--setup-hook=").empty());
    EXPECT_FALSE(arg_with_prefix(argv, "--customize-hook=").empty());
}

TEST(Recipe, EveryArgumentIsOneLine) {
    // `fleetbox image recipe` prints one argument per line and the bench reads them back.
    for (const auto& a : mmdebstrap_argv(debian12(), "T", {"deb http://m/debian bookworm main"}))
        EXPECT_EQ(a.find('\n'), std::string::npos) << a;
}

TEST(Recipe, SetupHookConfiguresASmallVirtioInitrd) {
    std::string hook = setup_hook(debian12());
    EXPECT_THAT(hook, HasSubstr("MODULES=list"));
    EXPECT_THAT(hook, HasSubstr("etc/initramfs-tools/conf.d/"));
    EXPECT_THAT(hook, HasSubstr("force_load"));
    for (const auto& m : debian12().initrd_modules)
        EXPECT_THAT(hook, HasSubstr(m));
    // Never the conffiles themselves (dpkg would see them as locally modified).
    EXPECT_THAT(hook, Not(HasSubstr("etc/initramfs-tools/initramfs.conf")));
    EXPECT_THAT(hook, Not(HasSubstr("etc/initramfs-tools/modules\"")));
}

TEST(Recipe, CustomizeHookFixesTheImageTraps) {
    std::string hook = customize_hook(debian12());
    EXPECT_THAT(
        hook,
        HasSubstr("rm -f \"$1/etc/resolv.conf\" \"$1/etc/hostname\" \"$1\"/etc/ssh/ssh_host_*"));
    EXPECT_THAT(hook, HasSubstr("myhostname"));
    EXPECT_THAT(hook, HasSubstr("/dev/vda\\t/\\text4"));
    EXPECT_THAT(hook, HasSubstr("datasource_list: [ NoCloud, None ]"));
    EXPECT_THAT(hook, HasSubstr("apt-daily.timer"));
    EXPECT_THAT(hook, HasSubstr("/var/lib/apt/lists/*"));
}

TEST(Recipe, HooksInstallConsoleBootMarkers) {
    std::string setup = setup_hook(debian12());
    std::string customize = customize_hook(debian12());
    EXPECT_THAT(setup, HasSubstr("scripts/init-top/fleetbox-marker"));
    EXPECT_THAT(setup, HasSubstr(kMarkerInitramfs));
    EXPECT_THAT(setup, HasSubstr("read -r up _ < /proc/uptime")); // klibc has no cut
    EXPECT_THAT(customize, HasSubstr(kMarkerSystemd));
    EXPECT_THAT(customize, HasSubstr(kMarkerSshd));
    EXPECT_THAT(customize, HasSubstr("$$(cut")); // systemd needs $$ for a literal $
    EXPECT_THAT(customize, HasSubstr("sysinit.target.wants/fleetbox-marker.service"));
}

TEST(Recipe, HookTextIsShellSafe) {
    // A quote in a catalog value must not break out of the printf format.
    CatalogEntry e = debian12();
    e.root_device = "/dev/it's";
    std::string hook = customize_hook(e);
    EXPECT_THAT(hook, HasSubstr("/dev/it'\\''s"));
}

// The fingerprint names the recipe: stable for one entry, different when the package set
// or a hook changes, and independent of where the tree is built or which mirror is used.
TEST(Recipe, FingerprintFollowsTheRecipeOnly) {
    const CatalogEntry& entry = *find_alias("debian-12").value();
    std::string fp = recipe_fingerprint(entry);
    EXPECT_EQ(fp.size(), 64u);
    EXPECT_EQ(fp, recipe_fingerprint(entry));
    CatalogEntry more = entry;
    more.packages.push_back("strace");
    EXPECT_NE(recipe_fingerprint(more), fp);
    CatalogEntry masked = entry;
    masked.masked_units.push_back("foo.service");
    EXPECT_NE(recipe_fingerprint(masked), fp);
    CatalogEntry merged = entry;
    merged.merged_usr_symlinks = true;
    EXPECT_NE(recipe_fingerprint(merged), fp);
}

// bullseye's /usr is merged the way debian-installer's debootstrap did it: the symlinks exist
// before the first package is unpacked (first thing in the setup hook); other suites' hooks
// do not touch /bin.
TEST(Recipe, MergedUsrSymlinksComeFirstWhenTheSuiteNeedsThem) {
    std::string hook11 = setup_hook(*find_alias("debian-11").value());
    auto links = hook11.find("ln -s \"usr/$d\" \"$1/$d\"");
    ASSERT_NE(links, std::string::npos) << hook11;
    EXPECT_THAT(hook11, HasSubstr("for d in bin sbin lib lib64;"));
    EXPECT_LT(links, hook11.find("initramfs-tools"));
    for (const char* alias : {"debian-12", "debian-13"})
        EXPECT_THAT(setup_hook(*find_alias(alias).value()), Not(HasSubstr("usr/$d"))) << alias;
}

// debian-13's initrd leaves out what its udev hook copies in but a virtio VM does not need
// (hwdb.bin): a second hook, ordered after udev's; other images have no such hook.
TEST(Recipe, InitrdExcludeIsAHookAfterUdevs) {
    std::string hook13 = setup_hook(*find_alias("debian-13").value());
    EXPECT_THAT(hook13, HasSubstr("etc/initramfs-tools/hooks/fleetbox-exclude"));
    EXPECT_THAT(hook13, HasSubstr("PREREQ=\"udev\""));
    EXPECT_THAT(hook13, HasSubstr("rm -f \"${DESTDIR}/usr/lib/udev/hwdb.bin\""));
    for (const char* alias : {"debian-11", "debian-12"})
        EXPECT_THAT(setup_hook(*find_alias(alias).value()), Not(HasSubstr("fleetbox-exclude")))
            << alias;
}

} // namespace
} // namespace fleetbox::image
