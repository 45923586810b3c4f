#!/usr/bin/env bash
# Fetches the real Go toolchains that gowarden's end-to-end tests run, reproducibly, into a
# cache outside the repository, and prints their GOROOTs (one per line on stdout).
#
# Usage:
#   scripts/fetch-go-toolchains.sh [VERSION...]   fetch (default: go1.22.12 go1.23.12)
#   scripts/fetch-go-toolchains.sh --clean        delete the whole cache
#
# VERSION is a Go release, `go1.22.12` or `1.22.12`. Versions already in the cache and intact
# are not fetched again; a damaged one is deleted and fetched anew.
#
# How: a bootstrap go >= 1.21 (/usr/local/go/bin/go, else the first suitable go on PATH) runs
#   GOTOOLCHAIN=<version> GOMODCACHE=<cache>/modcache go version
# which downloads the module golang.org/toolchain@v0.0.1-<version>.<goos>-<goarch> through
# GOPROXY (default proxy.golang.org) and checks it against the checksum database GOSUMDB
# (default sum.golang.org). The developer's `go env -w` settings are ignored (GOENV=off) and
# GOFLAGS, GOPRIVATE, GONOSUMDB, GONOPROXY and GOINSECURE are cleared for that command, so
# every toolchain is checksum-verified; GOPROXY and GOSUMDB may still be set in the
# environment to use a mirror, but GOSUMDB=off is refused.
#
# Cache layout (what the test harness looks for):
#   ${GOWARDEN_TOOLCHAIN_CACHE:-$HOME/.cache/gowarden-test-toolchains}/
#     modcache/                                        a Go module cache (GOMODCACHE)
#       golang.org/toolchain@v0.0.1-go1.22.12.linux-amd64/   GOROOT of go1.22.12
#         VERSION                                      first line: go1.22.12
#         bin/go, bin/gofmt
#       golang.org/toolchain@v0.0.1-go1.23.12.linux-amd64/   GOROOT of go1.23.12
#       cache/download/golang.org/toolchain/@v/…       the verified zips and their h1: hashes
#     .lock                                            serialises concurrent runs
# i.e. GOROOT = <cache>/modcache/golang.org/toolchain@v0.0.1-<version>.<goos>-<goarch>, with
# <goos>-<goarch> those of the bootstrap go (`go env GOHOSTOS GOHOSTARCH`), e.g. linux-amd64.
# Each GOROOT's go.env says GOTOOLCHAIN=auto: run its go with GOTOOLCHAIN=local where it must
# not switch to yet another toolchain.
#
# The GOROOTs are read-only, as everything in a Go module cache is: `go` extracts toolchain
# modules read-only even under GOFLAGS=-modcacherw (the toolchain switch happens before
# GOFLAGS is read), so that flag is not used. A plain `rm -rf` of the cache therefore fails
# for a non-root user: delete it with `--clean` (or
# `GOMODCACHE=<cache>/modcache go clean -modcache`).

set -euo pipefail

readonly DEFAULT_VERSIONS=(go1.22.12 go1.23.12)
readonly MODULE=golang.org/toolchain

die() {
    printf 'fetch-go-toolchains: %s\n' "$*" >&2
    exit 1
}

say() {
    printf 'fetch-go-toolchains: %s\n' "$*" >&2
}

usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
}

# The cache, as an absolute path (GOMODCACHE must be absolute), refused inside the repository.
cache_dir() {
    local dir=${GOWARDEN_TOOLCHAIN_CACHE:-${HOME:?HOME is not set}/.cache/gowarden-test-toolchains}
    local repo
    dir=$(realpath -m -- "$dir")
    repo=$(realpath -- "$(dirname "${BASH_SOURCE[0]}")/..")
    case "$dir/" in
        "$repo"/*) die "the toolchain cache $dir is inside the repository $repo; point GOWARDEN_TOOLCHAIN_CACHE elsewhere" ;;
    esac
    printf '%s\n' "$dir"
}

# Deletes a tree that a Go module cache made read-only.
remove_tree() {
    [[ -e $1 ]] || return 0
    chmod -R u+w "$1"
    rm -rf "$1"
}

# Runs go with the developer's go configuration out of the way (see the header).
plain_go() {
    env -u GOFLAGS -u GOPRIVATE -u GONOSUMDB -u GONOPROXY -u GOINSECURE -u GOROOT \
        GOENV=off "$@"
}

# Prints the version of the go binary $1 itself (`go1.26.8`), not of a toolchain it would
# switch to; fails for a go too old to say (GOVERSION is known since Go 1.16).
own_version() {
    plain_go GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null
}

# True if the toolchain name $1 is go1.N... with N >= 21, i.e. it understands GOTOOLCHAIN.
switches_toolchains() {
    [[ $1 =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 21))
}

find_bootstrap_go() {
    local candidates=() dirs=() dir go version
    [[ -x /usr/local/go/bin/go ]] && candidates+=(/usr/local/go/bin/go)
    IFS=: read -ra dirs <<<"${PATH:-}"
    for dir in "${dirs[@]}"; do
        [[ -n $dir && -f $dir/go && -x $dir/go ]] && candidates+=("$dir/go")
    done
    for go in "${candidates[@]}"; do
        version=$(own_version "$go") || continue
        if switches_toolchains "$version"; then
            say "bootstrap: $go ($version)"
            printf '%s\n' "$go"
            return 0
        fi
    done
    die "no bootstrap go >= 1.21 found (looked at /usr/local/go/bin/go and every go on PATH); install Go 1.21 or newer first"
}

# Checks that $1 is an intact GOROOT of release $2.
verify_goroot() {
    local goroot=$1 version=$2 first out
    [[ -f $goroot/VERSION && -x $goroot/bin/go ]] || return 1
    first=$(head -n 1 "$goroot/VERSION")
    [[ $first == "$version" ]] || {
        say "$goroot/VERSION says '$first', want '$version'"
        return 1
    }
    out=$(plain_go GOTOOLCHAIN=local "$goroot/bin/go" version 2>&1) || {
        say "$goroot/bin/go version failed: $out"
        return 1
    }
    [[ $out == "go version $version "* ]] || {
        say "$goroot/bin/go version printed '$out', want 'go version $version ...'"
        return 1
    }
}

# Fetches release $1 into the module cache $2 and prints its GOROOT.
fetch_one() {
    local version=$1 modcache=$2 goos=$3 goarch=$4 bootstrap=$5
    local modver=v0.0.1-$version.$goos-$goarch
    local goroot=$modcache/$MODULE@$modver
    local dl=$modcache/cache/download/$MODULE/@v/$modver

    if [[ -e $goroot ]]; then
        if verify_goroot "$goroot" "$version"; then
            say "$version: already in the cache"
            printf '%s\n' "$goroot"
            return 0
        fi
        say "$version: the cached copy is damaged; fetching it again"
        remove_tree "$goroot"
        rm -f "$dl.zip" "$dl.ziphash" "$dl.info" "$dl.mod"
    fi

    say "$version: downloading $MODULE@$modver"
    local out
    # Run from the cache so that no go.mod or go.work around the caller is consulted.
    if ! out=$(cd "$modcache/.." && plain_go GOTOOLCHAIN="$version" GOMODCACHE="$modcache" \
        "$bootstrap" version 2>&1); then
        die "$version: download failed (GOPROXY=$(plain_go GOTOOLCHAIN=local "$bootstrap" env GOPROXY)); is the Go module proxy reachable and is $version a real Go release?
$out"
    fi
    verify_goroot "$goroot" "$version" ||
        die "$version: downloaded, but $goroot is not a working $version GOROOT (go said: $out)"
    [[ -f $dl.ziphash ]] && say "$version: verified, $(cat "$dl.ziphash")"
    printf '%s\n' "$goroot"
}

main() {
    local clean=0 versions=() arg
    for arg in "$@"; do
        case $arg in
            -h | --help) usage; exit 0 ;;
            --clean) clean=1 ;;
            -*) die "unknown option $arg (see --help)" ;;
            go1.* | 1.*) versions+=("go${arg#go}") ;;
            *) die "'$arg' is not a Go release such as go1.22.12" ;;
        esac
    done

    local cache
    cache=$(cache_dir)

    if ((clean)); then
        ((${#versions[@]} == 0)) || die "--clean takes no versions"
        remove_tree "$cache"
        say "deleted $cache"
        return 0
    fi

    ((${#versions[@]} > 0)) || versions=("${DEFAULT_VERSIONS[@]}")
    local v
    for v in "${versions[@]}"; do
        [[ $v =~ ^go1\.[0-9]+(\.[0-9]+)?((rc|beta)[0-9]+)?$ ]] ||
            die "'$v' is not a Go release such as go1.22.12"
    done

    # One run at a time per cache: the repair path deletes what another run may be reading.
    mkdir -p "$cache/modcache"
    exec 9>"$cache/.lock"
    if command -v flock >/dev/null; then
        flock 9
    fi

    local bootstrap goos goarch
    bootstrap=$(find_bootstrap_go)
    goos=$(plain_go GOTOOLCHAIN=local "$bootstrap" env GOHOSTOS)
    goarch=$(plain_go GOTOOLCHAIN=local "$bootstrap" env GOHOSTARCH)
    [[ $(plain_go GOTOOLCHAIN=local "$bootstrap" env GOSUMDB) != off ]] ||
        die "GOSUMDB=off: refusing to fetch toolchains without checksum verification"

    for v in "${versions[@]}"; do
        fetch_one "$v" "$cache/modcache" "$goos" "$goarch" "$bootstrap"
    done
}

main "$@"
