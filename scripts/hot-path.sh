#!/usr/bin/env bash
# Regenerates scripts/hot-path.ld, the linker script that puts the shim's hot code together.
#
#   scripts/hot-path.sh [--binary FILE]
#
# Why: on a VM every page fault costs 2-3 µs, and code is faulted in 64 kB at a time (the
# kernel's fault-around). The functions a `go` call runs are about 0.9 MB of the 3.6 MB of
# code, but the linker scatters them among the CLI's, so a call faulted in 41 pieces of text.
# Placed together, before the rest of .text, they take 14 (docs/performance.md). The hot
# code has grown to 1.6 MB across all the calls profiled; a plain `go version` touched 24 of
# its 25 windows until its own functions were placed first (11 now).
#
# How: runs the release binary (scripts/build-release.sh, or --binary) under callgrind for
# the calls benches/overhead.sh measures plus a few more the shim commonly makes, collects
# every function they entered up to the exec, and writes one input-section pattern per
# function. Rust's function names end in a hash that changes with the compiler, the
# dependencies and the profile, so the patterns leave it out (`...plan_with17h*`): a stale
# script still groups the same functions, and a function missing from it only costs a page
# fault. Run this again after large changes to the hot path; never needed for correctness.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    *) echo "usage: scripts/hot-path.sh [--binary FILE]" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null 2>&1 || { echo "hot-path: needs valgrind" >&2; exit 1; }
command -v cc >/dev/null 2>&1 || { echo "hot-path: needs a C compiler (cc)" >&2; exit 1; }
[ -n "$binary" ] || binary=$(scripts/build-release.sh)
binary=$(cd "$(dirname "$binary")" && pwd -P)/$(basename "$binary")
repo=$(pwd -P)

sb=$(mktemp -d)
trap '[ -n "${HOT_PATH_KEEP:-}" ] || rm -rf "$sb"' EXIT
version=go1.26.99
goroot="$sb/home/.local/share/gowarden/toolchains/$version"
mkdir -p "$goroot/bin" "$sb/shims" "$sb/project" "$sb/module/cmd/app"
cc -O2 -nostdlib -static -o "$goroot/bin/go" benches/overhead/noop.c
printf '%s\ntime 2024-01-01T00:00:00Z\n' "$version" >"$goroot/VERSION"
ln -s "$binary" "$sb/shims/go"
ln -s "$binary" "$sb/shims/gofmt"
echo "${version#go}" >"$sb/project/.go-version"
printf 'module corp.example/pay/app\n\ngo 1.22\n\ntoolchain go1.26.99\n' >"$sb/module/go.mod"
printf 'package main\n\nfunc main() {}\n' >"$sb/module/cmd/app/main.go"
cp policies/examples/enterprise.toml "$sb/enterprise.toml"

# The functions are written in three groups, each after the one before, since a call
# faults in the 64 kB windows of text its own functions fall in: those of a plain `go
# version` under the embedded default policy (the call every bench row and most editor
# calls make) first, then the other default-policy calls', then the enterprise example's.
: >"$sb/names.1"
: >"$sb/names.2"
: >"$sb/names.3"
names="$sb/names.1"
n=0
# One call under callgrind, its profile dumped just before the exec (the process never
# exits): profile DIR TOOL ARG...; $extra holds the scenario's environment, $names the
# group's file.
profile() {
  local dir=$1 tool=$2
  shift 2
  n=$((n + 1))
  (cd "$dir" && env -i PATH="$sb/shims:/usr/bin:/bin" HOME="$sb/home" \
    XDG_CONFIG_HOME="$sb/home/.config" XDG_DATA_HOME="$sb/home/.local/share" \
    XDG_STATE_HOME="$sb/home/.local/state" XDG_CACHE_HOME="$sb/home/.cache" "${extra[@]}" \
    valgrind --tool=callgrind --demangle=no --dump-before='*execve*' \
      --callgrind-out-file="$sb/cg.$n" "$sb/shims/$tool" "$@" >/dev/null 2>&1) || true
  cat "$sb"/cg."$n" "$sb"/cg."$n".* >>"$names" 2>/dev/null || true
}
for policy in default enterprise; do
  extra=()
  [ "$policy" = default ] || extra=(GOWARDEN_POLICY="$sb/enterprise.toml")
  # Each twice: the first call also creates the audit log and the caches.
  for _ in 1 2; do
    if [ "$policy" = default ]; then names="$sb/names.1"; else names="$sb/names.3"; fi
    profile "$sb/project" go version
    [ "$policy" = default ] && names="$sb/names.2"
    profile "$sb/module" go build ./...
    profile "$sb/module" go test -run X ./...
    profile "$sb/module" go env GOPATH
    profile "$sb/module" gofmt -l .
  done
done

# callgrind names each function once per file as `fn=(id) name` or `cfn=(id) name`; a
# trailing 'N marks a recursion level. Rust's legacy names end in 17h<hash>E, which the
# pattern replaces with a wildcard; std's v0 names (_R...) and libc's have no hash.
# valgrind runs SHA-256 without the CPU's SHA extensions, so that variant is named by hand.
functions_of() {
  sed -nE "s/^c?fn=\([0-9]+\) (.*)$/\1/p" "$1" | sed -E "s/'[0-9]+$//" |
    grep -E '^[_A-Za-z][_A-Za-z0-9.$]*$' | sed -E 's/17h[0-9a-f]{16}E$/17h*/' |
    LC_ALL=C sort -u
}
: >"$sb/functions"
for g in 1 2 3; do
  functions_of "$sb/names.$g" >"$sb/group"
  [ "$g" != 1 ] || echo '_ZN4sha26sha2567x86_sha*' >>"$sb/group"
  # Each group without what an earlier one placed.
  LC_ALL=C sort -u "$sb/group" | LC_ALL=C comm -23 - <(LC_ALL=C sort -u "$sb/functions") >"$sb/new"
  cat "$sb/new" >>"$sb/functions"
done
out=scripts/hot-path.ld
{
  echo "/* The shim's hot code, placed before the rest of .text so that a go call faults in"
  echo " * few pages of code. Generated by scripts/hot-path.sh (see there); used by"
  echo " * scripts/build-release.sh. A function missing here costs a page fault, nothing else. */"
  echo "SECTIONS"
  echo "{"
  echo "  .text.hot : {"
  # The C start-up code has no function sections.
  echo "    *crt1.o(.text .text.*)"
  # LLVM puts a function it deems cold (std's #[cold] OnceLock::initialize) in
  # .text.unlikely.NAME; musl's functions are NAME.lo in libc.a, some without a section of
  # their own.
  sed -E 's/^(_[ZR].*)$/    *(.text.\1 .text.unlikely.\1)/; t; s/^(.*)$/    *(.text.\1) *libc.a:\1.lo(.text)/' \
    "$sb/functions"
  echo "  }"
  echo "}"
  echo "INSERT BEFORE .text;"
} >"$repo/$out.new"
mv "$repo/$out.new" "$repo/$out"
echo "hot-path: $(grep -c '^    \*' "$repo/$out") functions in $out" >&2
# cargo does not know that the link reads this file: make the next build link again.
touch src/main.rs
