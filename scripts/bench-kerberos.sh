#!/usr/bin/env bash
# Kerberos sign-in, measured side by side in one run:
#   - SESSION_SETUP over TCP: EdgeShare with Kerberos, EdgeShare with NTLMv2, and Samba's smbd
#     with Kerberos for the same MIT realm (`kerberos method = dedicated keytab`) and with NTLMv2;
#     each logon a new connection (impacket, scripts/bench_logon.py), sequential: the median and
#     90th percentile time of one logon, and logons per second.
#   - the KDC proxy: MIT kinit (an AS exchange with pre-authentication: two requests) straight to
#     the KDC and through EdgeShare's KDC proxy (HTTPS), one after another and WORKERS at once:
#     the added latency and requests per second.
# The realm (krb5kdc), Samba and EdgeShare run on loopback ports of their own, in a temporary
# directory, and stop with the script. Prints Markdown tables.
#
#   scripts/bench-kerberos.sh        (or `make bench-kerberos`; ROUNDS=3, LOGONS=200, KINITS=100, WORKERS=4)
#
# Needs root (Samba's peer adds a Unix user) and builds EdgeShare in release mode first;
# EDGESHARE_BIN=path uses that binary instead (to try the script; its numbers need a release build).
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
logons=${LOGONS:-200}
kinits=${KINITS:-100}
workers=${WORKERS:-4}
user=benchuser
password='Bench-pass-1'
realm=BENCH.TEST
host=fs.bench.test
target="${CARGO_TARGET_DIR:-$root/target}"
python="${EDGESHARE_PYTHON:-${EDGESHARE_VENV:-$HOME/.cache/edgeshare/venv}/bin/python}"
nss_wrapper=/usr/lib/x86_64-linux-gnu/libnss_wrapper.so

if [ -n "${EDGESHARE_BIN:-}" ]; then
  edgeshare=$EDGESHARE_BIN
else
  "$root/scripts/build-release.sh"
  edgeshare="$target/release/edgeshare"
fi

work=$(mktemp -d /dev/shm/edgeshare-bench-krb.XXXXXX)
edgeshare_pid=""
kdc_pid=""
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "failed; the end of EdgeShare's log and the KDC's:" >&2
    tail -n 20 "$work/edgeshare.log" "$work/kdc.log" >&2 2>/dev/null || true
  fi
  [ -n "$edgeshare_pid" ] && kill "$edgeshare_pid" 2>/dev/null && wait "$edgeshare_pid" 2>/dev/null
  [ -n "$kdc_pid" ] && kill "$kdc_pid" 2>/dev/null && wait "$kdc_pid" 2>/dev/null
  "$root/scripts/samba-peer.sh" stop "$work/samba" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# The MIT realm: a KDC on a free port, the user, the service principal and its keytab. No PAC in
# tickets: Samba's standalone smbd refuses tickets with one.
kdc_port=$(free_port)
cat >"$work/kdc.conf" <<CONF
[kdcdefaults]
 kdc_listen = 127.0.0.1:$kdc_port
 kdc_tcp_listen = 127.0.0.1:$kdc_port
[realms]
 $realm = {
  database_name = $work/principal
  key_stash_file = $work/stash
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  disable_pac = true
 }
[logging]
 kdc = FILE:$work/kdc.log
CONF
krb5_conf() {
  cat <<CONF
[libdefaults]
 default_realm = $realm
 dns_lookup_kdc = false
 dns_lookup_realm = false
 dns_canonicalize_hostname = false
 rdns = false
 udp_preference_limit = 1
[realms]
 $realm = {
  $1
 }
[domain_realm]
 $host = $realm
CONF
}
krb5_conf "kdc = 127.0.0.1:$kdc_port" >"$work/direct.conf"
export KRB5_KDC_PROFILE="$work/kdc.conf"
KRB5_CONFIG="$work/direct.conf" kdb5_util create -s -r "$realm" -P master-password-1 >/dev/null
KRB5_CONFIG="$work/direct.conf" kadmin.local -q "addprinc -pw $password $user" >/dev/null
KRB5_CONFIG="$work/direct.conf" kadmin.local -q "addprinc -randkey cifs/$host" >/dev/null
KRB5_CONFIG="$work/direct.conf" kadmin.local -q "ktadd -k $work/fs.keytab cifs/$host" >/dev/null
KRB5_CONFIG="$work/direct.conf" krb5kdc -n -r "$realm" &
kdc_pid=$!
wait_port "$kdc_port"

share="$work/share"
mkdir -p "$share"
# Samba: NTLM with its own password database, Kerberos with the same keytab.
id -u "$user" >/dev/null 2>&1 || useradd --no-create-home --shell /usr/sbin/nologin "$user"
chmod 755 "$work"
chown -R "$user" "$share"
chmod 644 "$work/fs.keytab"
samba_port=$(free_port)
SAMBA_PEER_GLOBAL_OPTIONS="realm = $realm
kerberos method = dedicated keytab
dedicated keytab file = FILE:$work/fs.keytab" \
  "$root/scripts/samba-peer.sh" start "$work/samba" "$samba_port" "$user" "$password" "$share" >&2

# EdgeShare: the local user for NTLM, the realm and the keytab for Kerberos, the KDC proxy with a
# certificate for the server's name.
edgeshare_port=$(free_port)
proxy_port=$(free_port)
data="$work/edgeshare"
es() { "$edgeshare" --data-dir "$data" "$@"; }
echo "$password" | es user add "$user" --password-stdin >/dev/null
es kerberos realm add "$realm" --kdc "127.0.0.1:$kdc_port" >/dev/null
es kerberos keytab import "$work/fs.keytab" >/dev/null
es share add share "$share" --full "$user" --full "$user@$realm" >/dev/null
es cert generate --dns "$host" >/dev/null
thumbprint=$(es cert list | awk -v h="$host" '$0 ~ h { print $1; exit }')
es quic map --name "$host" --thumbprint "$thumbprint" >/dev/null
es cert export "$thumbprint" --out "$work/proxy-ca.pem" >/dev/null
es kdc-proxy enable --port "$proxy_port" --address 127.0.0.1 >/dev/null
EDGESHARE_LOG=${EDGESHARE_LOG:-warn} "$edgeshare" --data-dir "$data" serve --console-addr 127.0.0.1:0 --console-plain-http \
  --site-root "$root/target/site" --smb-tcp-addr "127.0.0.1:$edgeshare_port" >"$work/edgeshare.log" 2>&1 &
edgeshare_pid=$!
wait_port "$edgeshare_port"
wait_port "$proxy_port"
krb5_conf "kdc = https://$host:$proxy_port/KdcProxy
  http_anchors = FILE:$work/proxy-ca.pem" >"$work/proxy.conf"
echo "127.0.0.1 $host" >"$work/hosts"

# The client's ticket for cifs/HOST, which impacket's Kerberos logons present from the cache.
export KRB5CCNAME="$work/client.ccache"  # a plain path: impacket reads it as a file name
echo "$password" | KRB5_CONFIG="$work/direct.conf" kinit "$user" >/dev/null
KRB5_CONFIG="$work/direct.conf" kvno "cifs/$host" >/dev/null

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A samples
field() { "$python" -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }

echo "logons: $rounds rounds of $logons per server and method, alternating..." >&2
for round in $(seq 1 "$rounds"); do
  for server in edgeshare samba; do
    port=$edgeshare_port
    [ "$server" = samba ] && port=$samba_port
    for method in kerberos ntlm; do
      out=$("$python" "$root/scripts/bench_logon.py" "$method" 127.0.0.1 "$host" "$port" "$user" "$password" \
        "$realm" "$logons")
      for f in median_ms p90_ms per_second; do samples[$server.$method.$f]+="$(field "$out" $f) "; done
    done
  done
  echo "  round $round of $rounds" >&2
done

# Seconds for COUNT kinits with krb5.conf $1, in $workers parallel loops when $2 = parallel.
kinit_run() {
  local conf=$1 how=$2 start end n=$kinits loops=1 i
  [ "$how" = parallel ] && loops=$workers
  start=$(date +%s.%N)
  for i in $(seq 1 "$loops"); do
    (
      for _ in $(seq 1 $((n / loops))); do
        echo "$password" | KRB5_CONFIG="$conf" KRB5CCNAME="FILE:$work/kinit$i.ccache" LD_PRELOAD="$nss_wrapper" \
          NSS_WRAPPER_HOSTS="$work/hosts" kinit "$user" >/dev/null || exit 1
      done
    ) &
  done
  wait
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
echo "kinit: $rounds rounds of $kinits, direct and through the KDC proxy..." >&2
for round in $(seq 1 "$rounds"); do
  for path in direct proxy; do
    for how in sequential parallel; do
      samples[kinit.$path.$how]+="$(kinit_run "$work/$path.conf" "$how") "
    done
  done
  echo "  round $round of $rounds" >&2
done

for name in "${!samples[@]}"; do echo "samples $name: ${samples[$name]}" >&2; done | sort >&2
m() { tr ' ' '\n' <<<"${samples[$1]}" | grep . | median; }
echo
echo "| SESSION_SETUP over TCP | logon median (ms) | p90 (ms) | logons/s | EdgeShare/Samba logons/s |"
echo "|---|---:|---:|---:|---:|"
for method in kerberos ntlm; do
  label=Kerberos
  [ "$method" = ntlm ] && label=NTLMv2
  for server in edgeshare samba; do
    name=EdgeShare
    [ "$server" = samba ] && name="Samba $(smbd --version | awk '{print $2}')"
    ratio=$(echo "$(m edgeshare.$method.per_second) / $(m samba.$method.per_second)" | bc -l)
    printf '| %s, %s | %.2f | %.2f | %.0f | %s |\n' "$name" "$label" "$(m $server.$method.median_ms)" \
      "$(m $server.$method.p90_ms)" "$(m $server.$method.per_second)" \
      "$([ "$server" = edgeshare ] && printf '%.2f' "$ratio" || echo)"
  done
done
echo
echo "| MIT kinit (AS exchange, 2 requests) | sequential: ms per kinit | $workers at once: kinits/s |"
echo "|---|---:|---:|"
for path in direct proxy; do
  label="straight to the KDC (TCP)"
  [ "$path" = proxy ] && label="through EdgeShare's KDC proxy (HTTPS)"
  printf '| %s | %.2f | %.0f |\n' "$label" "$(echo "$(m kinit.$path.sequential) * 1000 / $kinits" | bc -l)" \
    "$(echo "$kinits / $(m kinit.$path.parallel)" | bc -l)"
done
added=$(echo "($(m kinit.proxy.sequential) - $(m kinit.direct.sequential)) * 1000 / $kinits / 2" | bc -l)
echo
printf 'Added latency of the KDC proxy: %.2f ms per request (a new TLS connection each; kinit does not reuse it).\n' "$added"
echo "Medians of $rounds rounds; impacket $("$python" -c 'import importlib.metadata as m; print(m.version("impacket"))')"
echo "logons over loopback, each a new connection; MIT kinit $(dpkg-query -W -f='${Version}' krb5-user)."
