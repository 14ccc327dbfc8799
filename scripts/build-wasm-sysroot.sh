#!/usr/bin/env bash
# Installs a wasm32-unknown-unknown standard library for Debian's rustc-web, built from the exactly
# matching rust-web-src, into the toolchain's sysroot: what `rustup target add` does elsewhere.
# Runs once per rustc build (stamped by commit hash); later project builds need no -Z flags.
set -euo pipefail
RUSTC=${RUSTC:-/usr/bin/rustc}
CARGO=${CARGO:-/usr/bin/cargo}
sysroot=$("$RUSTC" --print sysroot)
dest="$sysroot/lib/rustlib/wasm32-unknown-unknown/lib"
commit=$("$RUSTC" -vV | sed -n 's/^commit-hash: //p')
stamp="$dest/.edgeshare-sysroot-$commit"
[ -f "$stamp" ] && exit 0
src="$sysroot/lib/rustlib/src/rust/library/std"
[ -d "$src" ] || { echo "error: the std source ($src) is missing: install rust-web-src" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
: > "$work/src/lib.rs"
cat > "$work/Cargo.toml" <<'TOML'
[package]
name = "wasm-sysroot"
version = "0.0.0"
edition = "2021"
[lib]
path = "src/lib.rs"
[profile.release]
opt-level = 3
debug = 0
codegen-units = 1
TOML
# Bitcode is embedded so that crates built against this std may use LTO, as with rustup's rust-std.
( cd "$work" && RUSTC_BOOTSTRAP=1 RUSTC="$RUSTC" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Cembed-bitcode=yes" \
    CARGO_TARGET_DIR="$work/target" \
    "$CARGO" build --quiet --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort )
mkdir -p "$dest"
rm -f "$dest"/*.rlib "$dest"/.edgeshare-sysroot-*
find "$work/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' ! -name 'libwasm_sysroot-*' \
  -exec cp {} "$dest/" \;
touch "$stamp"
echo "installed the wasm32 standard library for rustc $commit into $dest"
