#!/usr/bin/env bash
# send_media of a file from disk to the simulator's loopback media host, against
# `wawebd media encrypt` of the same file in the same run (release build): the upload's target is
# at least 80% of the encryption's throughput. Prints each run, the medians and the daemon's peak
# RSS. The file, the encrypted output and the daemon's upload spool go in BENCH_DIR (default
# /dev/shm when writable).
#
#   scripts/bench-send-media.sh [MIB] [RUNS]        (default: 256 MiB, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-256}
runs=${2:-3}
cargo build --release -q -p wawebd --bin wawebd --example upload_bench
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (figures are only meaningful on a quiet machine)"
"${CARGO_TARGET_DIR:-target}/release/examples/upload_bench" "$mib" "$runs"
