#!/usr/bin/env bash
# Login with a big account, release build (issue 14, target 3): the simulated phone has CHATS
# chats, CONTACTS contacts and PER_CHAT archived messages per chat, all pushed at login
# (`login_history`); RUNS restores into an empty store, each timed from spawning `wawebd` to
# `connected` and to the last history message stored, the store counted after each.
# Target: everything stored in under 2 s for 2,000 chats, 5,000 contacts, 20,000 messages.
# Usage: scripts/bench-login.sh [CHATS] [CONTACTS] [PER_CHAT] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p wawebd --bin wawebd --example login_bench
target/release/examples/login_bench "${1:-2000}" "${2:-5000}" "${3:-10}" "${4:-5}"
