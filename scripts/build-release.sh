#!/bin/sh
# Builds gowarden the way install.sh installs it and prints the binary's path on stdout.
#
# On Linux (x86_64, aarch64) the binary is linked statically against musl and is not
# position-independent (`-C relocation-model=static`): no dynamic loader, no relocations, and
# none of glibc's start-up (its CPU-feature probing traps to the hypervisor on VMs), which is
# most of what the shim costs over exec'ing go directly: about +0.55 ms per `go` call against
# +0.9 ms for a static glibc build and +1.4 ms for an ordinary dynamic one on a 2-core VM
# (benches/overhead.sh). gowarden makes no NSS calls (src/identity: /etc/passwd and
# /etc/group are read directly, other sources are asked through getent(1)), so a static
# binary sees every user and group the machine's own tools see.
#
# The musl target is added with rustup when rustup is there. Where it cannot be added, the
# build falls back to a static glibc one (correct too, since no NSS; slower to start) with a
# one-line notice. GOWARDEN_DYNAMIC=1 builds an ordinary dynamically linked binary.
#
# Environment: CARGO, RUSTC and RUSTUP name the tools; RUSTFLAGS is kept and added to.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd -P)
cargo=${CARGO:-cargo}
rustc=${RUSTC:-rustc}
rustup=${RUSTUP:-rustup}
host=$("$rustc" -vV | sed -n 's/^host: //p')
target=""
flags=""

# Whether the standard library for target $1 is installed for this rustc.
has_std() {
    libdir=$("$rustc" --print target-libdir --target "$1" 2>/dev/null) || return 1
    ls "$libdir"/libstd-*.rlib >/dev/null 2>&1
}

if [ "${GOWARDEN_DYNAMIC:-0}" != 1 ]; then
    case $host in
        x86_64-unknown-linux-* | aarch64-unknown-linux-*)
            musl="${host%%-*}-unknown-linux-musl"
            if ! has_std "$musl" && command -v "$rustup" >/dev/null 2>&1; then
                "$rustup" target add "$musl" >/dev/null 2>&1 || true
            fi
            if has_std "$musl"; then
                target="--target=$musl"
            elif [ "${host##*-}" = gnu ]; then
                echo "build-release: cannot add the Rust target $musl (rustup target add $musl);" \
                    "building a static glibc binary instead (correct, about 0.4 ms slower per go call)" >&2
                target="--target=$host"
            fi
            ;;
        *-linux-gnu)
            target="--target=$host"
            ;;
    esac
    # --target keeps these flags off build scripts and proc-macros, which must stay dynamic
    # libraries.
    [ -z "$target" ] || flags="-C target-feature=+crt-static -C relocation-model=static"
    # The shim's hot code together, before the rest of .text (scripts/hot-path.ld, made by
    # scripts/hot-path.sh): on a VM each page fault costs 2-3 µs, and a go call faulted its
    # code in 41 pieces spread over the whole 3.6 MB, 14 once grouped. GNU ld and lld both
    # read the INSERT form, which adds to their default layout rather than replacing it.
    [ -z "$target" ] || flags="$flags -C link-arg=-Wl,-T,$repo/scripts/hot-path.ld"
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
