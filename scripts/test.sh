#!/usr/bin/env bash
# Everything CI checks, in the order that fails fastest: formatting, lints for both halves of the
# console (server `ssr`, browser `hydrate`), all Rust tests, then the console in Chromium.
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
step "build the console"
scripts/build-site.sh
step "browser tests (Playwright, Chromium)"
( cd end2end && npx playwright test )
step "all passed"
