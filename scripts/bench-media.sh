#!/usr/bin/env bash
# Times `wawebd media decrypt` on a 1 GiB random file and compares it with the single-core
# HMAC-SHA256 throughput of `openssl speed`, which bounds any verified media decryption (the MAC
# is serial). Prints throughput (MB/s = 10^6 bytes/s, as openssl reports, and MiB/s) and peak RSS.
#
#   scripts/bench-media.sh [RUNS]
#
# BENCH_DIR chooses where the 1 GiB body and the plaintext go (default: /dev/shm when writable,
# so the figure is about decryption rather than the disk; point it at a disk to include fsync).
# SETTLE is the pause in seconds before each timed run (default 3): removing the previous 1 GiB
# output frees its pages in the background, which otherwise competes for the second core.
set -euo pipefail

runs=${1:-5}
settle=${SETTLE:-3}
cd "$(dirname "$0")/.."

cargo build --release -p wawebd --quiet
bin="${CARGO_TARGET_DIR:-target}/release/wawebd"

base=${BENCH_DIR:-}
if [[ -z $base ]]; then
    if [[ -d /dev/shm && -w /dev/shm ]]; then base=/dev/shm; else base=${TMPDIR:-/tmp}; fi
fi
dir=$(mktemp -d "$base/wawebd-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# measure CMD... : runs CMD, sets $wall (seconds), $rss (peak RSS, KiB) and $invol (involuntary
# context switches: more than a few dozen means another process took a core, and the run is
# not representative).
if [[ -x /usr/bin/time ]]; then
    measure() {
        /usr/bin/time -f '%e %M %c' -o "$dir/time" "$@"
        read -r wall rss invol < "$dir/time"
    }
else
    # No GNU time: wall time from bash, peak RSS by polling VmHWM while the process runs.
    measure() {
        local start end pid hwm
        start=$(date +%s.%N)
        "$@" &
        pid=$!
        rss=0
        invol='?'
        while kill -0 "$pid" 2>/dev/null; do
            hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [[ -n $hwm && $hwm -gt $rss ]] && rss=$hwm
            sleep 0.01
        done
        wait "$pid"
        end=$(date +%s.%N)
        wall=$(echo "$end - $start" | bc -l)
    }
fi

rate() { # bytes seconds -> "MB/s MiB/s"
    awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f MB/s (%.0f MiB/s)", b / s / 1e6, b / s / 1048576 }'
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (figures are only meaningful on a quiet machine)"
echo "files in $dir"
head -c $((1 << 30)) /dev/urandom > "$dir/plain"
key=$(head -c 32 /dev/urandom | base64 -w0)
measure "$bin" media encrypt --type video --key "$key" --input "$dir/plain" --output "$dir/body" \
    > "$dir/summary.json"
size=$(stat -c %s "$dir/body")
echo "encrypt 1 GiB: ${wall} s, $(rate $((1 << 30)) "$wall"), peak RSS ${rss} KiB"
field() { sed -E "s/.*\"$1\":\"?([^\",}]*).*/\1/" "$dir/summary.json"; }
file_sha256=$(field file_sha256)
file_enc_sha256=$(field file_enc_sha256)
file_length=$(field file_length)
rm "$dir/plain"

decrypt=("$bin" media decrypt --type video --key "$key" --input "$dir/body")
best=
walls=()
for ((i = 1; i <= runs; i++)); do
    rm -f "$dir/out"
    sleep "$settle"
    measure "${decrypt[@]}" --output "$dir/out"
    echo "decrypt to file, run $i: ${wall} s, $(rate "$size" "$wall"), peak RSS ${rss} KiB, ${invol} involuntary switches"
    walls+=("$wall")
    if [[ -z $best ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$wall; fi
done

rm -f "$dir/out"
sleep "$settle"
measure env TMPDIR="$dir" "${decrypt[@]}" --output - > /dev/null
echo "decrypt to stdout (spooled in the same folder, then copied to /dev/null): ${wall} s, $(rate "$size" "$wall"), peak RSS ${rss} KiB, ${invol} involuntary switches"

rm -f "$dir/out"
sleep "$settle"
measure "${decrypt[@]}" --output "$dir/out" \
    --file-sha256 "$file_sha256" --file-enc-sha256 "$file_enc_sha256" --file-length "$file_length"
echo "decrypt to file, checking fileSha256, fileEncSha256 and fileLength: ${wall} s, $(rate "$size" "$wall"), peak RSS ${rss} KiB, ${invol} involuntary switches"
rm -f "$dir/out"

# The same bytes copied by dd, under the same conditions: what reading and writing 1 GiB
# through this folder costs without any cryptography.
rm -f "$dir/copy"
sleep "$settle"
measure dd if="$dir/body" of="$dir/copy" bs=1M status=none
echo "dd copy of the body (no crypto): ${wall} s, $(rate "$size" "$wall")"
rm -f "$dir/copy"

echo "openssl speed -seconds 2 -bytes 65536 -hmac sha256:"
hmac_k=$(openssl speed -seconds 2 -bytes 65536 -hmac sha256 2> /dev/null | awk '/^hmac\(sha256\)/ { sub("k", "", $2); print $2 }')
hmac_mb=$(awk -v k="$hmac_k" 'BEGIN { printf "%.0f", k / 1000 }')
best_mb=$(awk -v b="$size" -v s="$best" 'BEGIN { printf "%.0f", b / s / 1e6 }')
echo "  HMAC-SHA256, one core: ${hmac_mb} MB/s"
median=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ w[NR] = $1 } END { print w[int((NR + 1) / 2)] }')
echo "median decrypt to file: ${median} s, $(rate "$size" "$median")"
echo "best decrypt to file: ${best_mb} MB/s = $(awk -v a="$best_mb" -v b="$hmac_mb" 'BEGIN { printf "%.0f", 100 * a / b }')% of openssl HMAC-SHA256"
