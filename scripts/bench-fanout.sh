#!/usr/bin/env bash
# Fan-out and latency of the whole daemon, journal on, release build (daemon/examples/fanout.rs):
# SUBSCRIBERS subscribers reading `message` events plus one that subscribes and never reads,
# while `wawebd sim` floods RATE messages/s for SECONDS; then one subscriber at 1,000 messages/s
# for latency. Each of the two is run with the journal's group commit wait off
# (`[journal] commit_wait_us = 0`, the default) and on (WAIT_US), side by side in every run.
# Usage: scripts/bench-fanout.sh [RUNS] [SUBSCRIBERS] [RATE] [SECONDS] [WAIT_US]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
subscribers=${2:-64}
rate=${3:-20000}
seconds=${4:-5}
wait_us=${5:-1000}
cargo build --release -q -p wawebd --bin wawebd --example fanout
fanout=target/release/examples/fanout
for run in $(seq 1 "$runs"); do
    for wait in 0 "$wait_us"; do
        echo "run $run, fan-out, commit wait $wait µs:"
        "$fanout" --subscribers "$subscribers" --stalled 1 --rate "$rate" --seconds "$seconds" \
            --commit-wait-us "$wait"
    done
    for wait in 0 "$wait_us"; do
        echo "run $run, latency, commit wait $wait µs:"
        "$fanout" --subscribers 1 --stalled 0 --rate 1000 --seconds 10 --commit-wait-us "$wait"
    done
done
