#!/usr/bin/env bash
# make-cloud-like-image.sh: builds, from Debian 12 packages, a raw disk image laid out like a
# stock Debian cloud image, for the end-to-end tests of booting stock images (issue 11).
#
# Why a built image and not a downloaded one: the tests must never contact anything outside
# the loopback interface, and must not depend on a 400 MB download. What makes it "stock":
#  - GPT: root ext4 on partition 1 (label "root", a random UUID per build), a BIOS boot
#    partition 14 (grub's core.img lives there) and, like Debian's images, partition 1 after
#    them on the disk;
#  - /boot holds the vmlinuz/initrd.img of linux-image-cloud-amd64, built by initramfs-tools
#    with its defaults (MODULES=most: nothing fleetbox-specific, no virtio_mmio forcing);
#  - cloud-init with its normal datasource list (NoCloud among them), openssh-server, sudo,
#    ifupdown (what cloud-init 22.4 renders a NoCloud network-config v2 to on bookworm);
#  - grub-pc installed as a package, /etc/default/grub with a serial console, a grub.cfg, and
#    grub's boot code in the MBR and partition 14: SeaBIOS boots it (firmware boot);
#  - /etc/fstab by UUID; no fleetbox user, unit, hook or console marker of any kind: cloud-init
#    creates the user, installs the keys and host keys and configures the network from the
#    NoCloud seed, exactly as on a downloaded image.
# Nothing is mounted and no loop device is used: mmdebstrap --mode=unshare builds the tree,
# `mkfs.ext4 -d` turns it into a filesystem in a plain file, sfdisk writes the GPT onto the
# raw file and dd places the filesystem at partition 1's offset, and grub's boot code is
# written the way grub-bios-setup would (which needs a mounted /boot). Runs as root
# (mmdebstrap --mode=unshare keeps file ownership only for root; grub-mkimage runs chrooted
# in the tree, the image's own grub: the host needs none).
#
# Usage: make-cloud-like-image.sh [options] OUT.raw
#   --no-cloud-init   the same image with cloud-init purged (the "image without cloud-init"
#                     fault: the guest never configures its network, SSH never comes up)
#   --extract DIR     also write DIR/vmlinuz, DIR/initrd.img and DIR/root (the root= value,
#                     "UUID=<fs uuid>"): what the disk inspection would find, for tests that
#                     boot the image directly
#   --cache DIR       reuse DIR/<key>/ when this script already built both variants there
#                     (key: sha256 of this script, --size and --mirror); OUT is a copy
#                     (reflink when possible). One build serves both variants: the e2e tier
#                     builds once per CI run (and per change of this script). The cache
#                     holds one entry: a new build replaces the old one; concurrent callers
#                     take turns (flock on DIR/.lock).
#   --mirror URL      the Debian mirror mmdebstrap uses (default: its own default)
#   --size SIZE       virtual disk size (default 2G, like Debian's generic cloud image)
# Prints the seconds each step took on stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
cloud_init=1
extract=
cache=
mirror=
size=2G
out=
die() { echo "make-cloud-like-image.sh: $*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --no-cloud-init) cloud_init=0 ;;
        --extract) extract=${2:?}; shift ;;
        --cache) cache=${2:?}; shift ;;
        --mirror) mirror=${2:?}; shift ;;
        --size) size=${2:?}; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$self" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) [[ -z $out ]] || die "one output file only"; out=$1 ;;
    esac
    shift
done
[[ -n $out ]] || die "usage: make-cloud-like-image.sh [--no-cloud-init] [--extract DIR] [--cache DIR] [--mirror URL] [--size SIZE] OUT.raw"
[[ $(id -u) == 0 ]] || die "run as root (mmdebstrap --mode=unshare keeps file ownership only for root)"
for tool in mmdebstrap mkfs.ext4 sfdisk dd sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

t0=$(date +%s%N)
step() { # step NAME: NAME and the seconds since the start, on stderr
    local ms=$((($(date +%s%N) - t0) / 1000000))
    printf 'make-cloud-like-image: %-14s %4d.%01d s\n' "$1" $((ms / 1000)) $((ms % 1000 / 100)) >&2
}

variant=$([[ $cloud_init == 1 ]] && echo cloud-init || echo no-cloud-init)

# Copies the built variant (a directory holding disk.raw, vmlinuz, initrd.img and root) to
# where the caller wants it.
publish() {
    local from=$1/$variant
    cp --reflink=auto --sparse=always "$from/disk.raw" "$out.tmp" && mv -f "$out.tmp" "$out"
    if [[ -n $extract ]]; then
        mkdir -p "$extract"
        cp "$from/vmlinuz" "$from/initrd.img" "$from/root" "$extract/"
    fi
}

key=$( { sha256sum < "$self"; echo "$size $mirror"; } | sha256sum | cut -c1-16)
if [[ -n $cache ]]; then
    # One build at a time per cache: a second caller waits, then finds the first's result.
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
fi
if [[ -n $cache && -f $cache/$key/done ]]; then
    publish "$cache/$key"
    step cached
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/fbx-cloudlike.XXXXXX")
# The tree has no mounts left (unshare mode), so a plain rm is safe.
trap 'rm -rf "$work"' EXIT
tree=$work/tree
uuid=$(cat /proc/sys/kernel/random/uuid)

# What a stock image's build leaves in /etc (Debian's cloud images carry the same kinds of
# settings): a serial console for grub and the kernel, the root by UUID, no build-host
# resolver, no build-time host keys, no machine-id.
# shellcheck disable=SC2016 # "$1" is the hook's argument (the tree), expanded by mmdebstrap
customize=(
    'set -e'
    "printf 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=0\nGRUB_DISTRIBUTOR=Debian\nGRUB_CMDLINE_LINUX_DEFAULT=\"\"\nGRUB_CMDLINE_LINUX=\"console=tty0 console=ttyS0,115200 earlyprintk=ttyS0,115200 consoleblank=0\"\nGRUB_TERMINAL=\"console serial\"\nGRUB_SERIAL_COMMAND=\"serial --speed=115200\"\n' > \"\$1/etc/default/grub\""
    "printf 'UUID=$uuid / ext4 rw,discard,errors=remount-ro 0 1\n' > \"\$1/etc/fstab\""
    'rm -f "$1/etc/resolv.conf" "$1/etc/hostname" "$1"/etc/ssh/ssh_host_*'
    ': > "$1/etc/machine-id"'
    "printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > \"\$1/etc/hosts\""
    'rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb "$1"/var/log/apt/*'
)
packages=(
    systemd-sysv udev dbus linux-image-cloud-amd64 initramfs-tools zstd
    cloud-init openssh-server sudo ifupdown isc-dhcp-client iproute2 netbase
    ca-certificates e2fsprogs grub-pc procps less
)
args=(
    --mode=unshare --variant=minbase --format=directory
    "--include=$(IFS=,; echo "${packages[*]}")"
    --dpkgopt=path-exclude=/usr/share/man/* --dpkgopt=path-exclude=/usr/share/info/*
    --dpkgopt=path-exclude=/usr/share/doc/* --dpkgopt=path-include=/usr/share/doc/*/copyright
    --dpkgopt=path-exclude=/usr/share/locale/* --dpkgopt=path-include=/usr/share/locale/locale.alias
    # grub-pc's postinst must not try to install onto a device of the build host.
    "--essential-hook=echo 'grub-pc grub-pc/install_devices_empty boolean true' | chroot \"\$1\" debconf-set-selections; echo 'grub-pc grub-pc/install_devices multiselect' | chroot \"\$1\" debconf-set-selections"
    "--customize-hook=$(IFS=';'; echo "${customize[*]}")"
    bookworm "$tree"
)
[[ -z $mirror ]] || args+=("$mirror")
mmdebstrap --quiet "${args[@]}" >&2
step mmdebstrap

# The kernel, as its package installed it: /boot/vmlinuz-<version>, with the /vmlinuz and
# /initrd.img links at the top level (Debian's default).
version=$(for k in "$tree"/boot/vmlinuz-*; do echo "${k##*/vmlinuz-}"; done | sort -V | tail -n1)
[[ -n $version && -f $tree/boot/initrd.img-$version ]] || die "no kernel and initrd in $tree/boot"

# grub as grub-install + update-grub leave it (neither can run on a tree): the modules in
# /boot/grub/i386-pc and a grub.cfg that finds the root by UUID.
mkdir -p "$tree/boot/grub/i386-pc"
cp "$tree"/usr/lib/grub/i386-pc/*.mod "$tree"/usr/lib/grub/i386-pc/*.lst "$tree/boot/grub/i386-pc/"
cat > "$tree/boot/grub/grub.cfg" <<GRUBCFG
set default=0
set timeout=0
serial --speed=115200
terminal_input console serial
terminal_output console serial
insmod part_gpt
insmod ext2
search --no-floppy --fs-uuid --set=root $uuid
menuentry 'Debian GNU/Linux, with Linux $version' {
	linux /boot/vmlinuz-$version root=UUID=$uuid ro console=tty0 console=ttyS0,115200 earlyprintk=ttyS0,115200 consoleblank=0
	initrd /boot/initrd.img-$version
}
GRUBCFG
# core.img with the image's own grub (the host has none); prefix: partition 1's /boot/grub.
chroot "$tree" grub-mkimage -O i386-pc -o /boot/grub/i386-pc/core.img \
    -p "(hd0,gpt1)/boot/grub" biosdisk part_gpt ext2 search_fs_uuid serial normal linux
cp "$tree/usr/lib/grub/i386-pc/boot.img" "$tree/boot/grub/i386-pc/"
step grub-files

# le VALUE BYTES: VALUE as BYTES little-endian bytes (on stdout).
le() {
    local v=$1 n=$2 out='' i
    for ((i = 0; i < n; i++)); do out+=$(printf '\\x%02x' $((v & 255))); v=$((v >> 8)); done
    printf '%b' "$out"
}
# put FILE OFFSET: stdin's bytes into FILE at OFFSET.
put() { dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# make_disk DIR: DIR/disk.raw from the tree as it is now, with DIR/vmlinuz, DIR/initrd.img
# and DIR/root (the root= value) beside it.
make_disk() {
    local dir=$1 disk=$1/disk.raw root_start root_sectors
    mkdir -p "$dir"
    # Layout (sectors of 512 bytes), like Debian's genericcloud images: the BIOS boot partition
    # 14 at 1 MiB (3 MiB), the root partition 1 from 4 MiB to the end of the disk. The partition
    # names in the script only carry the numbers (sfdisk takes them from the trailing digits).
    truncate -s "$size" "$disk"
    sfdisk --quiet "$disk" <<SFDISK
label: gpt
first-lba: 2048
disk1 : start=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
disk14 : start=2048, size=6144, type=21686148-6453-6F6E-744E-656564454649, name="bios"
SFDISK
    read -r root_start root_sectors < <(sfdisk --dump "$disk" | awk -F'[=,]' '$1 ~ /disk.raw1 *: start/ {gsub(/ /,""); print $2, $4}')
    [[ -n $root_start && -n $root_sectors ]] || die "cannot read partition 1 back from $disk"
    step gpt

    # The root filesystem, the size of partition 1; -T default -b 4096 as the image builder (a
    # small profile would pick 1 KiB blocks).
    mkfs.ext4 -q -F -L root -U "$uuid" -T default -b 4096 -m 1 -d "$tree" "$work/root.ext4" "$((root_sectors / 2))k"
    dd if="$work/root.ext4" of="$disk" bs=1M seek="$((root_start * 512))" oflag=seek_bytes conv=notrunc,sparse status=none
    rm -f "$work/root.ext4"
    step mkfs

    # What grub-bios-setup does for a GPT disk with a BIOS boot partition (it cannot run on a
    # plain file whose /boot is not mounted: it looks for the device holding its directory):
    #  - core.img into partition 14; the blocklist at the end of its first sector (diskboot)
    #    names the rest: start = its sector + 1 (LE64 at 500), length = sectors - 1 (LE16 at
    #    508), load segment 0x820 (LE16 at 510); no Reed-Solomon codes (redundancy 0 in
    #    core.img, which its loader then skips, as with --no-rs-codes);
    #  - boot.img into the MBR, keeping the protective partition table (bytes 440-509) and
    #    the BPB area (3-89) of what is there; core.img's first sector as LE64 at 0x5c, boot
    #    drive 0xff at 0x64 (use the BIOS's), the floppy drive check at 0x66 replaced by two
    #    nops (a hard disk).
    local core=$work/core.img mbr=$work/mbr boot=$work/boot.img core_sectors bios_start bios_sectors
    cp "$tree/boot/grub/i386-pc/core.img" "$core"
    core_sectors=$(( ($(stat -c %s "$core") + 511) / 512 ))
    read -r bios_start bios_sectors < <(sfdisk --dump "$disk" | awk -F'[=,]' '$1 ~ /disk.raw14 *: start/ {gsub(/ /,""); print $2, $4}')
    ((core_sectors <= bios_sectors)) || die "core.img ($core_sectors sectors) does not fit partition 14"
    le $((bios_start + 1)) 8 | put "$core" 500
    le $((core_sectors - 1)) 2 | put "$core" 508
    le $((0x820)) 2 | put "$core" 510
    dd if="$core" of="$disk" bs=512 seek="$bios_start" conv=notrunc status=none
    dd if="$disk" of="$mbr" bs=512 count=1 status=none
    cp "$tree/usr/lib/grub/i386-pc/boot.img" "$boot"
    dd if="$mbr" bs=1 skip=3 count=$((0x5a - 3)) status=none | put "$boot" 3
    dd if="$mbr" bs=1 skip=440 count=$((510 - 440)) status=none | put "$boot" 440
    le "$bios_start" 8 | put "$boot" $((0x5c))
    printf '\xff' | put "$boot" $((0x64))
    printf '\x90\x90' | put "$boot" $((0x66))
    dd if="$boot" of="$disk" bs=512 count=1 conv=notrunc status=none
    printf 'UUID=%s\n' "$uuid" > "$dir/root"
    cp "$tree/boot/vmlinuz-$version" "$dir/vmlinuz"
    cp "$tree/boot/initrd.img-$version" "$dir/initrd.img"
}

# Both variants into the cache (the second costs a purge and a mkfs); only the requested one
# without it.
built=$work/built
if [[ $cloud_init == 1 || -n $cache ]]; then
    make_disk "$built/cloud-init"
    step cloud-init
fi
if [[ $cloud_init == 0 || -n $cache ]]; then
    chroot "$tree" dpkg --purge cloud-init >/dev/null
    make_disk "$built/no-cloud-init"
    step no-cloud-init
fi
if [[ -n $cache ]]; then
    # Entries of older versions of this script are never used again.
    find "$cache" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
    mv "$built" "$cache/$key.tmp"
    touch "$cache/$key.tmp/done"
    mv "$cache/$key.tmp" "$cache/$key"
    built=$cache/$key
fi
publish "$built"
step published
