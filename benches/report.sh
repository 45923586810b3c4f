#!/usr/bin/env bash
# `gowarden audit report` at scale: time and peak memory (max RSS, /usr/bin/time) for 10^5
# and 10^6 records, in each output format, over logs benches/report_gen.rs writes (100 hosts,
# 200 projects, spread over a year) under target/, never committed.
#
#   benches/report.sh [N...]        default: 100000 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
cargo build -q --release --bin gowarden --example report_gen
bin=target/release/gowarden
policy=policies/examples/enterprise.toml
for n in "${sizes[@]}"; do
  dir="target/report-bench/$n"
  if [ ! -d "$dir" ]; then
    target/release/examples/report_gen "$n" "$dir"
  fi
  bytes=$(du -sb "$dir" | cut -f1)
  for format in json prom html; do
    /usr/bin/time -f "%e %U %M" -o target/report-bench/time.txt \
      "$bin" audit report --policy "$policy" --format "$format" -o "target/report-bench/out.$format" "$dir"
    read -r secs user kib < target/report-bench/time.txt
    printf "%8d records  %5d MB  %-4s  %6.2f s wall  %6.2f s CPU  %6d KiB max RSS\n" \
      "$n" $((bytes / 1000000)) "$format" "$secs" "$user" "$kib"
  done
done
