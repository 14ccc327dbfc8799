#!/usr/bin/env bash
# Work that survives the network, measured side by side in one run (smbprotocol over TCP,
# scripts/bench_durable.py):
#   - reclaim: a client holding OPENS durable opens loses its connection and gets them all back
#     on a new one (new connection, session, tree connect, one DH2C each): the median of ROUNDS
#     rounds. EdgeShare with durable opens (batch oplock), EdgeShare with persistent opens on a
#     continuously available share, and Samba's smbd with durable opens.
#   - the cost of persistent handles: CREATE (DH2Q) + CLOSE pairs per second, one after another,
#     on a continuously available share (each open journaled in the database first) against a
#     plain share, and against Samba.
# EdgeShare and Samba run on loopback ports of their own, in a temporary directory, and stop with
# the script. Prints Markdown tables.
#
#   scripts/bench-durable.sh        (or `make bench-durable`; OPENS=100, ROUNDS=5, CREATES=2000)
#
# Needs root (Samba's peer adds a Unix user) and builds EdgeShare in release mode first;
# EDGESHARE_BIN=path uses that binary instead (to try the script; its numbers need a release build).
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
opens=${OPENS:-100}
rounds=${ROUNDS:-5}
creates=${CREATES:-2000}
user=benchuser
password='Bench-pass-1'
target="${CARGO_TARGET_DIR:-$root/target}"
python="${EDGESHARE_PYTHON:-${EDGESHARE_VENV:-$HOME/.cache/edgeshare/venv}/bin/python}"

if [ -n "${EDGESHARE_BIN:-}" ]; then
  edgeshare=$EDGESHARE_BIN
else
  "$root/scripts/build-release.sh"
  edgeshare="$target/release/edgeshare"
fi

# On disk, not in memory: write-through and the journal's commits cost what they cost on a disk.
work=$(mktemp -d /var/tmp/edgeshare-bench-durable.XXXXXX)
edgeshare_pid=""
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "failed; the end of EdgeShare's log:" >&2
    tail -n 20 "$work/edgeshare.log" >&2 2>/dev/null || true
  fi
  [ -n "$edgeshare_pid" ] && kill "$edgeshare_pid" 2>/dev/null && wait "$edgeshare_pid" 2>/dev/null
  "$root/scripts/samba-peer.sh" stop "$work/samba" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

mkdir -p "$work/samba-share" "$work/plain" "$work/ca" "$work/site/pkg"
touch "$work/site/pkg/edgeshare.js"  # serve checks for the console's files; no browser here
id -u "$user" >/dev/null 2>&1 || useradd --no-create-home --shell /usr/sbin/nologin "$user"
chmod 755 "$work"
chown -R "$user" "$work/samba-share"
samba_port=$(free_port)
# Durable handles in Samba need these share options.
SAMBA_PEER_SHARE_OPTIONS="kernel oplocks = no
kernel share modes = no
posix locking = no" \
  "$root/scripts/samba-peer.sh" start "$work/samba" "$samba_port" "$user" "$password" "$work/samba-share" >&2

edgeshare_port=$(free_port)
data="$work/edgeshare"
es() { "$edgeshare" --data-dir "$data" "$@"; }
echo "$password" | es user add "$user" --password-stdin >/dev/null
es share add plain "$work/plain" --full "$user" >/dev/null
es share add ca "$work/ca" --full "$user" --continuous-availability >/dev/null
EDGESHARE_LOG=${EDGESHARE_LOG:-warn} "$edgeshare" --data-dir "$data" serve --console-addr 127.0.0.1:0 --console-plain-http \
  --site-root "$work/site" --smb-tcp-addr "127.0.0.1:$edgeshare_port" >"$work/edgeshare.log" 2>&1 &
edgeshare_pid=$!
wait_port "$edgeshare_port"

field() { "$python" -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }
run() { "$python" "$root/scripts/bench_durable.py" "$@"; }

echo "reclaim: $rounds rounds of $opens opens each..." >&2
r_plain=$(run reclaim 127.0.0.1 "$edgeshare_port" "$user" "$password" plain "$opens" "$rounds")
r_ca=$(run reclaim 127.0.0.1 "$edgeshare_port" "$user" "$password" ca "$opens" "$rounds" persistent)
r_samba=$(run reclaim 127.0.0.1 "$samba_port" "$user" "$password" share "$opens" "$rounds")
echo "create/close: $creates pairs each..." >&2
c_plain=$(run create-close 127.0.0.1 "$edgeshare_port" "$user" "$password" plain "$creates")
c_ca=$(run create-close 127.0.0.1 "$edgeshare_port" "$user" "$password" ca "$creates" persistent)
c_samba=$(run create-close 127.0.0.1 "$samba_port" "$user" "$password" share "$creates")

samba="Samba $(smbd --version | awk '{print $2}')"
echo
echo "Getting $opens opens back after a lost connection (median of $rounds rounds; smbprotocol over TCP):"
echo
echo "| server | median (ms) | fastest (ms) | vs Samba |"
echo "|---|---:|---:|---:|"
for row in "EdgeShare, durable (batch oplock)|$r_plain" "EdgeShare, persistent (CA share)|$r_ca" "$samba, durable (batch oplock)|$r_samba"; do
  name=${row%%|*}; json=${row#*|}
  ratio=$(echo "$(field "$json" median_ms) / $(field "$r_samba" median_ms)" | bc -l)
  printf '| %s | %.1f | %.1f | %.2f |\n' "$name" "$(field "$json" median_ms)" "$(field "$json" best_ms)" "$ratio"
done
echo
echo "CREATE (DH2Q) + CLOSE pairs per second, one after another:"
echo
echo "| server, share | pairs/s | vs EdgeShare plain | vs Samba |"
echo "|---|---:|---:|---:|"
for row in "EdgeShare, plain share (durable)|$c_plain" "EdgeShare, continuously available (persistent)|$c_ca" "$samba (durable)|$c_samba"; do
  name=${row%%|*}; json=${row#*|}
  printf '| %s | %.0f | %.2f | %.2f |\n' "$name" "$(field "$json" per_second)" \
    "$(echo "$(field "$json" per_second) / $(field "$c_plain" per_second)" | bc -l)" \
    "$(echo "$(field "$json" per_second) / $(field "$c_samba" per_second)" | bc -l)"
done
