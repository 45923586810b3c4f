#!/usr/bin/env bash
# `gowarden check` over monorepos of 1, 100 and 500 modules (issue 15: one pass, each file read
# once, linear growth).
#
#   benches/repo_check.sh [--rounds N] [--binary FILE] [--sizes "1 100 500"]
#
# Each module has a go.mod with two requirements, its go.sum, a main.go, a Makefile (`:=`,
# `?=`, a recipe), a Dockerfile (ARG, FROM, ENV, a continued RUN) and a shell script; the
# repository has a .go-version, a GitHub workflow and a .gitlab-ci.yml. The policy has [env]
# rules, roles with effect rules and a CI binding, so every setting goes through the shim's
# evaluation. mod.tidy/mod.verify stay off (their cost is go's own). Prints per size the
# median wall time of R runs and the time per module; with strace on PATH, also the most
# times any one repository file was opened during a run (1 = each file read once).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5
binary=""
sizes="1 100 500"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    *) echo "usage: benches/repo_check.sh [--rounds N] [--binary FILE] [--sizes LIST]" >&2; exit 2 ;;
  esac
done
[ -n "$binary" ] || binary=$(scripts/build-release.sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/gw-repo-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/goroot/go1.22.8/bin" "$work/home"
printf 'go1.22.8\ntime 2024-01-01T00:00:00Z\n' > "$work/goroot/go1.22.8/VERSION"
printf '#!/bin/sh\nexit 0\n' > "$work/goroot/go1.22.8/bin/go"
chmod +x "$work/goroot/go1.22.8/bin/go"
cat > "$work/policy.toml" <<EOF
[toolchains]
module_cache = false
version_managers = false
path = false
search = ["$work/goroot/*"]

[env]
enforce = { GOPROXY = "https://proxy.corp.example", GOFLAGS = "-mod=readonly" }
forbid = ["GOINSECURE"]

[roles]
default = "developer"

[[binding]]
role = "ci"
env = { CI = "true" }

[role.developer]

[[role.developer.deny]]
id = "dev-no-checksum-bypass"
effects = ["checksum-bypass"]

[role.ci]

[[role.ci.deny]]
id = "ci-no-bypass"
effects = ["checksum-bypass", "proxy-bypass"]
EOF
chmod 644 "$work/policy.toml"

make_repo() {
  local dir=$1 n=$2
  mkdir -p "$dir/.github/workflows"
  echo 1.22.8 > "$dir/.go-version"
  cat > "$dir/.github/workflows/ci.yml" <<'EOF'
env:
  GOFLAGS: -mod=mod
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-go@v5
        with:
          go-version: '1.22.8'
      - run: |
          go vet ./...
          go test ./...
EOF
  cat > "$dir/.gitlab-ci.yml" <<'EOF'
.defaults: &defaults
  image: golang:1.22.8
build:
  <<: *defaults
  script:
    - go build ./...
EOF
  for i in $(seq 1 "$n"); do
    local m="$dir/svc/m$i"
    mkdir -p "$m/scripts"
    cat > "$m/go.mod" <<EOF
module corp.example/mono/m$i

go 1.22.0

require (
	golang.org/x/text v0.14.0
	golang.org/x/mod v0.17.0 // indirect
)
EOF
    cat > "$m/go.sum" <<'EOF'
golang.org/x/mod v0.17.0 h1:zY54UmvipHiNd+pm+m0x9KhZ9hl1/7QNMyxXbc6ICqA=
golang.org/x/mod v0.17.0/go.mod h1:hTbmBsO62+eylJbnUtE2MGJUyE7QWk4xUqPFrRgJ+7c=
golang.org/x/text v0.14.0 h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=
golang.org/x/text v0.14.0/go.mod h1:18ZOQIKpY8NJVqYksKHtTdi31H5itFRjB5/qKTNYzSU=
EOF
    printf 'package main\n\nfunc main() {}\n' > "$m/main.go"
    cat > "$m/Makefile" <<'EOF'
GO ?= go
export GOFLAGS := -mod=readonly
build:
	CGO_ENABLED=0 $(GO) build -o bin/app ./...
EOF
    cat > "$m/Dockerfile" <<'EOF'
ARG GO_VERSION=1.22.8
FROM golang:${GO_VERSION}-alpine AS build
ENV CGO_ENABLED=0 \
    GOPROXY=https://proxy.corp.example
RUN go mod download && \
    go build -o /out/app ./...
FROM gcr.io/distroless/static
EOF
    printf '#!/bin/sh\nset -eu\nexport GOFLAGS="-mod=readonly"\ngo test ./...\n' > "$m/scripts/test.sh"
  done
}

run_check() {
  env -i PATH=/usr/bin:/bin HOME="$work/home" GOWARDEN_POLICY="$work/policy.toml" \
    "$binary" check -C "$1" --format json > "$work/out.json" || [ $? -eq 1 ]
}

printf '%-8s %-8s %12s %16s %10s\n' modules files "median ms" "ms per module" "max opens"
for n in $sizes; do
  dir="$work/repo$n"
  make_repo "$dir" "$n"
  files=$(find "$dir" -type f | wc -l)
  run_check "$dir" # warm the page cache
  times=()
  for _ in $(seq 1 "$rounds"); do
    t0=$(date +%s%N)
    run_check "$dir"
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  median_us=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  opens="-"
  if command -v strace >/dev/null 2>&1; then
    env -i PATH=/usr/bin:/bin HOME="$work/home" GOWARDEN_POLICY="$work/policy.toml" \
      strace -f -qq -e trace=open,openat -o "$work/trace" "$binary" check -C "$dir" --format json \
      > /dev/null || true
    opens=$({ grep -o "\"$dir/[^\"]*\"" "$work/trace" || true; } | sort | uniq -c | sort -rn \
      | awk 'NR==1 {print $1}')
  fi
  awk -v n="$n" -v f="$files" -v us="$median_us" -v o="$opens" \
    'BEGIN { printf "%-8d %-8d %12.1f %16.3f %10s\n", n, f, us / 1000, us / 1000 / n, o }'
  grep -q '"ok"' "$work/out.json" || { echo "bench: check printed no report" >&2; exit 1; }
done
