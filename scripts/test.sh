#!/usr/bin/env bash
# Everything CI checks, in the order that fails fastest: formatting, lints for both halves of the
# console (server `ssr`, browser `hydrate`), all Rust tests, a short fuzzing run of the engine,
# then the console in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
started=$(date +%s)
step() { echo "test [$(( $(date +%s) - started ))s] $*"; }

step "cargo fmt --check"
cargo fmt --all --check
step "clippy (ssr: server, engine, console server side)"
cargo clippy --locked --workspace --all-targets -- -D warnings
step "clippy (hydrate: console in the browser)"
cargo clippy --locked -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings
step "Rust tests (with the real SMB clients: smbclient, rpcclient, smbtorture, smbprotocol, impacket)"
export EDGESHARE_PYTHON="${EDGESHARE_VENV:-$HOME/.cache/edgeshare/venv}/bin/python"
cargo nextest run --locked --workspace --no-fail-fast
fuzz_seconds="${EDGESHARE_FUZZ_SECONDS:-20}"
for target in decode connection preauth rpc_pipe kdc_proxy; do
  step "fuzz smoke: $target for ${fuzz_seconds}s (cargo fuzz, libFuzzer)"
  log=$(mktemp)
  if ! ( cd smb-core && cargo fuzz run "$target" -s none -- -max_total_time="$fuzz_seconds" ) >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $target failed; the crashing input is under smb-core/fuzz/artifacts/$target" >&2
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$log" || true
  rm -f "$log"
done
step "build the console"
scripts/build-site.sh
# The native SMB over QUIC client the browser tests drive (the smb crate).
cargo build --locked -p server --example quic_client
step "browser tests (Playwright, Chromium)"
( cd end2end && npx playwright test )
step "all passed"
