#!/usr/bin/env bash
# Checks the Debian package that scripts/package.sh built:
#  - its file list is exactly scripts/package.contents (with --update: rewrite that list);
#  - unpacked into a throwaway root (dpkg -x), both binaries run and say the package's version;
#  - the units run /usr/bin/wawebd, the sysusers file is the repo's, postinst creates the user;
#  - the man pages are there, render, and name every subcommand --help lists;
#  - the completion scripts are there (bash: valid syntax).
#
#   scripts/check-package.sh [--update] [DEB]   # DEB: default, the newest target/debian/wawebd_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."

update=false
if [ "${1:-}" = --update ]; then
    update=true
    shift
fi
deb=${1:-$(ls -t target/debian/wawebd_*.deb 2>/dev/null | head -n 1)}
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
    echo "check-package.sh: no package; build it with scripts/package.sh" >&2
    exit 1
fi
expected=scripts/package.contents
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# The files (not folders), as absolute paths.
dpkg-deb -c "$deb" | awk '{ print $6 }' | grep -v '/$' | sed 's#^\./#/#' | sort >"$root/contents"
if $update; then
    cp "$root/contents" "$expected"
    echo "check-package.sh: wrote $expected ($(wc -l <"$expected") files)"
elif ! diff -u "$expected" "$root/contents"; then
    fail "the package's files differ from $expected (above; --update rewrites it)"
fi

dpkg-deb -x "$deb" "$root/fs"
dpkg-deb -e "$deb" "$root/control"
fs=$root/fs
version=$(dpkg-deb -f "$deb" Version)
version=${version%-*}
for bin in wawebd wawebctl; do
    said=$("$fs/usr/bin/$bin" --version) || fail "$bin --version failed"
    [ "$said" = "$bin $version" ] || fail "$bin --version says '$said', the package is $version"
done

for unit in "$fs"/usr/lib/systemd/user/*.service "$fs"/usr/lib/systemd/system/*.service; do
    if grep -E '^ExecStart=.' "$unit" | grep -qvE '^ExecStart=/usr/bin/wawebd( |$)'; then
        fail "${unit#"$fs"} does not run /usr/bin/wawebd"
    fi
done
cmp -s systemd/wawebd.sysusers.conf "$fs/usr/lib/sysusers.d/wawebd.conf" ||
    fail "/usr/lib/sysusers.d/wawebd.conf is not systemd/wawebd.sysusers.conf"
grep -q 'systemd-sysusers' "$root/control/postinst" || fail "postinst does not run systemd-sysusers"
# Nothing is started on install, and a unit is enabled again only if the admin had enabled it
# (cargo-deb's `enable = false` keeps `deb-systemd-helper enable` behind `was-enabled`).
if grep -qE 'deb-systemd-invoke (start|restart) |systemctl [^|]*(start|enable) ' "$root/control/postinst" ||
    { grep -q 'deb-systemd-helper enable' "$root/control/postinst" &&
        ! grep -q 'was-enabled' "$root/control/postinst"; }; then
    fail "postinst enables or starts a unit"
fi

man=$fs/usr/share/man/man1
for bin in wawebd wawebctl; do
    page="$man/$bin.1.gz"
    [ -f "$page" ] || { fail "no man page $bin.1.gz"; continue; }
    text=$(zcat "$page" | sed 's/\\-/-/g')
    commands=$("$fs/usr/bin/$bin" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
    [ -n "$commands" ] || fail "$bin --help lists no subcommands"
    for command in $commands; do
        [ "$command" = help ] && continue
        [ -f "$man/$bin-$command.1.gz" ] || fail "no man page $bin-$command.1.gz"
        grep -qw -- "$command" <<<"$text" || fail "$bin.1 does not mention $command"
    done
done
if command -v man >/dev/null 2>&1; then
    for page in "$man"/*.1.gz; do
        MANWIDTH=80 man -l "$page" >/dev/null 2>"$root/man.err" || fail "man -l ${page##*/} failed"
        [ -s "$root/man.err" ] && fail "man -l ${page##*/}: $(cat "$root/man.err")"
    done
else
    echo "check-package.sh: man is not installed; the pages were not rendered"
fi

for bin in wawebd wawebctl; do
    bash -n "$fs/usr/share/bash-completion/completions/$bin" || fail "bash completion of $bin"
    grep -q "$bin" "$fs/usr/share/zsh/vendor-completions/_$bin" || fail "zsh completion of $bin"
    grep -q "complete -c $bin" "$fs/usr/share/fish/vendor_completions.d/$bin.fish" ||
        fail "fish completion of $bin"
done

if [ "$failures" -ne 0 ]; then
    echo "check-package.sh: $failures check(s) failed for $deb" >&2
    exit 1
fi
echo "check-package.sh: $deb is good ($(wc -l <"$root/contents") files)"
