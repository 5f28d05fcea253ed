#!/usr/bin/env bash
# Runs the fuzz targets (all by default) for SECONDS each and prints target / executions /
# exec/s / result. Exits non-zero on any crash; the artifact stays in fuzz/artifacts/TARGET/.
# Nightly (with AddressSanitizer) when `cargo +nightly` works, else stable with `-s none`.
# fuzz/seeds/TARGET (scripts/fuzz-seeds.sh, from the test vectors) is read as a second corpus
# dir: new inputs go to fuzz/corpus/TARGET only. FUZZ_SEEDS=0 leaves the seeds out.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
if cargo +nightly --version >/dev/null 2>&1; then run=(cargo +nightly fuzz run -O); else run=(cargo fuzz run -s none -O); fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
failed=0
printf '%-18s %14s %10s %7s  %s\n' target executions exec/s cov result
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    log=$(mktemp)
    dict=()
    seeds=()
    [ "${FUZZ_SEEDS:-1}" != 0 ] && [ -d "seeds/$target" ] && seeds=("seeds/$target")
    [ -f "dicts/$target.dict" ] && dict=(-dict="dicts/$target.dict")
    if "${run[@]}" "$target" "corpus/$target" "${seeds[@]}" -- -max_total_time="$seconds" -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
        result=ok
    else
        artifact=$(grep -o 'artifacts/[^ ]*' "$log" | tail -1)
        # No artifact: the build or the run failed before fuzzing; its log is kept to read.
        if [ -n "$artifact" ]; then result="CRASH $artifact"; else result="FAILED, log: $log"; fi
        failed=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
    # The last status line's edge coverage (`cov:`), corpus and seeds included.
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    printf '%-18s %14s %10s %7s  %s\n' "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$result"
    [ "$result" = ok ] && rm -f "$log"
done
exit $failed
