#!/usr/bin/env bash
# What the shim adds to a go call, measured as issue 18 asks: interleaved pairs, medians.
#
#   benches/overhead.sh [--rounds N] [--binary FILE] [--enterprise POLICY] [--only pairs|rotation]
#
# A small driver (benches/overhead/driver.c) runs every variant once per round, in an order
# that rotates each round, and prints per variant the median wall time of one run and the
# median of its per-round difference to the direct exec (so slow phases of a loaded machine
# hit both sides of each pair). Two tables:
#   pairs      issue 18's method: each row measured in a run of its own that alternates it
#              with the direct exec alone (a flatness row: with the row it extends too)
#   rotation   every row in one run: each call follows another variant's run, so its caches
#              are colder (what a real go call between two shim calls does, and more)
# The go every variant ends in is a static no-op with no libc
# (benches/overhead/noop.c: a raw exit syscall), in a GOROOT with a VERSION file, pinned by
# the project's .go-version. Variants:
#   direct             the fake go itself
#   hop, no libc       benches/overhead/floor.c: execve from _start; the floor of any exec hop
#   hop, static glibc  a static glibc C program that only execs: glibc's own start-up cost
#   gowarden default   the shim with the embedded default policy, its discovery left on
#                      (module cache, version managers, PATH, /usr/local/go) and its audit log
#   gowarden enterprise  the shim with policies/examples/enterprise.toml (roles, matrix, [env],
#                      audit with flush) as the user policy
# and the flatness scenarios, each reported against the one it extends:
#   + 100 toolchains   default, with 100 more toolchains installed beside the pinned one
#   + 40 levels        default, called 40 directories below the project's .go-version
#   + 200 deny rules   enterprise, with 200 more deny rules in the caller's role
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
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --enterprise) enterprise="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "usage: benches/overhead.sh [--rounds N] [--binary FILE] [--enterprise POLICY] [--only pairs|rotation]" >&2; exit 2 ;;
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
mkdir -p "$goroot/bin" "$sb/shims" "$sb/project" "$sb/tmp"
cc -O2 -nostdlib -static -o "$goroot/bin/go" "$src/noop.c"
printf '%s\ntime 2024-01-01T00:00:00Z\n' "$version" >"$goroot/VERSION"
ln -s "$binary" "$sb/shims/go"
echo "${version#go}" >"$sb/project/.go-version"
# The example pins its audit log to the shared /var/log/gowarden layout; the same pinned,
# flushed append goes into the sandbox instead, so a bench never writes the machine's logs.
mkdir -p "$sb/audit"
chmod 1733 "$sb/audit"
sed "s|/var/log/gowarden/|$sb/audit/|" "$enterprise" >"$sb/enterprise.toml"

# The flatness scenarios' inputs.
many="$sb/many/.local/share/gowarden/toolchains"
mkdir -p "$many"
cp -R "$goroot" "$many/"
for i in $(seq 1 100); do
  mkdir -p "$many/go1.20.$i/bin"
  cp "$goroot/bin/go" "$many/go1.20.$i/bin/go"
  printf 'go1.20.%s\ntime 2024-01-01T00:00:00Z\n' "$i" >"$many/go1.20.$i/VERSION"
done
deep="$sb/project"
for i in $(seq 1 40); do deep="$deep/d$i"; done
mkdir -p "$deep"
cp "$sb/enterprise.toml" "$sb/deny200.toml"
for i in $(seq 1 200); do
  printf '\n[[role.developer.deny]]\nid = "bench-%s"\ncommand = "mod edit"\nflags = ["replace"]\nmessage = "bench rule %s"\n' \
    "$i" "$i" >>"$sb/deny200.toml"
done

cd "$sb/project"
# Each variant as the driver takes it: NAME [K=V...] PROGRAM ARG...
direct=(direct "$goroot/bin/go" version)
floor=("hop, no libc" "$sb/floor" "$goroot/bin/go" version)
glibc=("hop, static glibc" "$glibc_hop" "$goroot/bin/go" version)
default=("gowarden default" "$sb/shims/go" version)
ent=("gowarden enterprise" GOWARDEN_POLICY="$sb/enterprise.toml" "$sb/shims/go" version)
tc100=("+ 100 toolchains" XDG_DATA_HOME="$sb/many/.local/share" "$sb/shims/go" version)
deep40=("+ 40 levels" "@cwd=$deep" "$sb/shims/go" version)
deny200=("+ 200 deny rules" GOWARDEN_POLICY="$sb/deny200.toml" "$sb/shims/go" version)
args=("${direct[@]}" ';;' "${floor[@]}")
[ -z "$glibc_hop" ] || args+=(';;' "${glibc[@]}")
args+=(';;' "${default[@]}" ';;' "${ent[@]}" ';;' "${tc100[@]}" ';;' "${deep40[@]}" ';;' "${deny200[@]}")
# The sandbox's own HOME and XDG dirs: the machine's own config and logs do not count. Its
# TMPDIR beside HOME, not above it, as policies/README.md asks of a HOME under /tmp with a
# deny_read role (the enterprise developer's): otherwise the writable temp dir would be
# carved a second time, and go's work dir in it could not be read.
sandbox=(env -i PATH="$sb/shims:/usr/bin:/bin" HOME="$sb/home" XDG_CONFIG_HOME="$sb/home/.config"
  XDG_DATA_HOME="$sb/home/.local/share" XDG_STATE_HOME="$sb/home/.local/state"
  XDG_CACHE_HOME="$sb/home/.cache" TMPDIR="$sb/tmp")
# The warm-up also creates the audit log and whatever the shim keeps between calls.
"${sandbox[@]}" "$sb/driver" 20 "${args[@]}" >/dev/null || {
  echo "bench: a warm-up run failed (see above)" >&2; exit 1; }

# The driver's lines (name, median, over direct) as the table: a flatness row's last column is
# its overhead over the row it extends.
table() {
  printf '| %-20s | %12s | %24s |\n' "what" "median (ms)" "over direct (ms)"
  printf '|%s|%s|%s|\n' "----------------------" "--------------" "--------------------------"
  awk -F'\t' '
    $1 == "gowarden default" { base["default"] = $3 }
    $1 == "gowarden enterprise" { base["enterprise"] = $3 }
    { rows[NR] = $0 }
    END {
      for (i = 1; i <= NR; i++) {
        split(rows[i], f, "\t")
        d = f[3]
        if (f[1] ~ /^\+ (100|40)/) d = sprintf("%+.3f over default", f[3] - base["default"])
        if (f[1] ~ /^\+ 200/) d = sprintf("%+.3f over enterprise", f[3] - base["enterprise"])
        printf "| %-20s | %12s | %24s |\n", f[1], f[2], d
      }
    }'
}
# Each row in runs of its own that alternate it with the direct exec alone (a flatness row: with
# the row it extends too), as issue 18 measured: five blocks of a fifth of the rounds, the rows'
# blocks taken in turn, so a slow phase of the machine falls on every row; medians over all
# the rounds of a row. A flatness row is printed as the figure of the row it extends plus its
# difference to that row in their common runs, so "over default" is measured side by side.
pairs() {
  local per=$(((rounds + 4) / 5)) set one
  local sets=(floor default ent tc100 deep40 deny200)
  [ -z "$glibc_hop" ] || sets+=(glibc)
  for _ in 1 2 3 4 5; do
    for set in "${sets[@]}"; do
      case $set in
        floor) one=("${floor[@]}") ;;
        glibc) one=("${glibc[@]}") ;;
        default) one=("${default[@]}") ;;
        ent) one=("${ent[@]}") ;;
        tc100) one=("${default[@]}" ';;' "${tc100[@]}") ;;
        deep40) one=("${default[@]}" ';;' "${deep40[@]}") ;;
        deny200) one=("${ent[@]}" ';;' "${deny200[@]}") ;;
      esac
      "${sandbox[@]}" "$sb/driver" -raw "$per" "${direct[@]}" ';;' "${one[@]}" >>"$sb/raw.$set"
    done
  done
  "$sb/driver" -merge <"$sb/raw.floor"
  [ -z "$glibc_hop" ] || "$sb/driver" -merge <"$sb/raw.glibc" | sed 1d
  local def_line ent_line
  def_line=$("$sb/driver" -merge <"$sb/raw.default" | sed 1d)
  ent_line=$("$sb/driver" -merge <"$sb/raw.ent" | sed 1d)
  printf '%s\n%s\n' "$def_line" "$ent_line"
  "$sb/driver" -merge <"$sb/raw.tc100" | over_base "$(cut -f3 <<<"$def_line")"
  "$sb/driver" -merge <"$sb/raw.deep40" | over_base "$(cut -f3 <<<"$def_line")"
  "$sb/driver" -merge <"$sb/raw.deny200" | over_base "$(cut -f3 <<<"$ent_line")"
}
# A three-row run's last row (direct, base, row) as the base's figure $1 plus the row's
# difference to the base in that run.
over_base() {
  awk -F'\t' -v over="$1" 'NR == 2 { b = $3 } NR == 3 { printf "%s\t%s\t%+.3f\n", $1, $2, over + $3 - b }'
}

summary=$(file -b "$binary" | cut -d, -f1-2,4)
if [ "$only" != rotation ]; then
  pairs_out=$(pairs)
  printf 'gowarden shim overhead, pairs (issue 18): %s rounds, each row alternating with the direct exec; %s\n' \
    "$rounds" "$summary"
  printf '%s\n' "$pairs_out" | table
fi
if [ "$only" != pairs ]; then
  [ "$only" = rotation ] || echo
  out=$("${sandbox[@]}" "$sb/driver" "$rounds" "${args[@]}")
  printf 'gowarden shim overhead, rotation: %s rounds, all rows in one rotation; %s\n' "$rounds" "$summary"
  printf '%s\n' "$out" | table
fi
