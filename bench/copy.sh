#!/usr/bin/env bash
# bench/copy.sh: `fleetbox cp` throughput against scp of the same file to the same VM, both
# directions, in one run; and the peak RSS of the copying fleetbox process for two file sizes.
# Benchmarks report, tests assert: a missed target is printed (MISS), never an exit status; a
# copy that fails, or a file that arrives different, exits non-zero.
#
# Usage (root):
#   bench/copy.sh [FLEETBOX]        SIZE_MIB=200 RUNS=3 SMALL_MIB=50 (defaults)
# FLEETBOX defaults to build/dev/tools/fleetbox/fleetbox (or $FLEETBOX).
#
# Targets (issue 10): fleetbox cp >= 1.0 x scp both ways (median of RUNS each, measured
# alternately so drift hits both); peak RSS of `fleetbox cp` independent of the file size
# (SMALL_MIB vs SIZE_MIB: the larger may use at most 4 MiB more).
# scp uses the same key and the VM's own known_hosts (host key pinned), like fleetbox.
#
# One VM boots inside a private network namespace created (and deleted) here, with a scratch
# store (FLEETBOX_HOME) whose image is hardlinked from the shared cache.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
FLEETBOX=${1:-${FLEETBOX:-$here/build/dev/tools/fleetbox/fleetbox}}
die() { echo "copy.sh: $*" >&2; exit 1; }
RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-200}
SMALL_MIB=${SMALL_MIB:-50}
for v in RUNS SIZE_MIB SMALL_MIB; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not \"${!v}\""
done
[[ -x $FLEETBOX ]] || die "no fleetbox binary at $FLEETBOX"
[[ $(id -u) == 0 ]] || die "run as root (bridges and taps)"
for tool in scp /usr/bin/time; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps)"
done

ns=fbx-copy-bench-$$
vm=copybench
WORK=$(mktemp -d /tmp/fbx-copy-bench.XXXXXX)
export FLEETBOX_HOME=$WORK/store
cleanup() {
    ip netns exec "$ns" "$FLEETBOX" rm -f "$vm" >/dev/null 2>&1 || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

cache=$(env -u FLEETBOX_HOME "$FLEETBOX" image build debian-12)
[[ -f $cache/disk.qcow2 ]] || die "no cached image at $cache"
mkdir -p "$FLEETBOX_HOME/images/debian-12"
ln "$cache"/* "$FLEETBOX_HOME/images/debian-12/"

echo "booting $vm ..."
in_ns "$FLEETBOX" up "$vm" >/dev/null
# The VM's address, key and known_hosts, as `fleetbox ssh-config` tells a person.
conf=$(in_ns "$FLEETBOX" ssh-config)
field() { awk -v k="$1" '$1 == k {print $2; exit}' <<<"$conf"; }
ip=$(field HostName)
key=$(field IdentityFile)
known=$(field UserKnownHostsFile)
[[ -n $ip && -f $key && -f $known ]] || die "no ssh-config for $vm: $conf"
scp_opts=(-q -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile="$known"
          -o StrictHostKeyChecking=yes)

mkdir -p "$WORK/files" "$WORK/down"
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/files/big.bin"
head -c "$((SMALL_MIB * 1024 * 1024))" /dev/urandom > "$WORK/files/small.bin"
sum=$(sha256sum < "$WORK/files/big.bin")

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# timed CMD...: runs CMD in the namespace, prints its wall seconds.
timed() {
    local t0 t1
    t0=$(now)
    in_ns "$@" >/dev/null
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}
check() { # check FILE: the copy must be the original, byte for byte
    [[ $(sha256sum < "$1") == "$sum" ]] || die "$1 differs from the original"
}
guest() { in_ns "$FLEETBOX" ssh "$vm" -- "$@"; }

declare -a fb_up scp_up fb_down scp_down
for i in $(seq 1 "$RUNS"); do
    guest rm -f /home/fleetbox/fb.bin /home/fleetbox/scp.bin
    fb_up+=("$(timed "$FLEETBOX" cp "$WORK/files/big.bin" "$vm:/home/fleetbox/fb.bin")")
    scp_up+=("$(timed scp "${scp_opts[@]}" "$WORK/files/big.bin" "fleetbox@$ip:/home/fleetbox/scp.bin")")
    [[ $(guest sha256sum < /dev/null /home/fleetbox/fb.bin | cut -c1-64) == "${sum:0:64}" ]] ||
        die "the guest's fb.bin differs"
    rm -f "$WORK/down/"*
    fb_down+=("$(timed "$FLEETBOX" cp "$vm:/home/fleetbox/fb.bin" "$WORK/down/")")
    scp_down+=("$(timed scp "${scp_opts[@]}" "fleetbox@$ip:/home/fleetbox/scp.bin" "$WORK/down/scp.bin")")
    check "$WORK/down/fb.bin"
    check "$WORK/down/scp.bin"
    printf 'run %d: up fleetbox %.2f s scp %.2f s   down fleetbox %.2f s scp %.2f s\n' "$i" \
        "${fb_up[-1]}" "${scp_up[-1]}" "${fb_down[-1]}" "${scp_down[-1]}"
done

report() { # report LABEL FLEETBOX_MEDIAN SCP_MEDIAN
    local fb_rate scp_rate ratio verdict
    fb_rate=$(echo "$SIZE_MIB / $2" | bc -l)
    scp_rate=$(echo "$SIZE_MIB / $3" | bc -l)
    ratio=$(echo "$fb_rate / $scp_rate" | bc -l)
    verdict=OK
    (( $(echo "$ratio < 1.0" | bc -l) )) && verdict=MISS
    printf '%-13s fleetbox cp %7.1f MiB/s   scp %7.1f MiB/s   ratio %.2f (target >= 1.00) %s\n' \
        "$1" "$fb_rate" "$scp_rate" "$ratio" "$verdict"
}
echo
echo "$SIZE_MIB MiB, median of $RUNS:"
report "host->guest" "$(median "${fb_up[@]}")" "$(median "${scp_up[@]}")"
report "guest->host" "$(median "${fb_down[@]}")" "$(median "${scp_down[@]}")"

# Peak RSS (KiB) of one `fleetbox cp` of FILE in DIRECTION (up|down).
peak_rss() {
    local file=$1 dir=$2 out=$WORK/rss.txt
    if [[ $dir == up ]]; then
        in_ns /usr/bin/time -f %M -o "$out" "$FLEETBOX" cp "$file" "$vm:/home/fleetbox/rss.bin"
    else
        rm -f "$WORK/down/rss.bin"
        in_ns /usr/bin/time -f %M -o "$out" "$FLEETBOX" cp "$vm:/home/fleetbox/rss.bin" "$WORK/down/rss.bin"
    fi
    tail -1 "$out"
}
declare -A rss
for size in small big; do
    rss[up-$size]=$(peak_rss "$WORK/files/$size.bin" up)
    rss[down-$size]=$(peak_rss "$WORK/files/$size.bin" down)
done
echo
for dir in up down; do
    small=${rss[$dir-small]}
    big=${rss[$dir-big]}
    verdict=OK
    (( big - small > 4096 )) && verdict=MISS
    printf 'peak RSS %-4s %4d MiB: %6d KiB   %4d MiB: %6d KiB   (target: independent of size) %s\n' \
        "$dir" "$SMALL_MIB" "$small" "$SIZE_MIB" "$big" "$verdict"
done
