#!/usr/bin/env bash
# Legitimate clients while EdgeShare is attacked: 20 smbclient clients listing a directory of
# 1,000 files and one copying 256 MiB, first alone and then while 1,000 hostile connections
# (silent, slow, flooding before sign-in, signed in but never reading their answers) attack the
# same server, over TCP and over QUIC (smbclient through `edgeshare quic bridge`). Prints the
# listings' median and p99 time, the copy's throughput and the server's peak memory of each phase,
# and how much of their speed the legitimate clients kept. The server runs with its default
# resource budget.
#
#   scripts/bench-abuse.sh            (or `make bench-abuse`)
#   SERVER_ENV="NAME=VALUE ..." scripts/bench-abuse.sh   (the server runs with these variables)
#   EDGESHARE_BUILT=1 scripts/bench-abuse.sh   (the last release build is used: scripts/build-release.sh)
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
user=benchuser
password='Bench-pass-1'
target="${CARGO_TARGET_DIR:-$root/target}"

"$root/scripts/build-release.sh"
echo "building the benchmark client (release)..." >&2
cargo build --locked --release -p server --example bench_abuse >&2
edgeshare="$target/release/edgeshare"
client="$target/release/examples/bench_abuse"

work=$(mktemp -d /dev/shm/edgeshare-bench-abuse.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && { wait "$pid" 2>/dev/null || true; }; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.$1); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }

echo "preparing 256 MiB and 1,000 files on tmpfs ($work)..." >&2
mkdir -p "$work/share/many" "$work/data"
head -c $((256 << 20)) /dev/urandom >"$work/share/big.bin"
( cd "$work/share/many" && for i in $(seq 1 1000); do : >"f$i.txt"; done )
data="$work/data"
run() { "$edgeshare" --data-dir "$data" "$@"; }
echo "$password" | run user add "$user" --password-stdin >/dev/null
run share add share "$work/share" --full "$user" >/dev/null
run cert generate --dns localhost --ca 'EdgeShare Bench CA' >/dev/null
thumbprint=$(run cert list | awk '$2 == "usable" {print $1; exit}')
run cert export "$thumbprint" --ca --out "$work/ca.der" >/dev/null
run quic map --name localhost --thumbprint "$thumbprint" >/dev/null
quic_port=$(free_port SOCK_DGRAM)
run quic enable --port "$quic_port" --address 127.0.0.1 >/dev/null
tcp_port=$(free_port SOCK_STREAM)
console_port=$(free_port SOCK_STREAM)

env ${SERVER_ENV:-} EDGESHARE_LOG=warn "$edgeshare" --data-dir "$data" serve --console-addr "127.0.0.1:$console_port" --console-plain-http \
  --site-root "$root/target/site" --smb-tcp-addr "127.0.0.1:$tcp_port" >"$work/edgeshare.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 1 100); do
  grep -q 'SMB over QUIC: ' "$work/edgeshare.log" && break
  sleep 0.1
done
grep -q 'SMB over QUIC: ' "$work/edgeshare.log" || { cat "$work/edgeshare.log" >&2; exit 1; }
bridge_port=$(free_port SOCK_STREAM)
"$edgeshare" quic bridge --listen "127.0.0.1:$bridge_port" --connect "127.0.0.1:$quic_port" --name localhost \
  --ca "$work/ca.der" >"$work/bridge.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$bridge_port") 2>/dev/null && break
  sleep 0.1
done

echo "measuring..." >&2
"$client" "127.0.0.1:$tcp_port" "127.0.0.1:$quic_port" "127.0.0.1:$bridge_port" "$work/ca.der" "$user" "$password" \
  "$server_pid"
echo
echo "Refused by the resource budget during the run (/metrics):"
curl -s "http://127.0.0.1:$console_port/metrics" | grep '^edgeshare_refused_total' | grep -v ' 0$' || true
