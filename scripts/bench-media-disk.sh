#!/usr/bin/env bash
# Media on a real disk (issue 14, target 4), every case in one invocation, alternating per run:
# `openssl dgst -sha256 -hmac` over the encrypted body and `dd bs=1M conv=fsync` of the same size
# (the peers), `wawebd media decrypt` to a file with and without the early writeback,
# `media_download` from the simulator's loopback media host through a paired daemon, and
# `send_media` against `wawebd media encrypt`. Prints each run, then a table of medians and peak
# RSS with each ratio against its target (daemon/examples/disk_media_bench.rs).
#
#   scripts/bench-media-disk.sh [MIB] [RUNS]        (default: 1024 MiB, 3 runs)
#
# BENCH_DIR is where the files go (in a fresh folder; default /tmp), which must be a disk (ext4
# here), not tmpfs. As root the page cache is dropped before each case (DROP_CACHES=0 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-1024}
runs=${2:-3}
[[ -x /usr/bin/time ]] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 1; }
cargo build --release -q -p wawebd --bin wawebd --example disk_media_bench
# The example makes (and removes) its own folder in BENCH_DIR.
export BENCH_DIR=${BENCH_DIR:-/tmp}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (figures are only meaningful on a quiet machine)"
"${CARGO_TARGET_DIR:-target}/release/examples/disk_media_bench" "$mib" "$runs"
