#!/usr/bin/env bash
# Start-up and idle memory, release build (issue 14, target 5): a state directory with a stored
# session (paired once with `wawebd sim`), the same directory with CHATS chats and MESSAGES
# messages written into its store, and for each: time from exec to the socket accepting a
# connection over RUNS starts (median, p90), then VmRSS/VmHWM after connecting to the simulator
# and 2 s idle. Targets: start-up < 20 ms, idle RSS < 10 MiB with the full store.
# Usage: scripts/bench-idle.sh [CHATS] [MESSAGES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
chats=${1:-1000}
messages=${2:-1000000}
runs=${3:-20}
cargo build --release -q -p wawebd --bin wawebd --example idle_bench
target/release/examples/idle_bench "$chats" "$messages" "$runs"
