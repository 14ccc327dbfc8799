#!/usr/bin/env bash
# EdgeShare against Samba's smbd, side by side on this machine, with the same smbclient commands:
# a 1 GiB file read and written over SMB 3.1.1 unprotected, signed (AES-128-GMAC) and encrypted
# (AES-128-GCM, AES-256-GCM), then metadata work (listing 10,000 files, 1,000 small puts, 1,000
# deletes). The two servers alternate, ROUNDS times each; the medians and the EdgeShare/Samba
# ratios are printed as a Markdown table (throughput: higher is better; metadata: time, lower is
# better). Both serve the same directory on tmpfs, over loopback; neither requires signing, so
# the client's --client-protection decides.
#
#   scripts/bench-smb.sh            (or `make bench-smb`; ROUNDS=5 by default)
#   CASES='write encrypted' scripts/bench-smb.sh   (only the cases whose name matches this
#                                                    extended regular expression)
#
# Needs root (Samba's peer adds a Unix user) and builds EdgeShare in release mode first.
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-5}
cases=${CASES:-.}
user=benchuser
password='Bench-pass-1'
target="${CARGO_TARGET_DIR:-$root/target}"

"$root/scripts/build-release.sh"
edgeshare="$target/release/edgeshare"

work=$(mktemp -d /dev/shm/edgeshare-bench.XXXXXX)
share="$work/share"
mkdir -p "$share/many" "$work/local" "$work/edgeshare"
edgeshare_pid=""
cleanup() {
  [ -n "$edgeshare_pid" ] && kill "$edgeshare_pid" 2>/dev/null && wait "$edgeshare_pid" 2>/dev/null
  "$root/scripts/samba-peer.sh" stop "$work/samba" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "preparing 1 GiB and 10,000 files on tmpfs ($work)..." >&2
head -c $((1 << 30)) /dev/urandom >"$share/big.bin"
cp "$share/big.bin" "$work/local/upload.bin"
( cd "$share/many" && for i in $(seq 1 10000); do : >"f$i.txt"; done )
head -c 4096 /dev/urandom >"$work/local/small.bin"
for i in $(seq 1 1000); do echo "put small.bin s$i.bin"; done >"$work/puts.txt"
for i in $(seq 1 1000); do echo "del s$i.bin"; done >"$work/dels.txt"

# Samba: its own Unix user, owning the share so that its permission checks pass.
id -u "$user" >/dev/null 2>&1 || useradd --no-create-home --shell /usr/sbin/nologin "$user"
chmod 755 "$work"
chown -R "$user" "$share"
samba_port=$(free_port)
"$root/scripts/samba-peer.sh" start "$work/samba" "$samba_port" "$user" "$password" "$share" >&2

# EdgeShare: the same user and share, signing not required (as Samba's default).
edgeshare_port=$(free_port)
data="$work/edgeshare"
echo "$password" | "$edgeshare" --data-dir "$data" user add "$user" --password-stdin >/dev/null
"$edgeshare" --data-dir "$data" share add share "$share" --full "$user" >/dev/null
"$edgeshare" --data-dir "$data" settings set smb_signing_required false >/dev/null
EDGESHARE_LOG=warn "$edgeshare" --data-dir "$data" serve --console-addr 127.0.0.1:0 --console-plain-http \
  --site-root "$root/target/site" --smb-tcp-addr "127.0.0.1:$edgeshare_port" >"$work/edgeshare.log" 2>&1 &
edgeshare_pid=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$edgeshare_port") 2>/dev/null && break
  sleep 0.1
done

# Seconds taken by one smbclient run against the server on port $1 (fails loudly on any error).
timed() {
  local port=$1 protection=$2 option=$3 commands=$4 start end out
  start=$(date +%s.%N)
  if ! out=$(cd "$work/local" && smbclient //127.0.0.1/share -p "$port" -U "$user%$password" -m SMB3_11 \
    --client-protection="$protection" ${option:+"--option=$option"} -c "$commands" 2>&1); then
    echo "smbclient failed against port $port: $out" >&2
    exit 1
  fi
  if grep -q NT_STATUS_ <<<"$out"; then
    echo "smbclient reported an error against port $port: $out" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A samples
run_case() {
  local name=$1 protection=$2 option=$3 commands=$4 after=${5:-}
  grep -Eq -- "$cases" <<<"$name" || return 0
  for round in $(seq 1 "$rounds"); do
    for server in edgeshare samba; do
      local port=$edgeshare_port
      [ "$server" = samba ] && port=$samba_port
      samples[$name.$server]+="$(timed "$port" "$protection" "$option" "$commands") "
      [ -n "$after" ] && timed "$port" "$protection" "$option" "$after" >/dev/null
    done
    echo "  $name: round $round of $rounds" >&2
  done
}

echo "measuring ($rounds rounds, servers alternating)..." >&2
declare -a transfer_cases=(
  "plain|off|"
  "signed AES-128-GMAC|sign|client smb3 signing algorithms=AES-128-GMAC"
  "encrypted AES-128-GCM|encrypt|client smb3 encryption algorithms=AES-128-GCM"
  "encrypted AES-256-GCM|encrypt|client smb3 encryption algorithms=AES-256-GCM"
)
for case in "${transfer_cases[@]}"; do
  IFS='|' read -r label protection option <<<"$case"
  run_case "read $label" "$protection" "$option" "get big.bin /dev/null"
  run_case "write $label" "$protection" "$option" "put upload.bin upload.bin" "del upload.bin"
done
run_case "list 10,000 files" off "" "cd many; ls"
run_case "1,000 puts of 4 KiB" off "" "$(tr '\n' ';' <"$work/puts.txt")" "$(tr '\n' ';' <"$work/dels.txt")"
# The deletes need the files: put them first (untimed), then time the deletes.
grep -Eq -- "$cases" <<<"1,000 deletes" && for round in $(seq 1 "$rounds"); do
  for server in edgeshare samba; do
    port=$edgeshare_port
    [ "$server" = samba ] && port=$samba_port
    timed "$port" off "" "$(tr '\n' ';' <"$work/puts.txt")" >/dev/null
    samples["1,000 deletes.$server"]+="$(timed "$port" off "" "$(tr '\n' ';' <"$work/dels.txt")") "
  done
  echo "  1,000 deletes: round $round of $rounds" >&2
done

for name in "${!samples[@]}"; do echo "samples (s) $name: ${samples[$name]}" >&2; done | sort >&2
echo
# The samples of one case and server, one a line.
values() { tr ' ' '\n' <<<"${samples[$1]}" | grep .; }
# "min-max" of a case's samples as throughput (MiB/s) or as time (s): a wide spread says the
# machine was noisy, a drop shows in the median and its spread together.
spread_mib() { printf '%.0f-%.0f' "$(echo "$mib / $(values "$1" | sort -g | tail -n 1)" | bc -l)" \
  "$(echo "$mib / $(values "$1" | sort -g | head -n 1)" | bc -l)"; }
spread_s() { printf '%.3f-%.3f' "$(values "$1" | sort -g | head -n 1)" "$(values "$1" | sort -g | tail -n 1)"; }
echo "| case | EdgeShare | (spread) | Samba $(smbd --version | awk '{print $2}') | (spread) | EdgeShare/Samba |"
echo "|---|---:|---:|---:|---:|---:|"
mib=1024
for case in "${transfer_cases[@]}"; do
  IFS='|' read -r label _ _ <<<"$case"
  for direction in read write; do
    name="$direction $label"
    [ -n "${samples[$name.edgeshare]:-}" ] || continue
    e=$(values "$name.edgeshare" | median)
    s=$(values "$name.samba" | median)
    printf '| %s (MiB/s) | %.0f | %s | %.0f | %s | %.2f |\n' "$name" "$(echo "$mib / $e" | bc -l)" \
      "$(spread_mib "$name.edgeshare")" "$(echo "$mib / $s" | bc -l)" "$(spread_mib "$name.samba")" \
      "$(echo "$s / $e" | bc -l)"
  done
done
for name in "list 10,000 files" "1,000 puts of 4 KiB" "1,000 deletes"; do
  [ -n "${samples[$name.edgeshare]:-}" ] || continue
  e=$(values "$name.edgeshare" | median)
  s=$(values "$name.samba" | median)
  printf '| %s (s) | %.3f | %s | %.3f | %s | %.2f |\n' "$name" "$e" "$(spread_s "$name.edgeshare")" "$s" \
    "$(spread_s "$name.samba")" "$(echo "$e / $s" | bc -l)"
done
echo
echo "Medians of $rounds rounds, with the slowest-fastest spread; throughput ratio = EdgeShare/Samba speed (higher"
echo "is better), metadata ratio = EdgeShare/Samba time (lower is better). smbclient $(smbclient --version | awk '{print $2}'),"
echo "SMB 3.1.1, loopback, tmpfs."
