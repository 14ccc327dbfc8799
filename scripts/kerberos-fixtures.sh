#!/usr/bin/env bash
# Makes REAL Kerberos test fixtures with MIT Kerberos for smb-core's Kerberos acceptor tests:
#   smb-core/tests/data/kerberos/service.keytab        keys of cifs/fs.example.com@EXAMPLE.COM (fixed password)
#   smb-core/tests/data/kerberos/ap-req-<name>.bin     GSS-API initial context tokens (0x60 framing, krb5 OID,
#                                                      TOK_ID 01 00, KRB_AP_REQ) made by MIT's initiator
#   smb-core/tests/data/kerberos/ap-rep-<name>.bin     the reply tokens (TOK_ID 02 00, KRB_AP_REP) of MIT's acceptor
#   smb-core/tests/data/kerberos/README.txt            what each file is, how it was made, and the recorded values
#                                                      as "<file> <key> = <value>" lines
#
# How: a throwaway realm EXAMPLE.COM in a mktemp directory (kdb5_util, kadmin.local) and a KDC (krb5kdc -n, on a free
# 127.0.0.1 port, TCP and UDP) that this script starts and stops by its pid. alice gets a TGT (kinit) and a service
# ticket (kvno) in a fresh credential cache per token; the service principal's newest key decides the ticket enctype
# (MIT uses the first key of the newest kvno), so the script changes it between runs with `cpw -keepold -e`, and the
# client's default_tgs_enctypes picks the same session key enctype. Then scripts/kerberos-fixtures.py makes each token
# with python3-gssapi, has MIT's acceptor accept it (KRB5_KTNAME = the exported keytab), and checks every recorded key
# with MIT's crypto (see that file).
#
# Needs Debian's krb5-kdc krb5-admin-server krb5-user python3-gssapi (apt-get install -y ...), loopback only.
# Re-running is safe: it replaces exactly the files listed above (the bytes and keys change on every run: session keys
# and subkeys are random, times are the time of the run). KEEP_TMP=1 keeps the temp dir (configs, logs, caches).
# Optional: KERBEROS_FIXTURES_OUT (output dir), PYTHON (an interpreter with MIT-linked gssapi; default /usr/bin/python3).
set -euo pipefail

prog=$(basename "$0")
die() { echo "$prog: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${KERBEROS_FIXTURES_OUT:-$repo/smb-core/tests/data/kerberos}
py=${PYTHON:-/usr/bin/python3}
helper=$here/kerberos-fixtures.py

realm=EXAMPLE.COM
alice_pw=Alice-password-1
service=cifs/fs.example.com
service_pw=Service-password-1
all_enctypes="aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128 rc4-hmac"
addprinc_e="aes256-cts-hmac-sha1-96:normal,aes128-cts-hmac-sha1-96:normal,aes256-cts-hmac-sha384-192:normal,aes128-cts-hmac-sha256-128:normal,rc4-hmac:normal"

# name | ticket enctype (service principal's newest key) | mutual or no-mutual. The session key uses the same enctype.
runs=(
  "aes256-cts-hmac-sha1-96 aes256-cts-hmac-sha1-96 mutual"
  "aes256-cts-hmac-sha1-96-no-mutual aes256-cts-hmac-sha1-96 no-mutual"
  "aes128-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 mutual"
  "aes256-cts-hmac-sha384-192 aes256-cts-hmac-sha384-192 mutual"
  "aes128-cts-hmac-sha256-128 aes128-cts-hmac-sha256-128 mutual"
  "rc4-hmac rc4-hmac mutual"
)

for tool in kdb5_util kadmin.local krb5kdc kinit kvno klist; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y krb5-kdc krb5-admin-server krb5-user)"
done
"$py" -c 'import gssapi.raw' 2>/dev/null || die "$py cannot import gssapi (apt-get install -y python3-gssapi)"
[[ -r $helper ]] || die "missing $helper"

tmp=$(mktemp -d -t kerberos-fixtures.XXXXXX)
kdc_pid=""
cleanup() {
  local rc=$?
  if [[ -n $kdc_pid ]] && kill -0 "$kdc_pid" 2>/dev/null; then
    kill "$kdc_pid" 2>/dev/null || true
    wait "$kdc_pid" 2>/dev/null || true
  fi
  if [[ -n ${KEEP_TMP:-} ]]; then echo "$prog: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export LC_ALL=C TZ=UTC
export KRB5_CONFIG=$tmp/krb5.conf KRB5_KDC_PROFILE=$tmp/kdc.conf KRB5RCACHEDIR=$tmp
unset KRB5CCNAME KRB5_KTNAME KRB5_CLIENT_KTNAME KRB5_TRACE || true

port=$("$py" "$helper" free-port)

cat >"$tmp/kdc.conf" <<EOF
[kdcdefaults]
 kdc_listen = 127.0.0.1:$port
 kdc_tcp_listen = 127.0.0.1:$port
[realms]
 $realm = {
  database_name = $tmp/principal
  key_stash_file = $tmp/stash
  acl_file = $tmp/kadm5.acl
  kdc_listen = 127.0.0.1:$port
  kdc_tcp_listen = 127.0.0.1:$port
  supported_enctypes = ${all_enctypes// /:normal }:normal
 }
[logging]
 kdc = FILE:$tmp/kdc.log
 admin_server = FILE:$tmp/kadmind.log
 default = FILE:$tmp/krb5lib.log
EOF
: >"$tmp/kadm5.acl"

# krb5.conf for the KDC, kadmin.local and (plus default_tgs_enctypes) the clients. allow_rc4: Debian's 1.20.1-2+deb12u*
# carries the CVE-2025-3576 fix, after which the KDC issues no rc4-hmac session key unless allowed.
write_krb5_conf() {
  local file=$1 tgs_enctypes=${2:-}
  {
    echo "[libdefaults]"
    echo " default_realm = $realm"
    echo " dns_lookup_kdc = false"
    echo " dns_lookup_realm = false"
    echo " dns_canonicalize_hostname = false"
    echo " rdns = false"
    echo " allow_rc4 = true"
    echo " permitted_enctypes = $all_enctypes"
    [[ -z $tgs_enctypes ]] || echo " default_tgs_enctypes = $tgs_enctypes"
    echo "[realms]"
    echo " $realm = {"
    echo "  kdc = 127.0.0.1:$port"
    echo " }"
    echo "[domain_realm]"
    echo " .example.com = $realm"
    echo " fs.example.com = $realm"
  } >"$file"
}
write_krb5_conf "$tmp/krb5.conf"

kadmin() {
  kadmin.local -r "$realm" -q "$1" >>"$tmp/kadmin.out" 2>&1 || { cat "$tmp/kadmin.out" >&2; die "kadmin.local -q '$1' failed"; }
}
# "vno N, ENCTYPE" of the service principal's first key (the one the KDC encrypts tickets with).
first_key() {
  kadmin.local -r "$realm" -q "getprinc $service" 2>/dev/null | sed -n 's/^Key: vno \([0-9]*\), \(DEPRECATED:\)\{0,1\}\(.*\)$/\1 \3/p' | head -1
}

echo "$prog: realm $realm in $tmp, KDC on 127.0.0.1:$port (TCP and UDP)"
kdb5_util create -s -r "$realm" -P "master-password-$$" >"$tmp/kdb5_util.out" 2>&1 || { cat "$tmp/kdb5_util.out" >&2; die "kdb5_util create failed"; }
kadmin "addprinc -pw $alice_pw alice"
kadmin "addprinc -pw $service_pw -e $addprinc_e $service"
[[ $(first_key) == "1 aes256-cts-hmac-sha1-96" ]] || die "unexpected keys for $service: $(first_key)"

krb5kdc -n -r "$realm" >"$tmp/krb5kdc.out" 2>&1 &
kdc_pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$kdc_pid" 2>/dev/null || { cat "$tmp/krb5kdc.out" "$tmp/kdc.log" >&2 || true; die "krb5kdc exited"; }
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || die "KDC not listening on 127.0.0.1:$port"

: >"$tmp/commands.txt"
for run in "${runs[@]}"; do
  read -r name enctype _ <<<"$run"
  kadm_enctype=${enctype/#rc4-hmac/arcfour-hmac}  # kadmin's name for it
  current=$(first_key)
  if [[ ${current#* } != "$kadm_enctype" ]]; then
    kadmin "cpw -keepold -pw $service_pw -e $enctype:normal $service"
    echo "kadmin.local -q \"cpw -keepold -pw $service_pw -e $enctype:normal $service\"" >>"$tmp/commands.txt"
    current=$(first_key)
    [[ ${current#* } == "$kadm_enctype" ]] || die "cpw did not make $enctype the first key ($current)"
  fi
  tgs=$enctype
  [[ $enctype == aes256-cts-hmac-sha1-96 ]] || tgs="$enctype aes256-cts-hmac-sha1-96"  # the TGT's session key is aes256
  write_krb5_conf "$tmp/krb5-$name.conf" "$tgs"
  rm -f "$tmp/cc-$name"
  (
    export KRB5_CONFIG=$tmp/krb5-$name.conf KRB5CCNAME=FILE:$tmp/cc-$name
    kinit alice <<<"$alice_pw" >/dev/null
    kvno "$service" >"$tmp/kvno-$name.txt"
    klist -e >"$tmp/klist-$name.txt"
  )
  echo "KRB5_CONFIG=krb5-$name.conf KRB5CCNAME=FILE:cc-$name kinit alice; kvno $service   # service key: kvno ${current% *} $enctype" >>"$tmp/commands.txt"
  echo "$prog: $name: $(cat "$tmp/kvno-$name.txt"); $(grep -A1 "$service" "$tmp/klist-$name.txt" | tail -1 | sed 's/^[[:space:]]*//')"
done

kadmin "ktadd -k $tmp/service.keytab -norandkey $service"
klist -k -e -K "$tmp/service.keytab" >"$tmp/keytab.txt"
# Expected: kvno 1 with all five enctypes (addprinc), then one key per later kvno (cpw -keepold -e).
expect_kt=("1 $service@$realm (aes256-cts-hmac-sha1-96)" "1 $service@$realm (aes128-cts-hmac-sha1-96)"
  "1 $service@$realm (aes256-cts-hmac-sha384-192)" "1 $service@$realm (aes128-cts-hmac-sha256-128)"
  "1 $service@$realm (DEPRECATED:arcfour-hmac)" "2 $service@$realm (aes128-cts-hmac-sha1-96)"
  "3 $service@$realm (aes256-cts-hmac-sha384-192)" "4 $service@$realm (aes128-cts-hmac-sha256-128)"
  "5 $service@$realm (DEPRECATED:arcfour-hmac)")
for e in "${expect_kt[@]}"; do
  grep -qF -- "   $e  (0x" "$tmp/keytab.txt" || { cat "$tmp/keytab.txt" >&2; die "keytab lacks: $e"; }
done
[[ $(grep -c '(0x' "$tmp/keytab.txt") == "${#expect_kt[@]}" ]] || { cat "$tmp/keytab.txt" >&2; die "keytab has unexpected entries"; }

mkdir -p "$tmp/out"
: >"$tmp/values.txt"
for run in "${runs[@]}"; do
  read -r name enctype mutual <<<"$run"
  flag=()
  [[ $mutual == mutual ]] || flag=(--no-mutual)
  KRB5_CONFIG=$tmp/krb5-$name.conf KRB5CCNAME=FILE:$tmp/cc-$name KRB5_KTNAME=FILE:$tmp/service.keytab \
    "$py" "$helper" token --name "$name" --out-dir "$tmp/out" --keytab "$tmp/service.keytab" \
    --values "$tmp/values.txt" "${flag[@]}"
  tok=$tmp/out/ap-req-$name.bin
  hex=$(od -An -tx1 -v "$tok" | tr -d ' \n')
  [[ $hex == 60* ]] || die "$tok does not start with 0x60"
  [[ $hex == *06092a864886f712010202* ]] || die "$tok lacks the krb5 OID"
done

mit_version=$(klist -V 2>&1 | head -1)
deb_version=$(dpkg-query -W -f '${Version}' krb5-kdc 2>/dev/null || echo unknown)
gssapi_version=$(dpkg-query -W -f '${Version}' python3-gssapi 2>/dev/null || echo unknown)
generated=$(date -u +%Y-%m-%dT%H:%M:%SZ)

{
  cat <<EOF
# Kerberos fixtures made with MIT Kerberos by scripts/kerberos-fixtures.sh (helper scripts/kerberos-fixtures.py).
# Generated $generated. $mit_version (Debian krb5-kdc/krb5-user $deb_version), python3-gssapi $gssapi_version,
# $("$py" --version 2>&1) at $py.
# Re-running the script replaces every file here with new bytes: session keys and subkeys are random and the times are
# those of the run, so tests must take the values below, not remember them.
#
# Realm EXAMPLE.COM, KDC krb5kdc on 127.0.0.1 (TCP+UDP); supported_enctypes in kdc.conf: $all_enctypes;
# client krb5.conf: dns_canonicalize_hostname = false, rdns = false, allow_rc4 = true, permitted_enctypes = all five,
# default_tgs_enctypes = "<enctype> aes256-cts-hmac-sha1-96" per token (so the session key has the ticket's enctype).
# MIT 1.20 puts a PAC (AD-IF-RELEVANT[AD-WIN2K-PAC], ad-type 1 wrapping 128) in every ticket: see
# ticket_authorization_data below.
#
# Commands (all with KRB5_CONFIG/KRB5_KDC_PROFILE in the temp dir):
#   kdb5_util create -s -r EXAMPLE.COM -P <master password>
#   kadmin.local -q "addprinc -pw $alice_pw alice"
#   kadmin.local -q "addprinc -pw $service_pw -e $addprinc_e $service"
#   krb5kdc -n -r EXAMPLE.COM
$(sed 's/^/#   /' "$tmp/commands.txt")
#   kadmin.local -q "ktadd -k service.keytab -norandkey $service"     (exports every kvno's keys unchanged)
#   then per token, with that token's KRB5_CONFIG and KRB5CCNAME, KRB5_KTNAME=service.keytab:
#   python3-gssapi: SecurityContext(name=Name("cifs@fs.example.com", hostbased_service), mech=krb5, usage="initiate",
#   flags=mutual|integ|conf (no mutual for *-no-mutual)).step() -> ap-req-<name>.bin; then an acceptor
#   SecurityContext(usage="accept").step(token) -> ap-rep-<name>.bin (mutual only), fed back to the initiator, which
#   completes. The helper checks, with MIT's krb5_c_decrypt: the ticket decrypts with the keytab key (usage 2) and holds
#   the session key found in the credential cache; the authenticator decrypts with it (usage 11) and its subkey equals
#   both sides' lucid-context ctx_key; the AP-REP decrypts with it (usage 12), echoes the authenticator's ctime/cusec,
#   and its subkey equals both sides' lucid acceptor_subkey (rc4-hmac: MIT's acceptor makes no subkey of its own and
#   its AP-REP carries the authenticator's subkey again).
#
# The tickets are valid only from starttime to endtime (24 hours) of the run: a test that checks ticket times must
# use its own clock set inside that window (e.g. authenticator_ctime), never the wall clock.
#
# Files:
#   service.keytab   MIT keytab (0x502) of $service@$realm, password "$service_pw", salt "EXAMPLE.COMcifsfs.example.com":
#                    kvno 1 = the five enctypes of addprinc, kvno 2..5 = one key each from cpw -keepold (same password,
#                    so the same key bytes as kvno 1's key of that enctype). klist -k -e -K service.keytab:
$(sed "s|$tmp/||; s/^/#                      /" "$tmp/keytab.txt")
#   ap-req-<name>.bin  the initiator's raw GSS-API token: 0x60 <len> 06 09 2a864886f712010202 01 00 <KRB_AP_REQ>.
#   ap-rep-<name>.bin  MIT acceptor's raw reply token: 0x60 <len> 06 09 2a864886f712010202 02 00 <KRB_AP_REP>,
#                      enc-part encrypted with the ticket session key (key usage 12).
#   <name> is the ticket (and session key) enctype; aes256-cts-hmac-sha1-96-no-mutual has no mutual flag (no AP-REP).
#
# Values: "<file> <key> = <value>"; numbers are decimal unless 0x-prefixed; keys are lowercase hex; times are Unix
# seconds with the UTC time in parentheses. ticket_* and session_key come from the MIT credential cache and the
# decrypted ticket; authenticator_* and subkey from the decrypted authenticator (equal to MIT's lucid ctx_key);
# checksum_* is the RFC 4121 0x8003 checksum (Lgth 16, Bnd, Flags as sent); acceptor_* is what MIT's acceptor reported
# (initiator name, target name, ret_flags, authtime, PAC size, the acceptor subkey from its lucid context).
#
EOF
  for run in "${runs[@]}"; do
    read -r name _ <<<"$run"
    echo "# ap-req-$name.bin: kvno: $(cat "$tmp/kvno-$name.txt"); klist -e:"
    sed "s|$tmp/||; s/^/#   /" "$tmp/klist-$name.txt"
  done
  echo "#"
  echo "service.keytab principal = $service@$realm"
  echo "service.keytab password = $service_pw"
  echo "service.keytab salt = EXAMPLE.COMcifsfs.example.com"
  echo "service.keytab entries = ${#expect_kt[@]}"
  # "service.keytab key <kvno> <enctype number> = <hex>", from klist -k -e -K
  sed -n 's/^ *\([0-9]*\) [^ ]* (\(DEPRECATED:\)\{0,1\}\([a-z0-9-]*\))  (0x\([0-9a-f]*\))$/\1 \3 \4/p' "$tmp/keytab.txt" |
    while read -r kvno ename key; do
      case $ename in
        aes128-cts-hmac-sha1-96) num=17 ;; aes256-cts-hmac-sha1-96) num=18 ;;
        aes128-cts-hmac-sha256-128) num=19 ;; aes256-cts-hmac-sha384-192) num=20 ;;
        arcfour-hmac) num=23 ;; *) die "unexpected keytab enctype $ename" ;;
      esac
      echo "service.keytab key $kvno $num = $key"
    done
  echo "alice password = $alice_pw"
  echo
  cat "$tmp/values.txt"
} >"$tmp/out/README.txt"
cp "$tmp/service.keytab" "$tmp/out/service.keytab"
chmod 644 "$tmp/out"/*
[[ $(grep -c '^service.keytab key ' "$tmp/out/README.txt") == "${#expect_kt[@]}" ]] || die "keytab keys missing from README.txt"

mkdir -p "$out"
rm -f "$out"/ap-req-*.bin "$out"/ap-rep-*.bin "$out/service.keytab" "$out/README.txt"
cp "$tmp"/out/* "$out/"
echo "$prog: wrote $(cd "$out" && ls | tr '\n' ' ')to $out"
