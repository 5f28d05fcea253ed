#!/usr/bin/env bash
# Checks the units in systemd/ the way daemon/tests/systemd_units.rs does, and prints the scores.
#
#   scripts/check-systemd.sh [-v] [PATH/TO/wawebd]
#
# - systemd-analyze verify --man=no on both units and both templates (as wawebd@alice; the user
#   ones with --user): must exit 0 and print nothing on stderr (an unknown key is only a
#   warning there, with exit status 0).
# - systemd-analyze security --offline=yes: the system unit must score 2.0 or better
#   (--threshold=20); the user unit's score is printed for information only.
#
# No running systemd is needed. verify wants an executable ExecStart=, so both units are checked
# as copies pointed at the built binary (default: target/debug/wawebd, built if missing).
# -v prints the full security tables. Exit status: 0 if all checks pass, 1 if one fails,
# 2 if systemd-analyze is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

verbose=0
if [[ ${1:-} == -v ]]; then
    verbose=1
    shift
fi

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not found (Debian/Ubuntu: apt-get install systemd)" >&2
    exit 2
fi

bin=${1:-target/debug/wawebd}
if [[ $# -eq 0 && ! -x $bin ]]; then
    echo "building $bin ..." >&2
    cargo build --quiet -p wawebd --bin wawebd
fi
[[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 1; }
bin=$(realpath "$bin")
case $bin in
    *[[:space:]\"\\]*) echo "cannot put $bin in ExecStart= (spaces, quotes or backslashes)" >&2; exit 1 ;;
esac
# In ExecStart= systemd expands %specifiers and $variables.
exec_bin=${bin//%/%%}
exec_bin=${exec_bin//\$/\$\$}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -m 0700 "$tmp/xdg-runtime" "$tmp/system" "$tmp/user"

export LC_ALL=C SYSTEMD_COLORS=0 SYSTEMD_PAGER=
unset SYSTEMD_LOG_LEVEL

# copy UNIT-FILE DIR [NAME]: DIR/NAME (default wawebd.service) with the ExecStart= program
# replaced, arguments kept.
copy() {
    awk -v bin="$exec_bin" '
        /^ExecStart=/ { n++; sub(/^ExecStart=[^ ]+/, "ExecStart=" bin) }
        { print }
        END { if (n != 1) { print "expected exactly one ExecStart= line" > "/dev/stderr"; exit 1 } }
    ' "systemd/$1" >"$2/${3:-wawebd.service}"
}
copy wawebd-system.service "$tmp/system"
copy wawebd.service "$tmp/user"
# The templates, checked as the instance wawebd@alice.service (systemd loads the template
# beside the instance name and fills in %i).
copy wawebd-system@.service "$tmp/system" wawebd@.service
copy wawebd@.service "$tmp/user" wawebd@.service

analyze_user() {
    XDG_RUNTIME_DIR="$tmp/xdg-runtime" systemd-analyze --user "$@"
}

failed=0

# verify NAME COMMAND...: the command must succeed with an empty stderr.
verify() {
    local name=$1 err rc=0
    shift
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    if [[ $rc -eq 0 && -z $err ]]; then
        echo "verify $name: clean"
    else
        echo "verify $name: FAILED (exit status $rc)"
        [[ -n $err ]] && sed 's/^/    /' <<<"$err"
        failed=1
    fi
}
verify "system unit (systemd/wawebd-system.service)" \
    systemd-analyze verify --man=no "$tmp/system/wawebd.service"
verify "user unit (systemd/wawebd.service, --user)" \
    analyze_user verify --man=no "$tmp/user/wawebd.service"
verify "system template (systemd/wawebd-system@.service as wawebd@alice)" \
    systemd-analyze verify --man=no "$tmp/system/wawebd@alice.service"
verify "user template (systemd/wawebd@.service as wawebd@alice, --user)" \
    analyze_user verify --man=no "$tmp/user/wawebd@alice.service"

score() { sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$1"; }
# What still costs points: "- Key=" lines in the C locale.
exposed() { grep -E '^- ' <<<"$1" | sed 's/^/    /' || true; }

rc=0
report=$(systemd-analyze security --offline=yes --threshold=20 "$tmp/system/wawebd.service") || rc=$?
system_score=$(score "$report")
if [[ $verbose -eq 1 ]]; then echo "$report"; fi
if [[ $rc -eq 0 && -n $system_score ]]; then
    echo "security system unit: $system_score (limit 2.0) OK; what still counts:"
    exposed "$report"
else
    echo "security system unit: ${system_score:-no score} (limit 2.0) FAILED (exit status $rc); what still counts:"
    exposed "$report"
    failed=1
fi

rc=0
report=$(analyze_user security --offline=yes "$tmp/user/wawebd.service") || rc=$?
user_score=$(score "$report")
if [[ $verbose -eq 1 ]]; then echo "$report"; fi
if [[ $rc -eq 0 && -n $user_score ]]; then
    echo "security user unit: $user_score (informational: the offline scorer rates a user unit as if"
    echo "    it ran as root with every capability; see systemd/README.md)"
else
    echo "security user unit: FAILED (exit status $rc)"
    failed=1
fi

exit $failed
