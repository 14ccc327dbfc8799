#!/usr/bin/env bash
# Installs what this project needs on a Debian 12 machine, reaching only Debian's archive,
# crates.io and npm. Idempotent and quick when everything is already there: each step checks first.
#   - Debian's rustc-web 1.96 (one toolchain for the server and the browser bundle), its clippy,
#     rustfmt and std source, LLVM 22's wasm-ld, Chromium for the browser tests
#   - a wasm32 standard library for that compiler (scripts/build-wasm-sysroot.sh)
#   - wasm-bindgen-cli at exactly the version Cargo.toml pins
#   - cargo-nextest, when the machine lacks it, and cargo-fuzz (with g++ for libFuzzer)
#   - the browser-test packages of end2end/ (Playwright, npm's binaryen for wasm-opt)
#   - the real SMB clients the tests use: Samba's smbclient, rpcclient and smbtorture (and smbd,
#     the reference peer of the benchmarks), and a Python virtual environment with smbprotocol
#     and impacket (PyPI)
#   - MIT Kerberos (a KDC the Kerberos tests start, kinit with its KDC-proxy TLS module),
#     Debian's python3-kdcproxy (the reference KDC proxy), nss_wrapper (test names resolving to
#     loopback), curl, and Samba's AD DC (a domain controller the Active Directory test starts)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
started=$(date +%s)
step() { echo "setup [$(( $(date +%s) - started ))s] $*"; }

apt_packages=(rustc-web cargo-web rust-web-src rustfmt-web rust-web-clippy lld-22 chromium
  smbclient samba samba-testsuite python3-venv g++ openssl
  krb5-kdc krb5-admin-server krb5-user krb5-k5tls python3-kdcproxy libnss-wrapper curl
  samba-ad-dc samba-ad-provision ldb-tools)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$root/scripts/build-wasm-sysroot.sh"

# Host tools are built with the same Debian toolchain (the machine's rustup toolchain may be older).
wasm_bindgen_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$root/Cargo.toml")
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wasm_bindgen_version" ]; then
  step "cargo install wasm-bindgen-cli $wasm_bindgen_version (a few minutes, once)"
  # Not --locked: its lock file pins a crate version that the registry mirror here lacks.
  RUSTC=/usr/bin/rustc /usr/bin/cargo install --quiet wasm-bindgen-cli --version "$wasm_bindgen_version" --force
fi
if ! command -v cargo-nextest >/dev/null; then
  step "cargo install cargo-nextest"
  RUSTC=/usr/bin/rustc /usr/bin/cargo install --quiet cargo-nextest --locked
fi
cargo_fuzz_version=0.13.2
if [ "$(cargo-fuzz --version 2>/dev/null | awk '{print $2}')" != "$cargo_fuzz_version" ]; then
  step "cargo install cargo-fuzz $cargo_fuzz_version"
  RUSTC=/usr/bin/rustc /usr/bin/cargo install --quiet cargo-fuzz --version "$cargo_fuzz_version" --locked --force
fi

venv="${EDGESHARE_VENV:-$HOME/.cache/edgeshare/venv}"
python_clients=(smbprotocol==1.17.0 impacket==0.13.1)
if ! "$venv/bin/python" -c 'import smbprotocol, impacket' 2>/dev/null; then
  step "python venv with ${python_clients[*]} ($venv)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${python_clients[@]}"
fi

stamp="$root/end2end/node_modules/.edgeshare-lock-$(sha256sum "$root/end2end/package-lock.json" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  step "npm ci (end2end)"
  ( cd "$root/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null )
  touch "$stamp"
fi
step "ready"
