#!/usr/bin/env bash
# Measures what the shim adds over exec'ing the same go directly, with hyperfine.
#
#   benches/overhead.sh [--runs N]
#
# Builds the release binary, makes a sandbox (own HOME, XDG dirs and policy, so the machine's
# own config does not count), then times, each as median of N runs (default 1000):
#   fake:  a GOROOT whose bin/go is a copy of /bin/true (the cost of the hop itself)
#   real:  `go version` of a real toolchain (scripts/fetch-go-toolchains.sh)
# each directly, through a minimal static C program that only execs its arguments (the floor
# for any exec hop on this machine; `env` when there is no C compiler) and through the shim.
# Extra scenarios can be added by setting GOWARDEN_BENCH_POLICY_EXTRA to TOML appended to the
# sandbox policy (e.g. an [audit] section) and a label in GOWARDEN_BENCH_LABEL.
# Prints a table of medians, the shim's overhead (shim - direct), the ratio, and what the shim
# costs beyond the bare exec hop (shim - hop): the part gowarden's own work adds.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: benches/overhead.sh [--runs N]" >&2; exit 2 ;;
  esac
done

if ! command -v hyperfine >/dev/null 2>&1; then
  echo "bench: installing hyperfine (Debian package)" >&2
  { apt-get update -qq && apt-get install -y -qq hyperfine; } >/dev/null 2>&1 || {
    echo "bench: hyperfine is missing and could not be installed (apt-get install hyperfine)" >&2
    exit 1
  }
fi

# The binary as install.sh builds it.
bin=$(scripts/build-release.sh 2>/dev/null)
real_roots=$(scripts/fetch-go-toolchains.sh 2>/dev/null)
real_root=$(printf '%s\n' "$real_roots" | tail -n 1)

sb=$(mktemp -d)
trap 'rm -rf "$sb"' EXIT
mkdir -p "$sb/shims" "$sb/home" "$sb/fake/bin" "$sb/project"
ln -s "$bin" "$sb/shims/go"
cp /bin/true "$sb/fake/bin/go"
printf 'go1.22.99\ntime 2024-01-01T00:00:00Z\n' > "$sb/fake/VERSION"
cat > "$sb/policy.toml" <<TOML
[toolchains]
search = ["$sb/fake", "$real_root"]
module_cache = false
version_managers = false
path = false
${GOWARDEN_BENCH_POLICY_EXTRA:-}
TOML

export HOME="$sb/home" XDG_CONFIG_HOME="$sb/home/.config" XDG_DATA_HOME="$sb/home/.local/share" \
  XDG_STATE_HOME="$sb/home/.local/state" XDG_CACHE_HOME="$sb/home/.cache" \
  GOWARDEN_POLICY="$sb/policy.toml" GOTOOLCHAIN=local
unset GOWARDEN_LOG GOROOT GOFLAGS || true
real_version=$(head -n 1 "$real_root/VERSION")
mkdir -p "$sb/project/fake" "$sb/project/real"
echo "1.22.99" > "$sb/project/fake/.go-version"
echo "${real_version#go}" > "$sb/project/real/.go-version"

# The floor any exec hop pays here: a static C program that only execs its arguments.
hop="/usr/bin/env"
if command -v cc >/dev/null 2>&1; then
  printf '#include <unistd.h>\nint main(int c, char **v) { (void)c; execv(v[1], v + 1); return 127; }\n' >"$sb/hop.c"
  if cc -O2 -static -o "$sb/hop" "$sb/hop.c" 2>/dev/null; then hop="$sb/hop"; fi
fi
bench() { # name dir cmd...
  local name="$1" dir="$2"; shift 2
  (cd "$dir" && hyperfine -N --warmup 50 --runs "$runs" --export-json "$sb/$name.json" \
     --command-name "$name" "$*" >/dev/null)
}
bench fake-direct "$sb/project/fake" "$sb/fake/bin/go version"
bench fake-hop    "$sb/project/fake" "$hop $sb/fake/bin/go version"
bench fake-shim   "$sb/project/fake" "$sb/shims/go version"
bench real-direct "$sb/project/real" "$real_root/bin/go version"
bench real-hop    "$sb/project/real" "$hop $real_root/bin/go version"
bench real-shim   "$sb/project/real" "$sb/shims/go version"

python3 - "$sb" "${GOWARDEN_BENCH_LABEL:-default policy}" "$real_version" <<'PY'
import json, sys, os
sb, label, real = sys.argv[1], sys.argv[2], sys.argv[3]
def med(n):
    r = json.load(open(os.path.join(sb, n + ".json")))["results"][0]
    return r["median"] * 1000, r["stddev"] * 1000
print(f"gowarden shim overhead ({label}); medians in ms")
print(f"{'target':<28}{'direct':>9}{'exec hop':>9}{'shim':>9}{'overhead':>10}{'ratio':>7}{'shim-hop':>10}")
for kind, title in (("fake", "fake go (/bin/true)"), ("real", f"real {real} version")):
    d, _ = med(kind + "-direct"); e, _ = med(kind + "-hop"); s, sd = med(kind + "-shim")
    print(f"{title:<28}{d:9.3f}{e:9.3f}{s:9.3f}{s - d:10.3f}{s / d:7.2f}{s - e:10.3f}")
PY
