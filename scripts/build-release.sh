#!/bin/sh
# Builds gowarden the way install.sh installs it and prints the binary's path on stdout.
#
# On Linux with glibc the binary is linked statically and not position-independent: with no
# dynamic loader and no relocations to process, a process starts with ~60 fewer page faults,
# which is most of what the shim costs over exec'ing go directly (benches/overhead.sh: about
# 0.35 ms less per `go` call on a 2-core VM). User and group *names* still come through NSS:
# glibc's `files` backend is built in, and other NSS modules (sssd, ldap, systemd) are loaded
# at run time from the machine's glibc, which must then be the glibc this was built with, as
# it is when the binary is built on the machine or image it runs on. Set GOWARDEN_DYNAMIC=1
# for an ordinary dynamically linked build (e.g. a binary copied to other distributions).
#
# Environment: CARGO and RUSTC name the tools; RUSTFLAGS is kept and added to.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd -P)
cargo=${CARGO:-cargo}
rustc=${RUSTC:-rustc}
host=$("$rustc" -vV | sed -n 's/^host: //p')
target=""
flags=""
if [ "${GOWARDEN_DYNAMIC:-0}" != 1 ]; then
    case $host in
        *-linux-gnu)
            # --target keeps these flags off build scripts and proc-macros, which must stay
            # dynamic libraries.
            target="--target=$host"
            flags="-C target-feature=+crt-static -C relocation-model=static"
            ;;
    esac
fi
messages=$(mktemp)
trap 'rm -f "$messages"' EXIT
# The JSON messages name the executable wherever the target dir is (CARGO_TARGET_DIR,
# .cargo/config.toml); diagnostics still go to the terminal (stderr).
# shellcheck disable=SC2086 # $target is one word or none
RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$flags" "$cargo" build --release --locked \
    --manifest-path "$repo/Cargo.toml" $target --message-format=json-render-diagnostics \
    >"$messages"
binary=$(sed -n 's/.*"executable":"\([^"]*\/gowarden\)".*/\1/p' "$messages" | tail -n 1)
[ -n "$binary" ] || { echo "build-release: cargo named no gowarden executable" >&2; exit 1; }
printf '%s\n' "$binary"
