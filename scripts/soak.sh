#!/usr/bin/env bash
# Soak of the real binaries against `wawebd sim` (issue 13), outside the test suite:
# CYCLES reconnect + restore cycles, then MIXED seconds of mixed traffic, with the daemon's
# VmRSS, fds, threads, waweb.db and WAL sampled every SAMPLE seconds (daemon/examples/soak.rs).
# Prints the samples as CSV and a verdict per phase; exits non-zero on growth.
# Usage: scripts/soak.sh [CYCLES] [MIXED] [SAMPLE]   (defaults 3000 600 5)
# SOAK_PROFILE=release for release binaries (default: debug, the warm build). The daemon's own
# log (warn) goes to $SOAK_LOG (default /tmp/soak-daemon.log).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${SOAK_PROFILE:-debug}
flags=()
[ "$profile" = release ] && flags=(--release)
cargo build "${flags[@]}" -p wawebd --bin wawebd --example soak
exec "target/$profile/examples/soak" "${1:-3000}" "${2:-600}" "${3:-5}" 2>"${SOAK_LOG:-${TMPDIR:-/tmp}/soak-daemon.log}"
