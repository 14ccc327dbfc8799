#!/usr/bin/env bash
# Builds the console the way cargo-leptos would, with the tools scripts/setup.sh installs:
#   browser bundle (app, feature hydrate, wasm32) -> wasm-bindgen -> (release: wasm-opt)
#   -> stylesheet and public assets into target/site -> the edgeshare binary (app with ssr).
# Usage: scripts/build-site.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=debug
[ "${1:-}" = "--release" ] && mode=release
name=edgeshare
target_dir=${CARGO_TARGET_DIR:-target}
site=target/site
pkg=$site/pkg

if [ $mode = release ]; then wasm_profile=wasm-release; wasm_dir=wasm-release; bin_flag=--release; else wasm_profile=dev; wasm_dir=debug; bin_flag=; fi

cargo build --locked -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate \
  --profile $wasm_profile
rm -rf "$pkg.new" && mkdir -p "$pkg.new"
wasm-bindgen --target web --out-dir "$pkg.new" --out-name $name \
  "$target_dir/wasm32-unknown-unknown/$wasm_dir/app.wasm"
if [ $mode = release ]; then
  # npm's binaryen (end2end/node_modules): Debian's older wasm-opt corrupts wasm-bindgen output.
  wasm_opt=end2end/node_modules/.bin/wasm-opt
  [ -x "$wasm_opt" ] || { echo "error: $wasm_opt is missing: run scripts/setup.sh" >&2; exit 1; }
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-reference-types \
    "$pkg.new/${name}_bg.wasm" -o "$pkg.new/${name}_bg.wasm"
fi
cp style/main.css "$pkg.new/$name.css"
mkdir -p "$site"
rm -rf "$pkg" && mv "$pkg.new" "$pkg"
cp -r public/. "$site/"

cargo build --locked -p server --bin edgeshare $bin_flag
echo "built $target_dir/$([ $mode = release ] && echo release || echo debug)/edgeshare and the site in $site"
