#!/usr/bin/env bash
# bench/image-build.sh: how long each Debian release's guest image takes to build, measured
# against a bare mmdebstrap of the same suite and package set run in the same invocation (so
# both see the same mirror, cache and machine load), plus the cached second call and per-VM
# overlay creation (on debian-12).
#
# Targets (from the issues):
#   fleetbox image build ALIAS --force  <= 1.2 x bare mmdebstrap of the same suite (median of
#                                          RUNS pairs), for each of debian-11, -12, -13
#   cached `fleetbox image build debian-12`  < 0.2 s
#   overlay creation: milliseconds, a few hundred KiB
#   download (pulled images): fleetbox >= 0.95 x curl from a loopback server (bench/download.sh,
#                             run at the end; SKIP_DOWNLOAD=1 leaves it out)
#
# The bare mmdebstrap is `fleetbox image recipe ALIAS` (the exact argv the build runs: same
# mode, variant, suite options, package set, dpkg excludes and mirrors) without the --*-hook
# options, into a scratch directory. Builds alternate order between runs (bare first on odd
# runs), so a warming mirror or page cache favors neither side.
#
# Usage: bench/image-build.sh [FLEETBOX]   (needs root, like the build itself)
#   FLEETBOX   the fleetbox binary (default: build/dev/tools/fleetbox/fleetbox)
#   SUITES="debian-11 debian-12 debian-13"   the images to time (default: all three)
#   RUNS=N     build pairs per image (default 1; each pair takes minutes)
#   CACHED_RUNS=N  timed cached calls (default 20)
#   SKIP_BUILD=1   skip the build pairs; time the cached call against $FLEETBOX_HOME
#                  (or ~/.fleetbox) instead of a scratch store
#   WORK=dir   scratch directory (default: a new one under ${TMPDIR:-/var/tmp}); KEEP=1 keeps it
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
FLEETBOX=${1:-${FLEETBOX:-$here/build/dev/tools/fleetbox/fleetbox}}
RUNS=${RUNS:-1}
CACHED_RUNS=${CACHED_RUNS:-20}
SUITES=${SUITES:-debian-11 debian-12 debian-13}
ALIAS=debian-12 # the cached call and the overlay are timed on this one (if it is built)
[[ ${SKIP_BUILD:-0} == 1 || " $SUITES " == *" $ALIAS "* ]] || ALIAS=${SUITES%% *}

die() { echo "image-build.sh: $*" >&2; exit 1; }
[[ -x $FLEETBOX ]] || die "no fleetbox binary at $FLEETBOX (build it, or pass its path)"
for tool in mmdebstrap qemu-img mkfs.ext4; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ $(id -u) == 0 ]] || die "run as root (mmdebstrap --mode=unshare keeps file ownership only for root)"

WORK=${WORK:-$(mktemp -d "${TMPDIR:-/var/tmp}/fbx-bench-image.XXXXXX")}
mkdir -p "$WORK"
cleanup() {
    # A bare rootfs has no mounts left (unshare mode), so a plain rm is safe.
    [[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
fmt_s() { printf '%.2f s' "$1"; }

# The bare mmdebstrap argv of an image: the recipe without our hooks, into $WORK/bare.
bare=()
bare_argv() {
    local recipe arg
    mapfile -t recipe < <("$FLEETBOX" image recipe "$1")
    [[ ${#recipe[@]} -gt 3 && ${recipe[0]} == mmdebstrap ]] || die "unexpected output of '$FLEETBOX image recipe $1'"
    bare=()
    for arg in "${recipe[@]}"; do
        case $arg in
            --setup-hook=* | --customize-hook=* | --essential-hook=* | --extract-hook=*) ;;
            TARGET) bare+=("$WORK/bare") ;;
            *) bare+=("$arg") ;;
        esac
    done
}

run_bare() {
    rm -rf "$WORK/bare"
    local t0 t1
    t0=$(now)
    "${bare[@]}" >"$WORK/bare.log" 2>&1 || { tail -5 "$WORK/bare.log" >&2; die "bare mmdebstrap failed (log: $WORK/bare.log)"; }
    t1=$(now)
    rm -rf "$WORK/bare"
    elapsed "$t0" "$t1"
}

run_build() {
    local t0 t1
    t0=$(now)
    FLEETBOX_HOME="$WORK/home" "$FLEETBOX" image build "$1" --force -q >"$WORK/build.out" 2>&1 ||
        { cat "$WORK/build.out" >&2; die "fleetbox image build $1 failed"; }
    t1=$(now)
    elapsed "$t0" "$t1"
}

# "bootstrap 131.2 s, kernel 0.1 s, ..." and the build's own total over its bootstrap phase:
# both come from the manifest, so they are measured within one build, under one load.
phases_of() {
    python3 - "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
phases = m.get("phases", [])
print(", ".join(f"{p['name']} {p['seconds']:.1f} s" for p in phases))
boot = next((p["seconds"] for p in phases if p["name"] == "bootstrap"), 0)
print(f"{m['build_seconds'] / boot:.3f}" if boot else "n/a")
PY
}

manifest_of() { echo "$WORK/home/images/$1/manifest.json"; }
size_of() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(next(f["size"] for f in m["files"] if f["name"]==sys.argv[2]))' "$1" "$2"; }

# Per image: "alias bare_median build_median ratio inbuild_median disk_mib initrd_mib".
results=()
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    store="$WORK/home"
    for alias in $SUITES; do
        bare_argv "$alias"
        bare_times=()
        build_times=()
        inbuild_ratios=()
        echo "== build: fleetbox image build $alias --force vs bare mmdebstrap (same suite and package set), $RUNS pair(s)"
        for ((i = 1; i <= RUNS; i++)); do
            if ((i % 2)); then
                b=$(run_bare); echo "  run $i: bare mmdebstrap   $(fmt_s "$b")"
                f=$(run_build "$alias"); echo "  run $i: fleetbox build    $(fmt_s "$f")"
            else
                f=$(run_build "$alias"); echo "  run $i: fleetbox build    $(fmt_s "$f")"
                b=$(run_bare); echo "  run $i: bare mmdebstrap   $(fmt_s "$b")"
            fi
            out=$(phases_of "$(manifest_of "$alias")")
            echo "          phases: $(head -1 <<<"$out")"
            inbuild_ratios+=("$(tail -1 <<<"$out")")
            bare_times+=("$b")
            build_times+=("$f")
        done
        mb=$(median "${bare_times[@]}")
        mf=$(median "${build_times[@]}")
        m=$(manifest_of "$alias")
        results+=("$alias $mb $mf $(echo "$mf / $mb" | bc -l) $(median "${inbuild_ratios[@]}") $(($(size_of "$m" disk.qcow2) / 1048576)) $(($(size_of "$m" initrd.img) / 1048576))")
    done
else
    store=${FLEETBOX_HOME:-$HOME/.fleetbox}
    echo "== build: skipped (SKIP_BUILD=1); using the store $store"
    FLEETBOX_HOME="$store" "$FLEETBOX" image build "$ALIAS" -q >/dev/null
fi

echo "== cached: fleetbox image build $ALIAS ($CACHED_RUNS calls)"
cached_times=()
for ((i = 1; i <= CACHED_RUNS; i++)); do
    t0=$(now)
    FLEETBOX_HOME="$store" "$FLEETBOX" image build "$ALIAS" -q >/dev/null
    t1=$(now)
    cached_times+=("$(elapsed "$t0" "$t1")")
done
cached=$(median "${cached_times[@]}")

echo "== overlay: qemu-img create with the library's flags (20 GiB on the cached base, 20 calls)"
base="$store/images/$ALIAS/disk.qcow2"
[[ -f $base ]] || die "no cached image at $base"
overlay_times=()
for ((i = 1; i <= 20; i++)); do
    out="$WORK/overlay-$i.qcow2"
    t0=$(now)
    # Identical to image::overlay_argv(): qemu-img create -q -f qcow2 -F qcow2 -b BASE OUT SIZE
    qemu-img create -q -f qcow2 -F qcow2 -b "$base" "$out" $((20 * 1024 * 1024 * 1024))
    t1=$(now)
    overlay_times+=("$(elapsed "$t0" "$t1")")
done
overlay=$(median "${overlay_times[@]}")
overlay_kib=$(du -k "$WORK/overlay-1.qcow2" | cut -f1)
overlay_apparent=$(stat -c %s "$WORK/overlay-1.qcow2")

manifest="$store/images/$ALIAS/manifest.json"

echo
echo "== results"
printf '  %s image files:  disk.qcow2 %s MiB, vmlinuz %s MiB, initrd.img %s MiB\n' "$ALIAS" \
    "$(($(size_of "$manifest" disk.qcow2) / 1048576))" "$(($(size_of "$manifest" vmlinuz) / 1048576))" "$(($(size_of "$manifest" initrd.img) / 1048576))"
status=0
if ((${#results[@]})); then
    # Load on a shared machine swings whole minutes between runs; the build's total over its
    # own mmdebstrap phase ("in-build") is immune to that and shows what the steps after
    # mmdebstrap cost.
    printf '  %-10s %12s %12s %8s %9s %9s %7s\n' image "bare mmdeb" "fleetbox" ratio in-build "disk MiB" "initrd"
    for r in "${results[@]}"; do
        read -r alias mb mf ratio inbuild disk initrd <<<"$r"
        verdict=$(echo "$ratio <= 1.2" | bc -l)
        printf '  %-10s %10.1f s %10.1f s %8.3f %9s %9s %5s M  %s\n' "$alias" "$mb" "$mf" "$ratio" "$inbuild" "$disk" "$initrd" \
            "$([[ $verdict == 1 ]] && echo PASS || echo 'FAIL (target <= 1.2)')"
        [[ $verdict == 1 ]] || status=1
    done
fi
cverdict=$(echo "$cached < 0.2" | bc -l)
printf '  cached build call:  median %.3f s (target < 0.2 s) %s\n' "$cached" "$([[ $cverdict == 1 ]] && echo PASS || echo FAIL)"
[[ $cverdict == 1 ]] || status=1
printf '  overlay creation:   median %.1f ms, %s KiB allocated (%s bytes apparent)\n' \
    "$(echo "$overlay * 1000" | bc -l)" "$overlay_kib" "$overlay_apparent"
if [[ -z ${SKIP_DOWNLOAD:-} ]]; then
    echo "== download: fleetbox's fetch vs curl -o from a loopback server (bench/download.sh)"
    "$here/bench/download.sh" "$(dirname "$(dirname "$(dirname "$FLEETBOX")")")" || status=1
fi
exit $status
