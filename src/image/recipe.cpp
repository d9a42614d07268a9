// Builds the mmdebstrap argv and its hook snippets (see recipe.hpp for what and why).
//
// mmdebstrap runs a hook argument that is not an executable file as `sh -c HOOK exec ROOT`,
// so "$1" is the chroot directory. Hooks are kept on one line so `fleetbox image recipe`
// can print one argument per line and the bench can read it back with `mapfile`.
#include "image/recipe.hpp"

#include "image/guest_files.hpp"
#include "sys/sha256.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>

namespace fleetbox::image {

namespace {

// printf-escape a text for use inside a single-quoted printf format.
std::string printf_text(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\\')
            out += "\\\\";
        else if (c == '%')
            out += "%%";
        else if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out;
}

// A shell command writing `text` to "$1/<path>".
std::string write_file_cmd(const std::string& path, std::string_view text) {
    return fmt::format("printf '{}' > \"$1/{}\"", printf_text(text), path);
}

std::string initramfs_hook_script(const CatalogEntry& entry) {
    return "#!/bin/sh\n"
           "# fleetbox: force the virtio drivers into the small (MODULES=list) initrd\n"
           "PREREQ=\"\"\n"
           "case \"$1\" in prereqs) echo \"$PREREQ\"; exit 0;; esac\n"
           ". /usr/share/initramfs-tools/hook-functions\n"
           "for m in " +
           join(entry.initrd_modules, " ") + "; do force_load \"$m\"; done\n";
}

// Removes the entry's initrd_exclude paths from the initramfs being built; PREREQ makes
// initramfs-tools run it after the udev hook that copies them in.
std::string initramfs_exclude_script(const CatalogEntry& entry) {
    std::string script = "#!/bin/sh\n"
                         "# fleetbox: leave out what a virtio VM does not need to find its root\n"
                         "PREREQ=\"udev\"\n"
                         "case \"$1\" in prereqs) echo \"$PREREQ\"; exit 0;; esac\n";
    for (const auto& path : entry.initrd_exclude)
        script += "rm -f \"${DESTDIR}/" + path + "\"\n";
    return script;
}

// Boot-progress markers on the serial console, printed even with `quiet` (userspace writes to
// /dev/console are not filtered by the kernel log level). The initramfs one is the early
// "kernel is alive and reached userspace" signal a boot watchdog can key on, on microvm and
// q35 alike; klibc's initramfs has no `cut`, hence `read`.
// An initramfs-tools script printing `marker` (init-top: the initramfs runs; init-bottom:
// it hands over to systemd).
std::string initramfs_marker_script(const char* marker) {
    return "#!/bin/sh\n"
           "case \"$1\" in prereqs) exit 0;; esac\n"
           "read -r up _ < /proc/uptime\n"
           "echo \"" +
           std::string(marker) + " uptime=$up\" > /dev/console\n";
}

// systemd unit files expand `$`, so the shell's `$(...)` is written `$$(...)`.
std::string systemd_marker_unit() {
    return "[Unit]\n"
           "Description=fleetbox boot marker on the console\n"
           "DefaultDependencies=no\n"
           "After=systemd-remount-fs.service\n"
           "Before=sysinit.target\n\n"
           "[Service]\n"
           "Type=oneshot\n"
           "ExecStart=/bin/sh -c 'echo \"" +
           std::string(kMarkerSystemd) +
           " uptime=$$(cut -d\" \" -f1 /proc/uptime)\" > /dev/console'\n\n"
           "[Install]\n"
           "WantedBy=sysinit.target\n";
}

std::string sshd_marker_dropin() {
    return "[Service]\n"
           "ExecStartPost=-/bin/sh -c 'echo \"" +
           std::string(kMarkerSshd) +
           " uptime=$$(cut -d\" \" -f1 /proc/uptime)\" > /dev/console'\n";
}

// The guest side of the fast path (guest_files.hpp) and what both paths share: the user,
// its sudo rule, sshd's one host key, a machine-id made at each VM's first boot.
// An executable script at `path` (relative to the root), and a unit enabled in sysinit.target.
void add_script(std::vector<std::string>& cmds, const std::string& path, const std::string& text) {
    cmds.push_back(write_file_cmd(path, text));
    cmds.push_back("chmod 0755 \"$1/" + path + "\"");
}
void add_sysinit_unit(std::vector<std::string>& cmds, const std::string& name,
                      const std::string& text) {
    cmds.push_back(write_file_cmd("etc/systemd/system/" + name, text));
    cmds.push_back("ln -sf ../" + name + " \"$1/etc/systemd/system/sysinit.target.wants/" + name +
                   "\"");
}

void append_fast_path(std::vector<std::string>& cmds) {
    cmds.push_back(
        "mkdir -p \"$1/usr/lib/fleetbox\" \"$1/etc/ssh/sshd_config.d\" \"$1/etc/sudoers.d\" "
        "\"$1/etc/systemd/system-preset\"");
    add_script(cmds, kSeedScriptPath, seed_script());
    add_sysinit_unit(cmds, kSeedUnitName, seed_unit());
    add_script(cmds, kGrowfsScriptPath, growfs_script());
    add_sysinit_unit(cmds, kGrowfsUnitName, growfs_unit());
    cmds.push_back(write_file_cmd("etc/systemd/system/ssh.service.d/fleetbox-no-config-test.conf",
                                  sshd_unit_dropin()));
    cmds.push_back(
        std::string(
            "chroot \"$1\" useradd --create-home --shell /bin/bash --user-group --uid 1000 ") +
        kGuestUser);
    cmds.push_back(write_file_cmd("etc/sudoers.d/90-fleetbox", sudoers_file()));
    cmds.push_back("chmod 0440 \"$1/etc/sudoers.d/90-fleetbox\"");
    cmds.push_back(write_file_cmd("etc/ssh/sshd_config.d/fleetbox.conf", sshd_config_dropin()));
    cmds.push_back(write_file_cmd("etc/systemd/system-preset/10-fleetbox.preset", preset_file()));
    // Empty: systemd generates a machine-id at each VM's first boot (unique per VM).
    cmds.push_back(": > \"$1/etc/machine-id\"; if [ -d \"$1/var/lib/dbus\" ]; then "
                   "ln -sf /etc/machine-id \"$1/var/lib/dbus/machine-id\"; fi");
}

constexpr const char* kUnsafeIoConf = "etc/dpkg/dpkg.cfg.d/fleetbox-build-unsafe-io";

} // namespace

std::string setup_hook(const CatalogEntry& entry) {
    std::vector<std::string> cmds = {"set -e"};
    if (entry.merged_usr_symlinks) // debootstrap's merged /usr, before anything is unpacked
        cmds.push_back("for d in bin sbin lib lib64; do mkdir -p \"$1/usr/$d\"; "
                       "ln -s \"usr/$d\" \"$1/$d\"; done");
    cmds.insert(cmds.end(),
                {
                    "mkdir -p \"$1/etc/initramfs-tools/conf.d\" \"$1/etc/initramfs-tools/hooks\"",
                    write_file_cmd("etc/initramfs-tools/conf.d/fleetbox.conf",
                                   "# fleetbox: a small initrd with only the listed modules\n"
                                   "MODULES=list\nCOMPRESS=zstd\nRESUME=none\n"),
                    write_file_cmd("etc/initramfs-tools/hooks/fleetbox-virtio",
                                   initramfs_hook_script(entry)),
                    "chmod 0755 \"$1/etc/initramfs-tools/hooks/fleetbox-virtio\"",
                    // dpkg fsyncs every unpacked file; a half-built image is thrown away anyway, so
                    // the build runs with force-unsafe-io (removed again by the customize hook).
                    "mkdir -p \"$1/etc/dpkg/dpkg.cfg.d\"",
                    write_file_cmd(kUnsafeIoConf, "force-unsafe-io\n"),
                    "mkdir -p \"$1/etc/initramfs-tools/scripts/init-top\"",
                    write_file_cmd("etc/initramfs-tools/scripts/init-top/fleetbox-marker",
                                   initramfs_marker_script(kMarkerInitramfs)),
                    "chmod 0755 \"$1/etc/initramfs-tools/scripts/init-top/fleetbox-marker\"",
                    "mkdir -p \"$1/etc/initramfs-tools/scripts/init-bottom\"",
                    write_file_cmd("etc/initramfs-tools/scripts/init-bottom/fleetbox-marker",
                                   initramfs_marker_script(kMarkerSwitchRoot)),
                    "chmod 0755 \"$1/etc/initramfs-tools/scripts/init-bottom/fleetbox-marker\"",
                });
    if (!entry.initrd_exclude.empty()) {
        cmds.push_back(write_file_cmd("etc/initramfs-tools/hooks/fleetbox-exclude",
                                      initramfs_exclude_script(entry)));
        cmds.push_back("chmod 0755 \"$1/etc/initramfs-tools/hooks/fleetbox-exclude\"");
    }
    return join(cmds, "; ");
}

std::string customize_hook(const CatalogEntry& entry) {
    std::vector<std::string> cmds = {
        "set -e",
        std::string("rm -f \"$1/") + kUnsafeIoConf + "\"",
        // No leaked host resolver, no shared host keys, no baked-in hostname.
        "rm -f \"$1/etc/resolv.conf\" \"$1/etc/hostname\" \"$1\"/etc/ssh/ssh_host_*",
        write_file_cmd("etc/resolv.conf",
                       "# fleetbox image: no resolver configured at build time\n"),
        write_file_cmd("etc/hosts",
                       "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n"),
        // The hostname always resolves locally (nss-myhostname), even before cloud-init runs.
        "grep -q '^hosts:.*myhostname' \"$1/etc/nsswitch.conf\" || "
        "sed -i 's/^hosts:.*/hosts:          files myhostname dns/' \"$1/etc/nsswitch.conf\"",
        write_file_cmd("etc/fstab",
                       fmt::format("# fleetbox: whole-disk ext4 root, no partition table\n"
                                   "{}\t/\text4\trw,relatime,errors=remount-ro\t0\t0\n",
                                   entry.root_device)),
        write_file_cmd(
            "etc/cloud/cloud.cfg.d/90-fleetbox.cfg",
            "# fleetbox: the seed is always a NoCloud disk\ndatasource_list: [ NoCloud, None ]\n"),
    };
    cmds.push_back("mkdir -p \"$1/etc/systemd/system/sysinit.target.wants\" "
                   "\"$1/etc/systemd/system/ssh.service.d\"");
    cmds.push_back(
        write_file_cmd("etc/systemd/system/fleetbox-marker.service", systemd_marker_unit()));
    cmds.push_back("ln -sf ../fleetbox-marker.service "
                   "\"$1/etc/systemd/system/sysinit.target.wants/fleetbox-marker.service\"");
    cmds.push_back(write_file_cmd("etc/systemd/system/ssh.service.d/fleetbox-marker.conf",
                                  sshd_marker_dropin()));
    append_fast_path(cmds);
    if (!entry.masked_units.empty())
        cmds.push_back("for u in " + join(entry.masked_units, " ") +
                       "; do ln -sf /dev/null \"$1/etc/systemd/system/$u\"; done");
    cmds.push_back("rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*.bin "
                   "\"$1\"/var/cache/apt/archives/*.deb \"$1\"/var/cache/debconf/*-old "
                   "\"$1\"/var/lib/dpkg/*-old \"$1\"/var/log/apt/* \"$1\"/var/log/*.log");
    return join(cmds, "; ");
}

std::vector<std::string> mmdebstrap_argv(const CatalogEntry& entry, const std::string& target_dir,
                                         const std::vector<std::string>& mirrors) {
    std::vector<std::string> argv = {
        "mmdebstrap",
        std::string("--mode=") + kMmdebstrapMode,
        "--variant=" + entry.variant,
        "--format=directory",
        "--include=" + join(entry.packages, ","),
        // No documentation in a test VM: less to unpack, a smaller image.
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/info/*",
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        "--dpkgopt=path-include=/usr/share/locale/locale.alias",
        "--setup-hook=" + setup_hook(entry),
        "--customize-hook=" + customize_hook(entry),
        entry.suite,
        target_dir,
    };
    argv.insert(argv.end(), mirrors.begin(), mirrors.end());
    return argv;
}

std::string recipe_fingerprint(const CatalogEntry& entry) {
    return sha256_hex(join(mmdebstrap_argv(entry, "TARGET", {}), std::string(1, '\0')));
}

Result<MirrorSet> mirrors_for(const CatalogEntry& entry, const std::string& apt_dir) {
    return discover_mirrors(entry.suite, entry.components, apt_dir);
}

} // namespace fleetbox::image
