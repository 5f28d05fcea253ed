#!/usr/bin/env bash
# The whole daemon under load, release build: `wawebd sim` floods COUNT messages over the
# loopback websocket as fast as it can, the daemon opens, decodes, journals and serves them to one
# subscriber reading the socket; then LATENCY_COUNT messages at LATENCY_RATE per second, timed from
# the frame being built to its line being read. Prints the simulator's own sending time beside
# the daemon's, and checks every message arrived once, in order.
# Usage: scripts/bench-daemon.sh [COUNT] [LATENCY_RATE] [LATENCY_COUNT] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200000}
rate=${2:-1000}
latency_count=${3:-10000}
runs=${4:-3}
cargo build --release -q -p wawebd --bin wawebd --example loadgen
for run in $(seq 1 "$runs"); do
    echo "run $run:"
    target/release/examples/loadgen "$count" "$rate" "$latency_count" | sed -n '1,2p'
done
