#!/usr/bin/env bash
# Builds the Debian package of wawebd and wawebctl and prints the path of the .deb.
#
#   scripts/package.sh            # release build (thin LTO), then target/debian/wawebd_*.deb
#
# Steps: the release binaries of both crates; from them the man pages and completions (rendered
# from the clap definitions, so they match --help); the units from systemd/ with ExecStart=
# pointing at /usr/bin/wawebd; then `cargo deb --no-build` with the metadata in
# daemon/Cargo.toml. Everything generated goes below target/release/package/, which the asset
# list names. Installs cargo-deb with `cargo install --locked` when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# The asset list and unit-scripts in daemon/Cargo.toml name ./target; a target dir elsewhere
# would package stale files.
export CARGO_TARGET_DIR="$PWD/target"
release=target/release
out=$release/package

if ! cargo deb --version >/dev/null 2>&1; then
    echo "package.sh: installing cargo-deb" >&2
    cargo install --locked cargo-deb
fi

cargo build --release --locked -p wawebd -p wawebctl

rm -rf "$out"
mkdir -p "$out/completions" "$out/user" "$out/system"
"$release/wawebd" man --out "$out/man"
"$release/wawebctl" man --out "$out/man"
# Debian wants them compressed; cargo-deb compresses only assets outside target/release.
gzip -9n "$out/man"/*.1
for bin in wawebd wawebctl; do
    "$release/$bin" completions bash >"$out/completions/$bin.bash"
    "$release/$bin" completions zsh >"$out/completions/_$bin"
    "$release/$bin" completions fish >"$out/completions/$bin.fish"
done

# One source of truth for the units: the files in systemd/, with only the binary's path
# changed. The user units say %h/.cargo/bin (cargo install), the system units /usr/local/bin.
packaged_unit() {
    local source=$1 target=$2
    if [ ! -f "$source" ]; then
        echo "package.sh: $source is missing" >&2
        exit 1
    fi
    sed -E 's#^ExecStart=(%h/\.cargo/bin|/usr/local/bin)/wawebd( |$)#ExecStart=/usr/bin/wawebd\2#' \
        "$source" >"$target"
    # Every ExecStart= must now run the packaged binary; anything else is a unit this script
    # does not know how to rewrite.
    if grep -E '^ExecStart=' "$target" | grep -qvE '^ExecStart=(/usr/bin/wawebd( |$)|$)'; then
        echo "package.sh: $source has an ExecStart= that is not rewritten to /usr/bin/wawebd:" >&2
        grep -E '^ExecStart=' "$source" >&2
        exit 1
    fi
}
packaged_unit systemd/wawebd.service "$out/user/wawebd.service"
packaged_unit systemd/wawebd@.service "$out/user/wawebd@.service"
packaged_unit systemd/wawebd-system.service "$out/system/wawebd.service"
packaged_unit systemd/wawebd-system@.service "$out/system/wawebd@.service"
# debhelper's name for a package's sysusers file; cargo-deb installs it as
# /usr/lib/sysusers.d/wawebd.conf and runs systemd-sysusers in postinst.
cp systemd/wawebd.sysusers.conf "$out/system/wawebd.sysusers"
# Likewise /usr/lib/tmpfiles.d/wawebd.conf, applied with systemd-tmpfiles in postinst.
cp systemd/wawebd.tmpfiles.conf "$out/system/wawebd.tmpfile"

# --strip: the release profile keeps line tables for backtraces; the package does not need them.
deb=$(cargo deb -p wawebd --no-build --locked --strip 2>"$out/cargo-deb.log" | tail -n 1) || {
    cat "$out/cargo-deb.log" >&2
    exit 1
}
grep -v '^warning: Only source paths' "$out/cargo-deb.log" >&2 || true
echo "$deb"
