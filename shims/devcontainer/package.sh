#!/bin/sh
# Makes a self-contained copy of the gowarden Dev Container Feature in DIR, to publish
# (`devcontainer features publish`) or to put in a project's .devcontainer/ folder.
#
# Usage: shims/devcontainer/package.sh DIR [--binary FILE]
#
# DIR gets devcontainer-feature.json, install.sh and gowarden-src/ (install.sh, shims/ and
# what scripts/build-release.sh needs to build); with --binary FILE also gowarden-bin, so the
# image needs no cargo. Build that binary for the image's C library (e.g. on the same Debian
# release).
set -eu

die() {
    printf 'package.sh: %s\n' "$*" >&2
    exit 1
}

[ $# -ge 1 ] || die "usage: shims/devcontainer/package.sh DIR [--binary FILE]"
out=$1
shift
binary=
case ${1:-} in
    --binary) [ $# -ge 2 ] || die "--binary needs a file"; binary=$2 ;;
    "") ;;
    *) die "unknown argument $1" ;;
esac
here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)

mkdir -p "$out/gowarden-src"
cp "$here/devcontainer-feature.json" "$here/install.sh" "$out/"
chmod 0755 "$out/install.sh"
# Timestamps kept: cargo sees an unchanged copy as unchanged.
for f in install.sh Cargo.toml Cargo.lock build.rs README.md src shims policies scripts; do
    cp -pR "$repo/$f" "$out/gowarden-src/"
done
if [ -n "$binary" ]; then
    cp "$binary" "$out/gowarden-bin"
    chmod 0755 "$out/gowarden-bin"
fi
printf 'package.sh: the feature is in %s\n' "$out"
