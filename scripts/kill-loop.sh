#!/usr/bin/env bash
# SIGKILL at random moments, many rounds (issue 13; the suite runs 20 in daemon/tests/faults_kill.rs).
# Runs the test in batches of BATCH rounds (default 50), one fresh pairing per batch, with seeds
# SEED, SEED+1, ... (SEED default: from the clock, printed). Stops at the first failure and prints
# the command that repeats it. Usage: scripts/kill-loop.sh ROUNDS [SEED] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:?usage: scripts/kill-loop.sh ROUNDS [SEED] [BATCH]}
seed=${2:-$(date +%s)}
batch=${3:-50}
cargo test -q -p wawebd --test faults_kill --no-run
done_rounds=0
first=$seed
while [ "$done_rounds" -lt "$rounds" ]; do
    n=$(( rounds - done_rounds < batch ? rounds - done_rounds : batch ))
    if ! output=$(FAULTS_SEED=$seed FAULTS_ROUNDS=$n \
        cargo test -q -p wawebd --test faults_kill -- --nocapture 2>&1); then
        echo "$output" | grep -v '^ *[0-9]*: \|^ *at ' | tail -40
        echo "FAILED: FAULTS_SEED=$seed FAULTS_ROUNDS=$n cargo test -p wawebd --test faults_kill"
        exit 1
    fi
    echo "seed $seed: $(echo "$output" | grep -o '[0-9]* kills (.*')"
    done_rounds=$(( done_rounds + n ))
    seed=$(( seed + 1 ))
done
echo "kill-loop: $done_rounds rounds, seeds $first..$(( seed - 1 )), 0 failures"
