#!/usr/bin/env bash
# SMB over QUIC against raw quinn, in one run on this machine: the single-stream throughput of a
# minimal quinn sender and receiver in two processes, as client and server are (memory to memory,
# and with the server's end reading or writing a tmpfs file; also both ends in one process), then reads and writes of a 1 GiB file on tmpfs through a running
# EdgeShare with two native SMB-over-QUIC clients (the benchmark's lean client and the smb crate),
# alternating ROUNDS times (5 by default); medians, the SMB/raw ratios and the CPU time per GiB of
# each side; then the server's memory with 100 concurrent QUIC sessions and the time to a tree
# connect over QUIC. Prints Markdown tables.
#
#   scripts/bench-quic.sh            (or `make bench-quic`)
#   ROUNDS=N                         rounds (5)
#   IO_KIB=1024 IN_FLIGHT=16         the SMB clients' READ/WRITE size and requests in flight (8192, 4)
#   ONLY='client to server|WRITE'    just the cases whose names contain one of the texts
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
user=benchuser
password='Bench-pass-1'
target="${CARGO_TARGET_DIR:-$root/target}"
size=$((1 << 30))

"$root/scripts/build-release.sh"
echo "building the benchmark client (release)..." >&2
cargo build --locked --release -p server --example bench_quic >&2
edgeshare="$target/release/edgeshare"
client="$target/release/examples/bench_quic"

work=$(mktemp -d /dev/shm/edgeshare-bench-quic.XXXXXX)
edgeshare_pid=""
cleanup() {
  [ -n "$edgeshare_pid" ] && kill "$edgeshare_pid" 2>/dev/null && wait "$edgeshare_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
free_udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "preparing a 1 GiB file on tmpfs ($work)..." >&2
mkdir -p "$work/share" "$work/data"
head -c "$size" /dev/urandom >"$work/share/big.bin"
data="$work/data"
run() { "$edgeshare" --data-dir "$data" "$@"; }
echo "$password" | run user add "$user" --password-stdin >/dev/null
run share add share "$work/share" --full "$user" >/dev/null
run cert generate --dns localhost --ca 'EdgeShare Bench CA' >/dev/null
thumbprint=$(run cert list | awk '$2 == "usable" {print $1; exit}')
run cert export "$thumbprint" --ca --out "$work/ca.der" >/dev/null
run quic map --name localhost --thumbprint "$thumbprint" >/dev/null
port=$(free_udp_port)
run quic enable --port "$port" --address 127.0.0.1 >/dev/null

EDGESHARE_LOG=warn "$edgeshare" --data-dir "$data" serve --console-addr 127.0.0.1:0 --console-plain-http \
  --site-root "$root/target/site" >"$work/edgeshare.log" 2>&1 &
edgeshare_pid=$!
for _ in $(seq 1 100); do
  grep -q 'SMB over QUIC: ' "$work/edgeshare.log" && break
  sleep 0.1
done
grep -q 'SMB over QUIC: ' "$work/edgeshare.log" || { cat "$work/edgeshare.log" >&2; exit 1; }

echo "measuring (ROUNDS=${ROUNDS:-5})..." >&2
"$client" "127.0.0.1:$port" "$work/ca.der" share big.bin "$size" "$user" "$password" "$edgeshare_pid" "$work/share"
