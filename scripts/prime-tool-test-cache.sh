#!/usr/bin/env bash
# Fills the module and build caches that tests/it/tools.rs shares between runs, so that its
# builds of real tools through the shim (gopls v0.23.0, stringer v0.30.0 and v0.38.0) compile
# from a warm cache instead of from scratch (gopls alone is minutes on two cores).
#
# Usage: scripts/prime-tool-test-cache.sh     (after scripts/fetch-go-toolchains.sh go1.25.5)
#
# Cache: ${GOWARDEN_TOOL_TEST_CACHE:-$HOME/.cache/gowarden-tool-test}/{mod,build}, a
# GOMODCACHE and a GOCACHE; `stamp` records what was primed, so a second run does nothing.
# Modules come through GOPROXY (default proxy.golang.org), checked against GOSUMDB; the
# developer's go env file is ignored (GOENV=off). The binaries built are thrown away: the
# tests build their own through the shim, which the build cache then serves.
set -euo pipefail

cache=${GOWARDEN_TOOL_TEST_CACHE:-$HOME/.cache/gowarden-tool-test}
toolchains=${GOWARDEN_TOOLCHAIN_CACHE:-$HOME/.cache/gowarden-test-toolchains}
arch=$(uname -m)
case $arch in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
esac
go125=$toolchains/modcache/golang.org/toolchain@v0.0.1-go1.25.5.linux-$arch/bin/go
go126=/usr/local/go/bin/go
# What to build, and with which go: the toolchains the tests give each project.
builds=(
  "$go126 golang.org/x/tools/gopls@v0.23.0"
  "$go125 golang.org/x/tools/cmd/stringer@v0.30.0"
  "$go125 golang.org/x/tools/cmd/stringer@v0.38.0"
)
want=$(printf '%s\n' "${builds[@]}")
if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
  exit 0
fi
for go in "$go125" "$go126"; do
  [ -x "$go" ] || { echo "prime-tool-test-cache: no $go (scripts/fetch-go-toolchains.sh go1.25.5)" >&2; exit 1; }
done
mkdir -p "$cache/mod" "$cache/build"
gobin=$(mktemp -d)
trap 'rm -rf "$gobin"' EXIT
for b in "${builds[@]}"; do
  read -r go spec <<<"$b"
  echo "prime-tool-test-cache: $spec with $("$go" env GOVERSION)" >&2
  env GOENV=off GOTOOLCHAIN=local GOFLAGS= GOPRIVATE= GONOSUMDB= GONOPROXY= GOINSECURE= \
    GOMODCACHE="$cache/mod" GOCACHE="$cache/build" GOBIN="$gobin" \
    "$go" install "$spec"
done
printf '%s\n' "$want" >"$cache/stamp"
