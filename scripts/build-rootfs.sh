#!/bin/sh
# Builds a minimal Debian bookworm root filesystem with debootstrap and keeps it as a tarball,
# for the tests that run image builds (the Dev Container Feature, shims/ci/Dockerfile) under
# chroot instead of a container engine. Prints the tarball's path on stdout.
#
# It is `debootstrap --variant=minbase bookworm` plus gcc and libc6-dev, which the images it
# stands for have (rust:1-bookworm links with cc; golang:1.23-bookworm has them for cgo).
#
# Usage: scripts/build-rootfs.sh
#
# The tarball is bookworm-minbase-gcc.tar.zst in $GOWARDEN_ROOTFS_CACHE (default
# ~/.cache/gowarden-rootfs), built only when missing: delete it to rebuild. Needs root, debootstrap and zstd;
# DEBIAN_MIRROR names the mirror (default http://deb.debian.org/debian).
set -eu

cache=${GOWARDEN_ROOTFS_CACHE:-${HOME:?HOME is not set}/.cache/gowarden-rootfs}
tarball=$cache/bookworm-minbase-gcc.tar.zst
if [ -f "$tarball" ]; then
    printf '%s\n' "$tarball"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "build-rootfs: debootstrap needs root" >&2; exit 1; }
for tool in debootstrap zstd tar; do
    command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
    command -v "$tool" >/dev/null 2>&1 || { echo "build-rootfs: $tool not found" >&2; exit 1; }
done

mkdir -p "$cache"
# One build at a time (test binaries run in parallel); a waiter finds the tarball made.
exec 9>"$cache/.lock"
flock 9
if [ -f "$tarball" ]; then
    printf '%s\n' "$tarball"
    exit 0
fi
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Quiet unless it fails: then its log says why.
if ! debootstrap --variant=minbase --include=gcc,libc6-dev bookworm "$work/root" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/log" 2>&1; then
    tail -n 30 "$work/log" >&2
    echo "build-rootfs: debootstrap failed (log above)" >&2
    exit 1
fi
# What debootstrap downloaded is not part of the image.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
tar -C "$work/root" --numeric-owner -cf - . | zstd -q -T0 -o "$work/rootfs.tar.zst"
# Renamed into place whole, so a concurrent reader never sees half a tarball.
mv -f "$work/rootfs.tar.zst" "$tarball"
printf '%s\n' "$tarball"
