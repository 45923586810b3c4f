#!/usr/bin/env bash
# What a tool shim (gopls, dlv...: docs/tools.md) adds to starting a cached tool, measured as
# benches/overhead.sh measures the go shim: interleaved pairs, medians of per-round differences.
#
#   benches/tool_overhead.sh [--rounds N] [--binary FILE]
#
# The tool is a static no-op (benches/overhead/noop.c) pinned by the project's go.mod `tool`
# directive, already in the tool cache (the bench puts it where `gowarden which --json noop`
# says the cached binary lives), and the go that would build it is a no-op too. Variants:
#   direct             exec the cached tool binary itself
#   tool shim default  the `noop` shim, embedded default policy (discovery on, audit on)
#   tool shim enterprise  the same with policies/examples/enterprise.toml
# The shim is the binary install.sh builds (scripts/build-release.sh), or --binary FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=1500
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    *) echo "usage: benches/tool_overhead.sh [--rounds N] [--binary FILE]" >&2; exit 2 ;;
  esac
done
command -v cc >/dev/null 2>&1 || { echo "bench: needs a C compiler (cc)" >&2; exit 1; }
[ -n "$binary" ] || binary=$(scripts/build-release.sh)
binary=$(cd "$(dirname "$binary")" && pwd -P)/$(basename "$binary")

sb=$(mktemp -d)
trap 'rm -rf "$sb"' EXIT
src=benches/overhead
cc -O2 -o "$sb/driver" "$src/driver.c"
version=go1.26.99
goroot="$sb/home/.local/share/gowarden/toolchains/$version"
mkdir -p "$goroot/bin" "$sb/shims" "$sb/project"
cc -O2 -nostdlib -static -o "$goroot/bin/go" "$src/noop.c"
printf '%s\ntime 2024-01-01T00:00:00Z\n' "$version" >"$goroot/VERSION"
ln -s "$binary" "$sb/shims/go"
ln -s "$binary" "$sb/shims/noop"
echo "${version#go}" >"$sb/project/.go-version"
printf 'module example.com/bench\n\ngo 1.24\n\ntool example.com/noop\n\nrequire example.com/noop v1.0.0\n' \
  >"$sb/project/go.mod"
mkdir -p "$sb/audit"
chmod 1733 "$sb/audit"
sed "s|/var/log/gowarden/|$sb/audit/|" policies/examples/enterprise.toml >"$sb/enterprise.toml"

cd "$sb/project"
sandbox_env=(env -i PATH="$sb/shims:/usr/bin:/bin" HOME="$sb/home"
  XDG_CONFIG_HOME="$sb/home/.config" XDG_DATA_HOME="$sb/home/.local/share"
  XDG_STATE_HOME="$sb/home/.local/state" XDG_CACHE_HOME="$sb/home/.cache")
# Put the tool where each policy's shim looks for it (the key holds the build settings).
for policy in "" "$sb/enterprise.toml"; do
  cached=$("${sandbox_env[@]}" ${policy:+GOWARDEN_POLICY="$policy"} "$binary" which --json noop |
    sed -n 's/^  "binary": "\(.*\)",$/\1/p')
  [ -n "$cached" ] || { echo "bench: gowarden which --json noop named no binary" >&2; exit 1; }
  mkdir -p "$(dirname "$cached")"
  cp "$goroot/bin/go" "$cached"
done
direct=$cached
"${sandbox_env[@]}" "$sb/driver" 20 direct "$direct" ';;' \
  default "$sb/shims/noop" ';;' \
  enterprise GOWARDEN_POLICY="$sb/enterprise.toml" "$sb/shims/noop" >/dev/null || {
  echo "bench: a warm-up run failed (see above)" >&2; exit 1; }
out=$("${sandbox_env[@]}" "$sb/driver" "$rounds" direct "$direct" \
  ';;' "tool shim default" "$sb/shims/noop" \
  ';;' "tool shim enterprise" GOWARDEN_POLICY="$sb/enterprise.toml" "$sb/shims/noop")

printf 'gowarden tool shim overhead: %s rounds, interleaved; %s\n' "$rounds" "$(file -b "$binary" | cut -d, -f1-2,4)"
printf '| %-20s | %12s | %20s |\n' "what" "median (ms)" "over direct (ms)"
printf '|%s|%s|%s|\n' "----------------------" "--------------" "----------------------"
printf '%s\n' "$out" | while IFS=$'\t' read -r name ms diff; do
  printf '| %-20s | %12s | %20s |\n' "$name" "$ms" "$diff"
done
