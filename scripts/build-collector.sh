#!/usr/bin/env bash
# Builds the OpenTelemetry Collector that the shipping tests run against, from the recipe in
# tests/collector (main.go, go.mod, go.sum: published modules from the Go module proxy), and
# prints the binary's path. The binary is cached outside the repository under
# ~/.cache/gowarden-collector/<sha256 of the recipe>/, so a second run does nothing: it takes
# minutes on two cores, once per machine and recipe.
#
# Environment: GOWARDEN_COLLECTOR_CACHE overrides the cache dir; GO names the go to build
# with (default: go on PATH, else /usr/local/go/bin/go).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
recipe=$repo/tests/collector
cache=${GOWARDEN_COLLECTOR_CACHE:-$HOME/.cache/gowarden-collector}
hash=$(cat "$recipe/main.go" "$recipe/go.mod" "$recipe/go.sum" | sha256sum | cut -c1-16)
bin=$cache/$hash/otelcol
if [ -x "$bin" ]; then
    printf '%s\n' "$bin"
    exit 0
fi
go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$go" ] || { echo "build-collector.sh: no go to build with (set GO)" >&2; exit 1; }
mkdir -p "$cache/$hash"
tmp=$(mktemp "$cache/$hash/otelcol.tmp.XXXXXX")
trap 'rm -f "$tmp"' EXIT
echo "build-collector.sh: building the test Collector into $bin (a few minutes)" >&2
start=$(date +%s)
# -mod=readonly: the build uses exactly the versions go.mod and go.sum pin; GOTOOLCHAIN=local:
# never download another go for it.
(cd "$recipe" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0 \
    "$go" build -trimpath -ldflags='-s -w' -o "$tmp" .)
mv -f "$tmp" "$bin"
trap - EXIT
echo "build-collector.sh: built in $(($(date +%s) - start))s" >&2
printf '%s\n' "$bin"
