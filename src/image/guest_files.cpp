// The guest side of the fast path (see guest_files.hpp). The script is POSIX sh for dash:
// builtins where a fork would cost tens of milliseconds under TCG (read, printf, case),
// `set -f` before splitting the kernel command line, and a failure line on the console for
// every way it can fail. systemd unit files expand `$`, so none appears in the unit.
#include "image/guest_files.hpp"

#include "util/console_markers.hpp"

namespace fleetbox::image {

std::string fast_path_cmdline(const std::string& seed_device) {
    return "fleetbox.seed=" + seed_device +
           " cloud-init=disabled net.ifnames=0"
           " systemd.mask=networking.service systemd.mask=ifupdown-pre.service";
}

std::string nocloud_cmdline() {
    return "systemd.mask=cloud-config.service systemd.mask=cloud-final.service";
}

std::string seed_script() {
    return std::string(R"SH(#!/bin/sh
# fleetbox-seed: apply this VM's identity from its fleetbox seed disk (the fast path).
# The seed is data the host wrote: it is unpacked with tar and read with `read`, never run.
set -u
say() { echo "$*" > /dev/console; }
die() { say ")SH") +
           kMarkerSeedFailed + R"SH( $*"; exit 1; }
now_up() { read -r up _ < /proc/uptime; }

# The value of KEY=VALUE on the kernel command line (split without globbing).
read -r cmdline < /proc/cmdline
cmdline_value() {
    value=''
    set -f
    for word in $cmdline; do
        case $word in "$1"=*) value=${word#"$1"=} ;; esac
    done
    set +f
}
cmdline_value fleetbox.seed
dev=$value
[ -n "$dev" ] || die "no fleetbox.seed= on the kernel command line"
tries=0
while [ ! -b "$dev" ]; do
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || die "no seed disk at $dev"
    sleep 0.1
done

seed=/run/fleetbox/seed
trap 'rm -rf "$seed"' EXIT # the unpacked copy holds the private host key: never leave it
umask 077
rm -rf "$seed"
mkdir -p "$seed" || die "cannot create $seed"
tar -x -o -f "$dev" -C "$seed" 2>/dev/null || die "cannot unpack the seed on $dev"
format=
read -r format < "$seed/format" 2>/dev/null
[ "$format" = "fleetbox-seed 1" ] || die "unsupported seed format \"$format\" on $dev (rebuild the image)"
umask 022

# Every boot: the name, /etc/hosts and the address.
read -r name < "$seed/hostname" || die "no hostname in the seed"
printf '%s\n' "$name" > /etc/hostname && printf '%s' "$name" > /proc/sys/kernel/hostname ||
    die "cannot set the hostname"
cp "$seed/hosts" /etc/hosts || die "cannot write /etc/hosts"

mac='' address='' gateway='' dns=''
while IFS='=' read -r key value; do
    case $key in
    mac) mac=$value ;;
    address) address=$value ;;
    gateway) gateway=$value ;;
    dns) dns="$dns $value" ;;
    esac
done < "$seed/network"
[ -n "$mac" ] && [ -n "$address" ] || die "incomplete network section in the seed"
ifname=
for dir in /sys/class/net/*; do
    read -r found < "$dir/address" 2>/dev/null || continue
    [ "$found" = "$mac" ] && ifname=${dir##*/}
done
[ -n "$ifname" ] || die "no network interface with MAC $mac"
{
    echo "link set dev $ifname up"
    echo "address replace $address dev $ifname"
    [ -z "$gateway" ] || echo "route replace default via $gateway dev $ifname"
} | ip -batch - || die "cannot configure $address on $ifname"
if [ -n "$dns" ]; then
    for server in $dns; do echo "nameserver $server"; done > /etc/resolv.conf
fi

# Once per disk: the pinned host key and the login key (fleetbox-growfs grows the root
# filesystem meanwhile, in parallel).
if [ ! -e /var/lib/fleetbox/seeded ]; then
    install -m 0600 "$seed/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key &&
        install -m 0644 "$seed/ssh_host_ed25519_key.pub" /etc/ssh/ssh_host_ed25519_key.pub ||
        die "cannot install the host key"
    install -d -m 0700 -o fleetbox -g fleetbox /home/fleetbox/.ssh &&
        install -m 0600 -o fleetbox -g fleetbox "$seed/authorized_keys" /home/fleetbox/.ssh/authorized_keys ||
        die "cannot install the login key"
    mkdir -p /var/lib/fleetbox && : > /var/lib/fleetbox/seeded
fi

if [ -s "$seed/mounts" ]; then
    while read -r source target; do
        mkdir -p "$target" && mount -o ro "$source" "$target" || say "fleetbox: warning: cannot mount $source on $target"
    done < "$seed/mounts"
fi

now_up
say ")SH" + kMarkerSeed +
           R"SH( uptime=$up"
)SH";
}

std::string growfs_script() {
    return R"SH(#!/bin/sh
# fleetbox-growfs: grow the root filesystem (a whole-disk ext4) to the disk, once per disk.
set -u
read -r cmdline < /proc/cmdline
root=''
set -f
for word in $cmdline; do
    case $word in root=/dev/*) root=${word#root=} ;; esac
done
set +f
if [ -b "$root" ] && resize2fs "$root" > /dev/null 2>&1; then
    mkdir -p /var/lib/fleetbox && : > /var/lib/fleetbox/grown
else
    echo "fleetbox: warning: could not grow the root filesystem ($root)" > /dev/console
fi
)SH";
}

std::string growfs_unit() {
    return "[Unit]\n"
           "Description=fleetbox: grow the root filesystem to the disk\n"
           "DefaultDependencies=no\n"
           "ConditionKernelCommandLine=fleetbox.seed\n"
           "ConditionPathExists=!/var/lib/fleetbox/grown\n"
           "After=systemd-remount-fs.service\n"
           "Before=ssh.service systemd-user-sessions.service\n\n"
           "[Service]\n"
           "Type=oneshot\n"
           "RemainAfterExit=yes\n"
           "ExecStart=/" +
           std::string(kGrowfsScriptPath) +
           "\n\n"
           "[Install]\n"
           "WantedBy=sysinit.target\n";
}

std::string sshd_unit_dropin() {
    return "# fleetbox: no `sshd -t` before every start (a second sshd start-up on the boot path)\n"
           "[Service]\n"
           "ExecStartPre=\n";
}

std::string seed_unit() {
    return "[Unit]\n"
           "Description=fleetbox: apply this VM's identity from its seed disk\n"
           "DefaultDependencies=no\n"
           "ConditionKernelCommandLine=fleetbox.seed\n"
           "After=systemd-remount-fs.service\n"
           "Before=sysinit.target network-pre.target ssh.service systemd-user-sessions.service\n"
           "Wants=network-pre.target\n\n"
           "[Service]\n"
           "Type=oneshot\n"
           "RemainAfterExit=yes\n"
           "ExecStart=/" +
           std::string(kSeedScriptPath) +
           "\n\n"
           "[Install]\n"
           "WantedBy=sysinit.target\n";
}

std::string sudoers_file() {
    return std::string(kGuestUser) + " ALL=(ALL) NOPASSWD:ALL\n";
}

std::string sshd_config_dropin() {
    return "# fleetbox: each VM has one host key, generated on the host and pinned there\n"
           "HostKey /etc/ssh/ssh_host_ed25519_key\n";
}

std::string preset_file() {
    return "# fleetbox: no networkd (cloud-init's path uses ifupdown, the fast path configures\n"
           "# its one static address itself), also when a first boot applies presets\n"
           "disable systemd-networkd.service\n"
           "disable systemd-networkd.socket\n"
           "disable systemd-network-generator.service\n"
           "disable systemd-networkd-wait-online.service\n";
}

} // namespace fleetbox::image
