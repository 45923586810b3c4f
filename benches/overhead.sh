#!/usr/bin/env bash
# What the shim adds to a go call, measured as issue 18 asks: interleaved pairs, medians.
#
#   benches/overhead.sh [--rounds N] [--binary FILE] [--enterprise POLICY]
#
# A small driver (benches/overhead/driver.c) runs every variant once per round, in an order
# that rotates each round, and prints per variant the median wall time of one run and the
# median of its per-round difference to the direct exec (so slow phases of a loaded machine
# hit both sides of each pair). The go every variant ends in is a static no-op with no libc
# (benches/overhead/noop.c: a raw exit syscall), in a GOROOT with a VERSION file, pinned by
# the project's .go-version. Variants:
#   direct             the fake go itself
#   hop, no libc       benches/overhead/floor.c: execve from _start; the floor of any exec hop
#   hop, static glibc  a static glibc C program that only execs: glibc's own start-up cost
#   gowarden default   the shim with the embedded default policy, its discovery left on
#                      (module cache, version managers, PATH, /usr/local/go) and its audit log
#   gowarden enterprise  the shim with policies/examples/enterprise.toml (roles, matrix, [env],
#                      audit with flush) as the user policy
# The shim is the binary install.sh builds (scripts/build-release.sh), or --binary FILE; the
# enterprise scenario's policy is policies/examples/enterprise.toml, or --enterprise POLICY (an
# older binary measured with the example of its own day).
# Default 1500 rounds (5 x 300, as issue 18 measured); the machine must be quiet for figures
# worth recording.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=1500
binary=""
enterprise=policies/examples/enterprise.toml
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --enterprise) enterprise="$2"; shift 2 ;;
    *) echo "usage: benches/overhead.sh [--rounds N] [--binary FILE] [--enterprise POLICY]" >&2; exit 2 ;;
  esac
done
command -v cc >/dev/null 2>&1 || { echo "bench: needs a C compiler (cc)" >&2; exit 1; }
[ -n "$binary" ] || binary=$(scripts/build-release.sh)
binary=$(cd "$(dirname "$binary")" && pwd -P)/$(basename "$binary")

sb=$(mktemp -d)
trap 'rm -rf "$sb"' EXIT
src=benches/overhead
cc -O2 -o "$sb/driver" "$src/driver.c"
cc -O2 -nostdlib -static -o "$sb/floor" "$src/floor.c"
printf '#include <unistd.h>\nint main(int c, char **v) { (void)c; execv(v[1], v + 1); return 127; }\n' >"$sb/hop.c"
glibc_hop=""
if cc -O2 -static -o "$sb/hop-glibc" "$sb/hop.c" 2>/dev/null; then glibc_hop="$sb/hop-glibc"; fi

version=go1.26.99
goroot="$sb/home/.local/share/gowarden/toolchains/$version"
mkdir -p "$goroot/bin" "$sb/shims" "$sb/project"
cc -O2 -nostdlib -static -o "$goroot/bin/go" "$src/noop.c"
printf '%s\ntime 2024-01-01T00:00:00Z\n' "$version" >"$goroot/VERSION"
ln -s "$binary" "$sb/shims/go"
echo "${version#go}" >"$sb/project/.go-version"
# The example pins its audit log to the shared /var/log/gowarden layout; the same pinned,
# flushed append goes into the sandbox instead, so a bench never writes the machine's logs.
mkdir -p "$sb/audit"
chmod 1733 "$sb/audit"
sed "s|/var/log/gowarden/|$sb/audit/|" "$enterprise" >"$sb/enterprise.toml"

cd "$sb/project"
# The sandbox's own HOME and XDG dirs: the machine's own config and logs do not count.
env -i PATH="$sb/shims:/usr/bin:/bin" HOME="$sb/home" XDG_CONFIG_HOME="$sb/home/.config" \
  XDG_DATA_HOME="$sb/home/.local/share" XDG_STATE_HOME="$sb/home/.local/state" \
  XDG_CACHE_HOME="$sb/home/.cache" \
  "$sb/driver" 20 direct "$goroot/bin/go" version ';;' \
    default "$sb/shims/go" version ';;' \
    enterprise GOWARDEN_POLICY="$sb/enterprise.toml" "$sb/shims/go" version >/dev/null || {
  echo "bench: a warm-up run failed (see above)" >&2; exit 1; }
args=(direct "$goroot/bin/go" version ';;' "hop, no libc" "$sb/floor" "$goroot/bin/go" version)
[ -z "$glibc_hop" ] || args+=(';;' "hop, static glibc" "$glibc_hop" "$goroot/bin/go" version)
args+=(';;' "gowarden default" "$sb/shims/go" version
       ';;' "gowarden enterprise" GOWARDEN_POLICY="$sb/enterprise.toml" "$sb/shims/go" version)
out=$(env -i PATH="$sb/shims:/usr/bin:/bin" HOME="$sb/home" XDG_CONFIG_HOME="$sb/home/.config" \
  XDG_DATA_HOME="$sb/home/.local/share" XDG_STATE_HOME="$sb/home/.local/state" \
  XDG_CACHE_HOME="$sb/home/.cache" "$sb/driver" "$rounds" "${args[@]}")

printf 'gowarden shim overhead: %s rounds, interleaved; %s\n' "$rounds" "$(file -b "$binary" | cut -d, -f1-2,4)"
printf '| %-20s | %12s | %20s |\n' "what" "median (ms)" "over direct (ms)"
printf '|%s|%s|%s|\n' "----------------------" "--------------" "----------------------"
printf '%s\n' "$out" | while IFS=$'\t' read -r name ms diff; do
  printf '| %-20s | %12s | %20s |\n' "$name" "$ms" "$diff"
done
