#!/usr/bin/env bash
# bench/boot.sh: time from `fleetbox up` to the first successful SSH exec, against a bare
# qemu-system-x86_64 launch of the same image, overlay and seed with no orchestration,
# measured alternately in one run (median of RUNS each), plus fleetbox's per-phase timings
# and the helper's RSS.
#
# Targets (from the issue): fleetbox / bare <= 1.10; helper RSS <= 10 MiB.
#
# How "the same" is guaranteed: each pair first runs `fleetbox up bench-N` (timed until it
# returns, which is after an authenticated SSH exec), records the exact QEMU command line
# fleetbox used (/proc/<qemu>/cmdline), copies that VM's seed and known_hosts, and removes
# the VM. The bare run then replays that command line with a fresh qcow2 overlay on the same
# base image, the copied seed, and its own bridge + tap with the same gateway address, and
# is timed from exec until `ssh true` (system ssh, pinned host key) first succeeds.
# Both sides boot a fresh overlay, so cloud-init does its first-boot work in both.
#
# Everything runs inside a private network namespace created (and deleted) here.
# Usage: bench/boot.sh [FLEETBOX]   (root)   RUNS=N (default 3)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
FLEETBOX=${1:-${FLEETBOX:-$here/build/dev/tools/fleetbox/fleetbox}}
RUNS=${RUNS:-3}
die() { echo "boot.sh: $*" >&2; exit 1; }
[[ -x $FLEETBOX ]] || die "no fleetbox binary at $FLEETBOX"
[[ $(id -u) == 0 ]] || die "run as root (bridges and taps)"

ns=fbx-bench-$$
WORK=$(mktemp -d /tmp/fbx-bench.XXXXXX)
export FLEETBOX_HOME=$WORK/store
bare_pid=""
cleanup() {
    [[ -n $bare_pid ]] && kill -9 "$bare_pid" 2>/dev/null || true
    pkill -9 -f "$WORK/" 2>/dev/null || true   # any QEMU still using the scratch files
    for i in $(seq 1 "$RUNS"); do ip netns exec "$ns" "$FLEETBOX" rm -f "bench-$i" >/dev/null 2>&1 || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

# Reuse the shared image cache without rebuilding: ensure it there (FLEETBOX_HOME unset =
# the default store), then hardlink its files into the scratch store.
cache=$(env -u FLEETBOX_HOME "$FLEETBOX" image build debian-12)
[[ -f $cache/disk.qcow2 ]] || die "no cached image at $cache"
mkdir -p "$FLEETBOX_HOME/images/debian-12"
ln "$cache"/* "$FLEETBOX_HOME/images/debian-12/"

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

fleetbox_times=(); bare_times=(); helper_rss=()
for i in $(seq 1 "$RUNS"); do
    vm=bench-$i
    t0=$(now)
    in_ns "$FLEETBOX" up "$vm" --timings > "$WORK/up-$i.txt"
    t1=$(now)
    fleetbox_times+=("$(echo "$t1 - $t0" | bc -l)")
    qemu_pid=$(pgrep -f "guest=$vm" | head -1)
    helper_pid=$(pgrep -f "fleetbox-helper.*--member $vm" | head -1 || true)
    [[ -n $helper_pid ]] && helper_rss+=("$(awk '/VmRSS/ {print $2}' "/proc/$helper_pid/status")")
    tr '\0' '\n' < "/proc/$qemu_pid/cmdline" > "$WORK/argv-$i"
    member=$FLEETBOX_HOME/clusters/bench/$vm
    cp "$member/seed.iso" "$WORK/seed-$i.iso"
    cp "$member/known_hosts" "$WORK/known_hosts-$i"
    ip=$(awk '{print $1}' "$member/known_hosts")
    in_ns "$FLEETBOX" rm -f "$vm" >/dev/null

    # Bare replay: same argv, fresh overlay, copied seed, own bridge/tap, same gateway.
    gw=${ip%.*}.1
    in_ns ip link add fbxb0 type bridge
    in_ns ip addr add "$gw/24" dev fbxb0
    in_ns ip link set fbxb0 up
    in_ns ip tuntap add dev fbtb0 mode tap
    in_ns ip link set fbtb0 master fbxb0 up
    qemu-img create -q -f qcow2 -F qcow2 -b "$FLEETBOX_HOME/images/debian-12/disk.qcow2" "$WORK/bare-$i.qcow2" 20G
    mapfile -t argv < "$WORK/argv-$i"
    for k in "${!argv[@]}"; do
        a=${argv[$k]}
        a=$(sed -e "s|file=[^,]*disk.qcow2|file=$WORK/bare-$i.qcow2|" \
                -e "s|file=[^,]*seed.iso|file=$WORK/seed-$i.iso|" \
                -e "s|ifname=fbt-[0-9a-f]*|ifname=fbtb0|" \
                -e "s|path=[^,]*serial.log|path=$WORK/bare-serial-$i.log|" \
                -e "s|path=[^,]*\.qmp|path=$WORK/bare-$i.qmp|" <<< "$a")
        argv[$k]=$a
    done
    t0=$(now)
    # Not through in_ns: a backgrounded shell function runs in a subshell, and $! would be
    # that subshell, not QEMU (ip netns exec execs the command in place).
    ip netns exec "$ns" "${argv[@]}" > "$WORK/bare-qemu-$i.log" 2>&1 &
    bare_pid=$!
    until in_ns ssh -q -i "$FLEETBOX_HOME/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
            -o ConnectTimeout=2 -o UserKnownHostsFile="$WORK/known_hosts-$i" -o StrictHostKeyChecking=yes \
            "fleetbox@$ip" true 2>/dev/null; do
        kill -0 "$bare_pid" 2>/dev/null || die "bare QEMU exited: $(tail -1 "$WORK/bare-qemu-$i.log")"
        sleep 0.25
    done
    t1=$(now)
    bare_times+=("$(echo "$t1 - $t0" | bc -l)")
    kill -9 "$bare_pid"; wait "$bare_pid" 2>/dev/null || true; bare_pid=""
    in_ns ip link del fbtb0; in_ns ip link del fbxb0
    printf 'run %d: fleetbox up -> ssh %.1f s   bare qemu -> ssh %.1f s\n' "$i" "${fleetbox_times[-1]}" "${bare_times[-1]}"
done

fm=$(median "${fleetbox_times[@]}"); bm=$(median "${bare_times[@]}")
echo
echo "== boot to first SSH exec (median of $RUNS, alternating) =="
printf 'fleetbox up:  %.1f s   (%s)\n' "$fm" "${fleetbox_times[*]}"
printf 'bare qemu:    %.1f s   (%s)\n' "$bm" "${bare_times[*]}"
printf 'ratio:        %.3f   (target <= 1.10)\n' "$(echo "$fm / $bm" | bc -l)"
echo
echo "== fleetbox per-phase timings (last run) =="
sed -n '/PHASE/,$p' "$WORK/up-$RUNS.txt"
echo
if [[ ${#helper_rss[@]} -gt 0 ]]; then
    printf 'helper RSS:   %.1f MiB median   (target <= 10 MiB)\n' "$(echo "$(median "${helper_rss[@]}") / 1024" | bc -l)"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
