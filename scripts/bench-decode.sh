#!/usr/bin/env bash
# Times the real `wawebd decode --stream` on N typical relay frames (open: HMAC + AES-CBC,
# decode the node, write one JSON line each). Usage: scripts/bench-decode.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
cargo build --release -q -p wawebd --bin wawebd --example make_frames
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
keys=$(target/release/examples/make_frames "$count" 2>&1 >"$work/frames.bin" | tail -1)
enc=${keys#ENC_KEY=}; enc=${enc%% *}
mac=${keys#*MAC_KEY=}
echo "frames: $count ($(stat -c %s "$work/frames.bin") bytes)"
start=$(date +%s.%N)
target/release/wawebd decode --enc-key "$enc" --mac-key "$mac" --stream <"$work/frames.bin" >"$work/out.jsonl"
end=$(date +%s.%N)
lines=$(wc -l <"$work/out.jsonl")
errors=$(grep -c '"error"' "$work/out.jsonl" || true)
awk -v n="$lines" -v s="$start" -v e="$end" -v err="$errors" \
    'BEGIN { t = e - s; printf "decoded: %d lines (%d errors) in %.3f s = %.0f frames/s\n", n, err, t, n / t }'
