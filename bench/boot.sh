#!/usr/bin/env bash
# bench/boot.sh: boot benchmarks for `fleetbox up`, in one of two modes (MODE=bare default).
# Both time "time to first SSH exec": `fleetbox up` returns only after an authenticated SSH
# exec (`true`, pinned host key), so the wall time of `up` on a new VM is exactly that.
# Benchmarks report, tests assert: a missed target is printed (MISS), never an exit status;
# a boot that fails, or an A/B run that did not use the method it claims, exits non-zero.
#
# Usage (root):
#   bench/boot.sh [FLEETBOX]                     MODE=bare, RUNS=N each (default 3)
#   MODE=ab RUNS=5 bench/boot.sh [FLEETBOX]      MODE=ab,   RUNS=N each (default 5)
# FLEETBOX defaults to build/dev/tools/fleetbox/fleetbox (or $FLEETBOX).
#
# MODE=bare: fleetbox vs a bare qemu-system-x86_64 launch of the same image, overlay and seed
# with no orchestration, measured alternately in one run (median of RUNS each), plus
# fleetbox's per-phase timings and the helper's RSS.
#   Targets (from the issue): fleetbox / bare <= 1.10; helper RSS <= 10 MiB.
#   How "the same" is guaranteed: each pair first runs `fleetbox up bench-N` (timed until it
#   returns, which is after an authenticated SSH exec), records the exact QEMU command line
#   fleetbox used (/proc/<qemu>/cmdline), copies that VM's seed and known_hosts, and removes
#   the VM. The bare run then replays that command line with a fresh qcow2 overlay on the same
#   base image, the copied seed, and its own bridge + tap with the same gateway address, and
#   is timed from exec until `ssh true` (system ssh, pinned host key) first succeeds.
#   Both sides boot a fresh overlay, so the guest does its first-boot work in both.
#   The replay copies whichever seed the VM got (seed.tar on the fast path, seed.iso with
#   NoCloud); the kernel command line words that select the method are in the recorded argv.
#   PROVISIONING=nocloud|fleetbox-seed picks the method (default: the image's preferred).
#
# MODE=ab: the two provisioning methods on the SAME cached base image, each VM a first boot:
#   `fleetbox up ab-fast-N --provisioning fleetbox-seed --timings` (tar seed applied by a unit
#   in the image, no cloud-init) against `fleetbox up ab-nc-N --provisioning nocloud --timings`
#   (cloud-init reads a NoCloud ISO), RUNS of each, alternating which goes first each round to
#   cancel drift, one VM at a time (each is `rm -f`'d before the next boot). Each run's
#   config.json must name the method asked for (and its seed be seed.tar / seed.iso), else the
#   script fails. Prints, per path, min / median / max time to first SSH exec and the medians
#   of fleetbox's host "total" and of the guest phases (kernel, initramfs, userspace to sshd,
#   sshd up) from the guest's console markers; then the ratio fast / nocloud of the medians.
#   Targets (from the issue): fast median <= 0.55 x nocloud median; fast median <= 15 s.
#
# Everything runs inside a private network namespace created (and deleted) here, with a
# scratch store (FLEETBOX_HOME) whose image is hardlinked from the shared cache.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
FLEETBOX=${1:-${FLEETBOX:-$here/build/dev/tools/fleetbox/fleetbox}}
die() { echo "boot.sh: $*" >&2; exit 1; }
MODE=${MODE:-bare}
case $MODE in
    bare) RUNS=${RUNS:-3} ;;
    ab) RUNS=${RUNS:-5} ;;
    *) die "MODE must be bare or ab, not \"$MODE\"" ;;
esac
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not \"$RUNS\""
[[ -x $FLEETBOX ]] || die "no fleetbox binary at $FLEETBOX"
[[ $(id -u) == 0 ]] || die "run as root (bridges and taps)"

ns=fbx-bench-$$
WORK=$(mktemp -d /tmp/fbx-bench.XXXXXX)
export FLEETBOX_HOME=$WORK/store
bare_pid=""
cleanup() {
    [[ -n $bare_pid ]] && kill -9 "$bare_pid" 2>/dev/null || true
    pkill -9 -f "$WORK/" 2>/dev/null || true   # any QEMU still using the scratch files
    for i in $(seq 1 "$RUNS"); do
        for vm in "bench-$i" "ab-fast-$i" "ab-nc-$i"; do
            ip netns exec "$ns" "$FLEETBOX" rm -f "$vm" >/dev/null 2>&1 || true
        done
    done
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

# ---- MODE=ab: fleetbox-seed vs nocloud provisioning, same image ----------------------------
# One value per line -> its min / max ("-" when there is none).
minimum() { printf '%s\n' "$@" | sort -g | head -1; }
maximum() { printf '%s\n' "$@" | sort -g | tail -1; }
# Median of the numeric arguments ("-" marks a missing value; "-" when none is left).
median_of() {
    local v=() x
    for x in "$@"; do [[ $x == - ]] || v+=("$x"); done
    if [[ ${#v[@]} -gt 0 ]]; then median "${v[@]}"; else echo -; fi
}
fmt2() { if [[ $1 == - ]]; then echo -; else printf '%.2f' "$1"; fi; }
# The SECONDS of row LABEL in the host table (before "GUEST PHASE") or the guest table (after).
host_row() { awk -v p="$2" '/^GUEST PHASE/ {exit} index($0, p) == 1 && substr($0, length(p) + 1) ~ /^ +[0-9.]+$/ {print $NF; exit}' "$1"; }
guest_row() { awk -v p="$2" 'g && index($0, p) == 1 && substr($0, length(p) + 1) ~ /^ +[0-9.]+$/ {print $NF; exit} /^GUEST PHASE/ {g = 1}' "$1"; }

guest_phases=("kernel" "initramfs" "userspace to sshd" "sshd up (uptime)")
declare -A ab_vals   # "<path>:<metric>" -> space-separated values, one per run

# ab_boot PATH I: boot ab-PATH-I with PATH's method, time it, check it, record, remove it.
ab_boot() {
    local path=$1 i=$2 method seed vm out t0 t1 wall total member got k v
    case $path in
        fast) method=fleetbox-seed; seed=seed.tar ;;
        nc) method=nocloud; seed=seed.iso ;;
    esac
    vm=ab-$path-$i
    out=$WORK/ab-$vm.txt
    t0=$(now)
    if ! in_ns "$FLEETBOX" up "$vm" --provisioning "$method" --timings > "$out"; then
        cat "$out" >&2
        die "fleetbox up $vm --provisioning $method failed (run $i)"
    fi
    t1=$(now)
    wall=$(printf '%.3f' "$(echo "$t1 - $t0" | bc -l)")

    # The A/B must compare what it claims: the VM's config names the method, and its seed is
    # that method's file.
    member=$FLEETBOX_HOME/clusters/ab-$path/$vm
    [[ -f $member/config.json ]] || die "$vm: no $member/config.json"
    got=$(grep -o '"provisioning": *"[^"]*"' "$member/config.json" | sed 's/.*: *"\(.*\)"/\1/' || true)
    [[ $got == "$method" ]] || die "$vm: asked for --provisioning $method but config.json says \"${got:-<none>}\""
    [[ -f $member/$seed ]] || die "$vm: provisioning $method but no $seed in $member"

    total=$(host_row "$out" total)
    [[ -n $total ]] || { cat "$out" >&2; die "$vm: no host \"total\" row in the --timings output"; }
    ab_vals[$path:wall]+=" $wall"
    ab_vals[$path:total]+=" $total"
    for k in "${!guest_phases[@]}"; do
        v=$(guest_row "$out" "${guest_phases[$k]}")
        ab_vals[$path:g$k]+=" ${v:--}"
    done
    in_ns "$FLEETBOX" rm -f "$vm" >/dev/null
    v=$(guest_row "$out" "sshd up (uptime)")
    printf 'run %d: %-13s up -> ssh %6.2f s   host total %6.2f s   guest sshd up %s s\n' \
        "$i" "$method" "$wall" "$total" "$(fmt2 "${v:--}")"
}

ab_row() { printf '%-13s  %6s  %6s  %6s  %10s  %6s  %9s  %17s  %16s\n' "$@"; }

run_ab() {
    local i path k label list=() row=() wf wn ratio
    for i in $(seq 1 "$RUNS"); do
        if (( i % 2 )); then ab_boot fast "$i"; ab_boot nc "$i"
        else ab_boot nc "$i"; ab_boot fast "$i"; fi
    done

    echo
    echo "== A/B provisioning: boot to first SSH exec (fleetbox up wall time), $RUNS runs each, alternating =="
    echo "(seconds; MIN/MEDIAN/MAX: time to first SSH exec; the other columns: medians of fleetbox's"
    echo " host \"total\" and of the guest phases from its console markers)"
    ab_row PATH MIN MEDIAN MAX "HOST TOTAL" KERNEL INITRAMFS "USERSPACE TO SSHD" "SSHD UP (UPTIME)"
    for path in fast nc; do
        if [[ $path == fast ]]; then label=fleetbox-seed; else label=nocloud; fi
        read -ra list <<< "${ab_vals[$path:wall]}"
        row=("$(fmt2 "$(minimum "${list[@]}")")" "$(fmt2 "$(median "${list[@]}")")" "$(fmt2 "$(maximum "${list[@]}")")")
        read -ra list <<< "${ab_vals[$path:total]}"
        row+=("$(fmt2 "$(median_of "${list[@]}")")")
        for k in "${!guest_phases[@]}"; do
            read -ra list <<< "${ab_vals[$path:g$k]}"
            row+=("$(fmt2 "$(median_of "${list[@]}")")")
        done
        ab_row "$label" "${row[@]}"
    done
    read -ra list <<< "${ab_vals[fast:wall]}"; wf=$(median "${list[@]}")
    read -ra list <<< "${ab_vals[nc:wall]}"; wn=$(median "${list[@]}")
    ratio=$(echo "$wf / $wn" | bc -l)
    pass() { if awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; then echo PASS; else echo MISS; fi; }
    echo
    printf 'all runs (s):  fleetbox-seed %s\n               nocloud      %s\n' "${ab_vals[fast:wall]# }" "${ab_vals[nc:wall]# }"
    printf 'ratio fast / nocloud (medians): %.3f\n' "$ratio"
    printf 'target fast median <= 0.55 x nocloud median:  %.3f <= 0.55   %s\n' "$ratio" "$(pass "$ratio" 0.55)"
    printf 'target fast median <= 15 s:                   %.2f s <= 15 s   %s\n' "$wf" "$(pass "$wf" 15)"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [[ $MODE == ab ]]; then
    run_ab
    exit 0
fi

# ---- MODE=bare: fleetbox vs bare QEMU --------------------------------------------------------
fleetbox_times=(); bare_times=(); helper_rss=()
for i in $(seq 1 "$RUNS"); do
    vm=bench-$i
    t0=$(now)
    in_ns "$FLEETBOX" up "$vm" --timings ${PROVISIONING:+--provisioning "$PROVISIONING"} > "$WORK/up-$i.txt"
    t1=$(now)
    fleetbox_times+=("$(echo "$t1 - $t0" | bc -l)")
    qemu_pid=$(pgrep -f "guest=$vm" | head -1)
    helper_pid=$(pgrep -f "fleetbox-helper.*--member $vm" | head -1 || true)
    [[ -n $helper_pid ]] && helper_rss+=("$(awk '/VmRSS/ {print $2}' "/proc/$helper_pid/status")")
    tr '\0' '\n' < "/proc/$qemu_pid/cmdline" > "$WORK/argv-$i"
    member=$FLEETBOX_HOME/clusters/bench/$vm
    seed=""
    for f in seed.tar seed.iso; do [[ -f $member/$f ]] && { seed=$f; break; }; done
    [[ -n $seed ]] || die "$vm has no seed in $member"
    cp "$member/$seed" "$WORK/seed-$i-$seed"
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
        # The disks are -blockdev JSON nodes (the overlay is the member's disk.qcow2, the base
        # stays the same image); the tap is inherited as fd 3 by fleetbox's QEMU, so the bare
        # one opens its own by name.
        a=$(sed -e "s|\"$member/disk.qcow2\"|\"$WORK/bare-$i.qcow2\"|" \
                -e "s|\"[^\"]*/$seed\"|\"$WORK/seed-$i-$seed\"|" \
                -e "s|tap,id=n0,fd=[0-9]*|tap,id=n0,ifname=fbtb0,script=no,downscript=no|" \
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
