#!/usr/bin/env bash
# The release edgeshare and its console, as the benchmarks run them. With EDGESHARE_BUILT=1 and a
# release edgeshare already in the target directory, that build is used as it is (for rerunning a
# benchmark after changing only its client: cargo would otherwise rebuild the console's crates,
# whose features differ between the binary and the benchmark examples).
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
if [ "${EDGESHARE_BUILT:-0}" = 1 ] && [ -x "$target/release/edgeshare" ] && [ -d "$root/target/site" ]; then
  echo "using the edgeshare and console already built in $target/release" >&2
  exit 0
fi
echo "building edgeshare and its console (release)..." >&2
"$root/scripts/setup.sh" >&2
"$root/scripts/build-site.sh" --release >&2
