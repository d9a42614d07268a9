#!/usr/bin/env bash
# bench/download.sh: download throughput of fleetbox's fetch layer (src/fetch, the code behind
# `--image https://...`) against `curl -o` of the same file from the same server, in one run.
#
# Target (issue 11): fleetbox >= 0.95 x curl (median of RUNS each).
# Benchmarks report, tests assert: a missed target is printed (MISS), never an exit status;
# a failed or wrong download (sha256 differs from the served file's) exits non-zero.
#
# The server is fleetbox-test-httpd (tests/support) on 127.0.0.1 serving a SIZE_MIB file of
# random bytes; nothing else is contacted. Runs alternate which client goes first, so a warm
# page cache or drifting load favours neither. Both write to the same directory. fleetbox
# also hashes (sha256) and fsyncs the file before renaming it into place; curl does neither,
# so the figure is the whole cost of a fleetbox download against a bare transfer. A third
# line, curl followed by sha256sum of the copy, is the same work done the usual way.
#
# Usage: bench/download.sh [BUILD_DIR]    (BUILD_DIR default: build/dev)
#   RUNS=N      downloads per client (default 3)
#   SIZE_MIB=N  file size (default 500)
#   WORK=dir    scratch directory (default: a new one under ${TMPDIR:-/var/tmp}); KEEP=1 keeps it
#               (WORK on a tmpfs, e.g. /dev/shm/x, leaves the disk out: the transfer alone)
# A busy machine makes wall times noisy; the cpu figures (user + sys of the client) are not.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$here/build/dev}
RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-500}
HTTPD=$BUILD/tests/fleetbox-test-httpd
FETCH=$BUILD/bench/fleetbox-bench-fetch

die() { echo "download.sh: $*" >&2; exit 1; }
[[ -x $HTTPD ]] || die "no $HTTPD (build the tests)"
[[ -x $FETCH ]] || die "no $FETCH (build the benchmarks)"
command -v curl >/dev/null || die "curl is not installed"
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time, package time) is not installed"

WORK=${WORK:-$(mktemp -d "${TMPDIR:-/var/tmp}/fbx-bench-download.XXXXXX")}
mkdir -p "$WORK/srv" "$WORK/out"
httpd_pid=
cleanup() {
    [[ -n $httpd_pid ]] && kill "$httpd_pid" 2>/dev/null && wait "$httpd_pid" 2>/dev/null
    [[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT

# Loopback only: no proxy from the environment may see (or slow) either client.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "preparing a ${SIZE_MIB} MiB file of random bytes ..."
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$WORK/srv/image.raw"
want=$(sha256sum "$WORK/srv/image.raw" | cut -d' ' -f1)
bytes=$(stat -c %s "$WORK/srv/image.raw")

coproc HTTPD_PROC { exec "$HTTPD" "$WORK/srv"; }
httpd_pid=$HTTPD_PROC_PID
read -r port <&"${HTTPD_PROC[0]}" || die "fleetbox-test-httpd printed no port"
url="http://127.0.0.1:$port/image.raw"

# Each runs one download under GNU time and prints "<wall s> <cpu s>" (cpu = user + sys of
# the client process: what the download costs the machine, independent of other load).
timed() {
    local t=$WORK/out/time
    /usr/bin/time -f '%e %U %S' -o "$t" "$@" >"$WORK/out/stdout" || return 1
    awk '{printf "%s %.2f\n", $1, $2 + $3}' "$t"
}
run_curl() {
    local out=$WORK/out/curl.raw r
    rm -f "$out"
    r=$(timed curl -sS --fail -o "$out" "$url") || die "curl failed"
    [[ $(sha256sum "$out" | cut -d' ' -f1) == "$want" ]] || die "curl's copy differs"
    rm -f "$out"
    echo "$r"
}
# The same work as fleetbox (the file and its checksum): curl, then sha256sum of the copy.
run_curl_sum() {
    local out=$WORK/out/curlsum.raw r
    rm -f "$out"
    # shellcheck disable=SC2016 # expanded by the inner sh
    r=$(timed sh -c 'curl -sS --fail -o "$1" "$2" && sha256sum "$1"' sh "$out" "$url") || die "curl failed"
    [[ $(cut -d' ' -f1 "$WORK/out/stdout") == "$want" ]] || die "curl's copy differs"
    rm -f "$out"
    echo "$r"
}
run_fleetbox() {
    local out=$WORK/out/fleetbox.raw r
    rm -f "$out" "$out.part" "$out.part.validator"
    r=$(timed "$FETCH" "$url" "$out") || die "fleetbox-bench-fetch failed"
    [[ $(cut -d' ' -f3 "$WORK/out/stdout") == "$want" ]] || die "fleetbox reported a different sha256"
    [[ $(sha256sum "$out" | cut -d' ' -f1) == "$want" ]] || die "fleetbox's copy differs"
    rm -f "$out"
    echo "$r"
}

curl_s=() fbx_s=() sum_s=() curl_cpu=() fbx_cpu=() sum_cpu=()
for ((i = 1; i <= RUNS; i++)); do
    if ((i % 2)); then
        read -r fw fc <<<"$(run_fleetbox)"; read -r cw cc <<<"$(run_curl)"; read -r sw sc <<<"$(run_curl_sum)"
    else
        read -r sw sc <<<"$(run_curl_sum)"; read -r cw cc <<<"$(run_curl)"; read -r fw fc <<<"$(run_fleetbox)"
    fi
    fbx_s+=("$fw") fbx_cpu+=("$fc") curl_s+=("$cw") curl_cpu+=("$cc") sum_s+=("$sw") sum_cpu+=("$sc")
    printf 'run %d: fleetbox %.2f s (cpu %.2f s), curl %.2f s (cpu %.2f s), curl+sha256sum %.2f s (cpu %.2f s)\n' \
        "$i" "$fw" "$fc" "$cw" "$cc" "$sw" "$sc"
done

mib=$(echo "$bytes / 1048576" | bc -l)
fbx_med=$(median "${fbx_s[@]}")
curl_med=$(median "${curl_s[@]}")
fbx_rate=$(echo "$mib / $fbx_med" | bc -l)
curl_rate=$(echo "$mib / $curl_med" | bc -l)
sum_med=$(median "${sum_s[@]}")
sum_rate=$(echo "$mib / $sum_med" | bc -l)
ratio=$(echo "$fbx_rate / $curl_rate" | bc -l)
ratio_sum=$(echo "$fbx_rate / $sum_rate" | bc -l)
printf 'download of %.0f MiB over loopback, median of %d:\n' "$mib" "$RUNS"
printf '  fleetbox fetch  %8.1f MiB/s  (%.2f s, cpu %.2f s)\n' "$fbx_rate" "$fbx_med" "$(median "${fbx_cpu[@]}")"
printf '  curl -o         %8.1f MiB/s  (%.2f s, cpu %.2f s)\n' "$curl_rate" "$curl_med" "$(median "${curl_cpu[@]}")"
printf '  curl + sha256sum %7.1f MiB/s  (%.2f s, cpu %.2f s; the same work as fleetbox)\n' "$sum_rate" "$sum_med" "$(median "${sum_cpu[@]}")"
verdict=ok
(($(echo "$ratio >= 0.95" | bc -l))) || verdict=MISS
printf '  ratio           %8.2f x curl -o (target >= 0.95 x): %s\n' "$ratio" "$verdict"
printf '                  %8.2f x curl + sha256sum\n' "$ratio_sum"
