#!/usr/bin/env bash
# Makes REAL Active Directory Kerberos test fixtures with a Samba AD DC for smb-core's Kerberos acceptor tests:
#   smb-core/tests/data/kerberos-ad/service.keytab      keys of the service account fs1svc (Samba's exportkeytab):
#                                                       cifs/fs.corp.example.test, cifs/fs and fs1svc @CORP.EXAMPLE.TEST
#   smb-core/tests/data/kerberos-ad/ap-req-<name>.bin   GSS-API initial context tokens (0x60 framing, krb5 OID,
#                                                       TOK_ID 01 00, KRB_AP_REQ) made by MIT's initiator with a
#                                                       ticket issued by Samba's KDC (so with a full AD PAC)
#   smb-core/tests/data/kerberos-ad/ap-rep-<name>.bin   the reply tokens (TOK_ID 02 00, KRB_AP_REP) of MIT's acceptor
#   smb-core/tests/data/kerberos-ad/pac-<name>.bin      the raw PAC (AD-WIN2K-PAC ad-data) of the ticket in ap-req-<name>
#   smb-core/tests/data/kerberos-ad/README.txt          what each file is, how it was made, and the recorded values
#                                                       as "<file> <key> = <value>" lines
#
# How: a throwaway domain CORP.EXAMPLE.TEST (NetBIOS CORP) provisioned in a mktemp directory with samba-tool; alice
# (member of Sales; Sales is a member of Finance, so Finance reaches alice only by nesting), the service account fs1svc
# with SPNs cifs/fs.corp.example.test and cifs/fs, all offline on the new database; the keytab is exported offline too.
# Then the DC is started (`setsid samba -i`, KDC on 127.0.0.2:88) and stopped by its process group. The ticket enctype
# is chosen by setting fs1svc's msDS-SupportedEncryptionTypes (ldbmodify on sam.ldb) before each run, and the MIT
# client's default_tgs_enctypes asks for the same session key enctype. scripts/kerberos-fixtures.py (the MIT helper)
# makes each token with python3-gssapi, has MIT's acceptor accept it, checks every key with MIT's crypto, checks the
# PAC's server signature with MIT's krb5_pac_verify, and saves the PAC; its `pac` subcommand then decodes the PAC with
# Samba's NDR bindings (samba.dcerpc.krb5pac) and checks the SIDs against the directory (ldbsearch on sam.ldb).
#
# Needs Debian's samba-ad-dc samba-ad-provision samba krb5-user python3-gssapi python3-samba ldb-tools, root (Samba's
# DC wants it, and so does the loopback address): 127.0.0.2 is added to lo when missing and removed afterwards (only
# if this script added it). Loopback only; nothing must listen on 127.0.0.2:88/389/135 before.
# Re-running is safe: it replaces exactly the files listed above (every run makes a new domain: new domain SID, new
# keys, new session keys). KEEP_TMP=1 keeps the temp dir (provision, logs, caches; the DC is stopped anyway).
# Optional: KERBEROS_FIXTURES_OUT (output dir), PYTHON (an interpreter with MIT-linked gssapi and samba; default
# /usr/bin/python3).
set -euo pipefail

prog=$(basename "$0")
die() { echo "$prog: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${KERBEROS_FIXTURES_OUT:-$repo/smb-core/tests/data/kerberos-ad}
py=${PYTHON:-/usr/bin/python3}
helper=$here/kerberos-fixtures.py

realm=CORP.EXAMPLE.TEST
dnsdomain=corp.example.test
netbios=CORP
dc_ip=127.0.0.2
admin_pw=Admin-password-1
alice_pw=Alice-password-1
svc_account=fs1svc
svc_pw=Fs1svc-password-1
service=cifs/fs.corp.example.test
service_short=cifs/fs
gss_service=cifs@fs.corp.example.test

# name | msDS-SupportedEncryptionTypes of fs1svc | client default_tgs_enctypes | mutual or no-mutual
runs=(
  "aes256-cts-hmac-sha1-96 0x18 aes256-cts-hmac-sha1-96 mutual"
  "aes256-cts-hmac-sha1-96-no-mutual 0x18 aes256-cts-hmac-sha1-96 no-mutual"
  "rc4-hmac 0x4 rc4-hmac,aes256-cts-hmac-sha1-96 mutual"
)

for tool in samba samba-tool ldbsearch ldbmodify kinit kvno klist ip ss setsid; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y samba-ad-dc samba-ad-provision samba krb5-user ldb-tools)"
done
"$py" -c 'import gssapi.raw' 2>/dev/null || die "$py cannot import gssapi (apt-get install -y python3-gssapi)"
"$py" -c 'import samba.dcerpc.krb5pac' 2>/dev/null || die "$py cannot import samba (apt-get install -y python3-samba)"
[[ -r $helper ]] || die "missing $helper"
[[ $(id -u) == 0 ]] || die "needs root (samba's DC, ip addr)"

tmp=$(mktemp -d -t kerberos-ad-fixtures.XXXXXX)
samba_pid=""
added_ip=""
cleanup() {
  local rc=$?
  if [[ -n $samba_pid ]] && kill -0 "$samba_pid" 2>/dev/null; then
    kill -TERM -- "-$samba_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$samba_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$samba_pid" 2>/dev/null || true
    wait "$samba_pid" 2>/dev/null || true
  fi
  if [[ -n $added_ip ]]; then ip addr del "$dc_ip/8" dev lo 2>/dev/null || true; fi
  if [[ -n ${KEEP_TMP:-} ]]; then echo "$prog: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export LC_ALL=C TZ=UTC
export KRB5_CONFIG=$tmp/krb5.conf KRB5RCACHEDIR=$tmp
unset KRB5CCNAME KRB5_KTNAME KRB5_CLIENT_KTNAME KRB5_TRACE || true

if ! ip -4 addr show dev lo | grep -q "inet $dc_ip/"; then
  ip addr add "$dc_ip/8" dev lo || die "ip addr add $dc_ip/8 dev lo failed"
  added_ip=1
fi
if ss -Hltnu | awk '{print $5}' | grep -qE "^($dc_ip|0\.0\.0\.0|\*|\[::\]):(88|389|135)$"; then
  ss -ltnup >&2
  die "something already listens on $dc_ip:88/389/135"
fi
smb_port=$("$py" "$helper" free-port)

dc=$tmp/dc
conf=$dc/etc/smb.conf
st() { samba-tool "$@" -s "$conf" >>"$tmp/samba-tool.out" 2>&1 || { tail -20 "$tmp/samba-tool.out" >&2; die "samba-tool $* failed"; }; }

echo "$prog: domain $realm in $dc, DC on $dc_ip (KDC :88, SMB :$smb_port)"
samba-tool domain provision --targetdir="$dc" --realm="$realm" --domain="$netbios" --server-role=dc \
  --dns-backend=NONE --adminpass="$admin_pw" --use-rfc2307 --option="interfaces=$dc_ip" \
  --option="bind interfaces only=yes" --option="smb ports=$smb_port" --host-name=dc1 >"$tmp/provision.out" 2>&1 ||
  { tail -30 "$tmp/provision.out" >&2; die "samba-tool domain provision failed"; }
st user create alice "$alice_pw"
st group add Sales
st group add Finance
st group addmembers Sales alice
st group addmembers Finance Sales
st user create "$svc_account" "$svc_pw"
st spn add "$service" "$svc_account"
st spn add "$service_short" "$svc_account"
sam=$dc/private/sam.ldb
svc_dn=$(ldbsearch -H "$sam" "(sAMAccountName=$svc_account)" dn 2>/dev/null | sed -n 's/^dn: //p')
[[ -n $svc_dn ]] || die "no DN for $svc_account"

set_enctypes() {  # msDS-SupportedEncryptionTypes of fs1svc (the KDC reads it on every request)
  printf 'dn: %s\nchangetype: modify\nreplace: msDS-SupportedEncryptionTypes\nmsDS-SupportedEncryptionTypes: %d\n' \
    "$svc_dn" "$1" | ldbmodify -H "$sam" >>"$tmp/ldbmodify.out" 2>&1 || { cat "$tmp/ldbmodify.out" >&2; die "ldbmodify failed"; }
}

# Keytab: every principal of the account, same keys (salt CORP.EXAMPLE.TESTfs1svc, the user account's salt).
# Without msDS-SupportedEncryptionTypes, exportkeytab gives the SPN principals only the rc4-hmac key: allow all three.
set_enctypes 0x1c
for p in "$service" "$service_short" "$svc_account"; do
  st domain exportkeytab "$tmp/service.keytab" --principal="$p"
done
klist -k -e -K "$tmp/service.keytab" >"$tmp/keytab.txt"
for p in "$service" "$service_short" "$svc_account"; do
  grep -qF " $p@$realm (aes256-cts-hmac-sha1-96)" "$tmp/keytab.txt" || { cat "$tmp/keytab.txt" >&2; die "keytab lacks $p aes256"; }
done

# What the directory says (recorded, and checked against each PAC by the helper).
{
  ldbsearch -H "$sam" -b "$(ldbsearch -H "$sam" -s base -b '' defaultNamingContext 2>/dev/null | sed -n 's/^defaultNamingContext: //p')" \
    -s base objectSid 2>/dev/null | sed -n 's/^objectSid: /domain /p'
  for n in alice Sales Finance "Domain Users" "$svc_account"; do
    ldbsearch -H "$sam" "(sAMAccountName=$n)" objectSid 2>/dev/null | sed -n "s/^objectSid: /${n// /_} /p"
  done
  alice_dn=$(ldbsearch -H "$sam" "(sAMAccountName=alice)" dn 2>/dev/null | sed -n 's/^dn: //p')
  ldbsearch -H "$sam" -b "$alice_dn" -s base tokenGroups 2>/dev/null | sed -n 's/^tokenGroups: /tokenGroup /p'
  ldbsearch -H "$sam" "(sAMAccountName=alice)" userPrincipalName primaryGroupID 2>/dev/null |
    sed -n 's/^userPrincipalName: /alice_upn /p; s/^primaryGroupID: /alice_primaryGroupID /p'
  ldbsearch -H "$sam" "(sAMAccountName=$svc_account)" msDS-KeyVersionNumber servicePrincipalName 2>/dev/null |
    sed -n 's/^msDS-KeyVersionNumber: /fs1svc_kvno /p; s/^servicePrincipalName: /fs1svc_spn /p'
} >"$tmp/directory.txt"
samba-tool user show alice -s "$conf" >"$tmp/user-show-alice.txt" 2>/dev/null || true
samba-tool group listmembers Sales -s "$conf" >"$tmp/sales-members.txt" 2>/dev/null || true
samba-tool group listmembers Finance -s "$conf" >"$tmp/finance-members.txt" 2>/dev/null || true
for k in domain alice Sales Finance Domain_Users alice_upn fs1svc_kvno; do
  grep -q "^$k " "$tmp/directory.txt" || { cat "$tmp/directory.txt" >&2; die "directory lookup of $k failed"; }
done

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
    echo " permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 rc4-hmac"
    [[ -z $tgs_enctypes ]] || echo " default_tgs_enctypes = $tgs_enctypes"
    echo "[realms]"
    echo " $realm = {"
    echo "  kdc = $dc_ip:88"
    echo " }"
    echo "[domain_realm]"
    echo " .$dnsdomain = $realm"
    echo " $dnsdomain = $realm"
    echo " fs = $realm"
  } >"$file"
}
write_krb5_conf "$tmp/krb5.conf"

setsid samba -s "$conf" -i >"$tmp/samba.out" 2>&1 &
samba_pid=$!
for _ in $(seq 300); do
  (exec 3<>"/dev/tcp/$dc_ip/88") 2>/dev/null && break
  kill -0 "$samba_pid" 2>/dev/null || { tail -30 "$tmp/samba.out" >&2; die "samba exited"; }
  sleep 0.1
done
(exec 3<>"/dev/tcp/$dc_ip/88") 2>/dev/null || { tail -30 "$tmp/samba.out" >&2; die "KDC not listening on $dc_ip:88"; }
[[ $(ps -o pgid= -p "$samba_pid" | tr -d ' ') == "$samba_pid" ]] || die "samba is not its own process group leader"

: >"$tmp/commands.txt"
ok_runs=()
: >"$tmp/skipped.txt"
for run in "${runs[@]}"; do
  read -r name enctypes tgs _ <<<"$run"
  tgs=${tgs//,/ }  # the TGT's session key is aes256: the client must still accept it
  set_enctypes "$enctypes"
  write_krb5_conf "$tmp/krb5-$name.conf" "$tgs"
  rm -f "$tmp/cc-$name"
  if ! (
    export KRB5_CONFIG=$tmp/krb5-$name.conf KRB5CCNAME=FILE:$tmp/cc-$name
    kinit alice <<<"$alice_pw" >/dev/null &&
      kvno "$service" >"$tmp/kvno-$name.txt" &&
      klist -e >"$tmp/klist-$name.txt"
  ) 2>"$tmp/err-$name.txt"; then
    echo "$prog: $name: skipped: $(tr '\n' ' ' <"$tmp/err-$name.txt")" >&2
    echo "$name: kinit/kvno failed: $(tr '\n' ' ' <"$tmp/err-$name.txt")" >>"$tmp/skipped.txt"
    continue
  fi
  want=${tgs%% *}
  [[ $want != rc4-hmac ]] || want=DEPRECATED:arcfour-hmac
  got=$(grep -A1 "$service@" "$tmp/klist-$name.txt" | tail -1 || true)
  if [[ $got != *"Etype (skey, tkt): $want, $want"* ]]; then
    echo "$prog: $name: skipped: KDC gave $got" >&2
    echo "$name: KDC did not issue it: $got" >>"$tmp/skipped.txt"
    continue
  fi
  echo "ldbmodify: $svc_account msDS-SupportedEncryptionTypes = $enctypes; KRB5_CONFIG=krb5-$name.conf (default_tgs_enctypes = $tgs) KRB5CCNAME=FILE:cc-$name kinit alice; kvno $service" >>"$tmp/commands.txt"
  echo "$prog: $name: $(cat "$tmp/kvno-$name.txt"); $(echo "$got" | sed 's/^[[:space:]]*//')"
  ok_runs+=("$run")
done
((${#ok_runs[@]} > 0)) || die "no token could be made"

mkdir -p "$tmp/out"
: >"$tmp/values.txt"
for run in "${ok_runs[@]}"; do
  read -r name _ _ mutual <<<"$run"
  flag=()
  [[ $mutual == mutual ]] || flag=(--no-mutual)
  KRB5_CONFIG=$tmp/krb5-$name.conf KRB5CCNAME=FILE:$tmp/cc-$name KRB5_KTNAME=FILE:$tmp/service.keytab \
    "$py" "$helper" token --name "$name" --out-dir "$tmp/out" --keytab "$tmp/service.keytab" \
    --values "$tmp/values.txt" --service "$gss_service" --service-principal "$service@$realm" \
    --client-principal "alice@$realm" --pac-out "$tmp/out/pac-$name.bin" "${flag[@]}"
  "$py" "$helper" pac --pac "$tmp/out/pac-$name.bin" --file "ap-req-$name.bin" --values "$tmp/values.txt" \
    --directory "$tmp/directory.txt" --dump "$tmp/pac-$name.txt"
  tok=$tmp/out/ap-req-$name.bin
  hex=$(od -An -tx1 -v "$tok" | tr -d ' \n')
  [[ $hex == 60* ]] || die "$tok does not start with 0x60"
  [[ $hex == *06092a864886f712010202* ]] || die "$tok lacks the krb5 OID"
done

samba_version=$(samba -V 2>&1 | head -1)
deb_samba=$(dpkg-query -W -f '${Version}' samba-ad-dc 2>/dev/null || echo unknown)
mit_version=$(klist -V 2>&1 | head -1)
deb_mit=$(dpkg-query -W -f '${Version}' krb5-user 2>/dev/null || echo unknown)
gssapi_version=$(dpkg-query -W -f '${Version}' python3-gssapi 2>/dev/null || echo unknown)
generated=$(date -u +%Y-%m-%dT%H:%M:%SZ)
first=${ok_runs[0]%% *}

{
  cat <<EOF
# Active Directory Kerberos fixtures made with a Samba AD DC by scripts/kerberos-ad-fixtures.sh (helper
# scripts/kerberos-fixtures.py, shared with the MIT fixtures in ../kerberos).
# Generated $generated. $samba_version (Debian samba-ad-dc $deb_samba) as DC and KDC (Heimdal-based);
# client and acceptor: $mit_version (Debian krb5-user $deb_mit), python3-gssapi $gssapi_version,
# $("$py" --version 2>&1) at $py; PAC decoded with Samba's python3-samba NDR bindings (samba.dcerpc.krb5pac).
# Re-running the script replaces every file here with new bytes: every run provisions a new domain (new domain SID,
# new account keys), session keys and subkeys are random and the times are those of the run, so tests must take the
# values below, not remember them.
#
# Domain $realm (NetBIOS $netbios, DNS $dnsdomain), DC dc1 on $dc_ip (KDC on :88 TCP+UDP), loopback only.
# Client krb5.conf: kdc = $dc_ip:88, dns_canonicalize_hostname = false, rdns = false, allow_rc4 = true,
# default_tgs_enctypes = the token's enctype (rc4-hmac: "rc4-hmac aes256-cts-hmac-sha1-96", as the TGT's session
# key is aes256), so the session key has the ticket's enctype. The ticket enctype follows fs1svc's msDS-SupportedEncryptionTypes.
#
# Commands (samba-tool ... -s DIR/etc/smb.conf for all but provision; KRB5_CONFIG in the temp dir):
#   ip addr add $dc_ip/8 dev lo   (only when missing; removed afterwards)
#   samba-tool domain provision --targetdir=DIR --realm=$realm --domain=$netbios --server-role=dc --dns-backend=NONE
#     --adminpass=$admin_pw --use-rfc2307 --option="interfaces=$dc_ip" --option="bind interfaces only=yes"
#     --option="smb ports=<free port>" --host-name=dc1
#   samba-tool user create alice $alice_pw
#   samba-tool group add Sales; samba-tool group add Finance
#   samba-tool group addmembers Sales alice; samba-tool group addmembers Finance Sales   (Finance only by nesting)
#   samba-tool user create $svc_account $svc_pw
#   samba-tool spn add $service $svc_account; samba-tool spn add $service_short $svc_account
#   ldbmodify: $svc_account msDS-SupportedEncryptionTypes = 0x1c (aes256, aes128, rc4: else the SPNs get only rc4)
#   samba-tool domain exportkeytab service.keytab --principal=$service   (then --principal=$service_short and
#     --principal=$svc_account into the same file)
#   setsid samba -s DIR/etc/smb.conf -i   (stopped afterwards with kill -- -PGID)
$(sed 's/^/#   /' "$tmp/commands.txt")
#   then per token, with that token's KRB5_CONFIG and KRB5CCNAME, KRB5_KTNAME=service.keytab:
#   python3-gssapi: SecurityContext(name=Name("$gss_service", hostbased_service), mech=krb5, usage="initiate",
#   flags=mutual|integ|conf (no mutual for *-no-mutual)).step() -> ap-req-<name>.bin; then MIT's acceptor
#   SecurityContext(usage="accept").step(token) -> ap-rep-<name>.bin (mutual only), fed back to the initiator, which
#   completes. Checked with MIT's krb5_c_decrypt as for ../kerberos (ticket with the keytab key, usage 2; authenticator
#   usage 11; AP-REP usage 12; subkeys equal to the lucid contexts' keys). The PAC (ad-type 128 inside
#   AD-IF-RELEVANT) is saved as pac-<name>.bin; its server signature is verified with MIT's krb5_pac_verify and the
#   ticket key (pac_server_signature_verified), and MIT's acceptor must hand out the same bytes as the
#   "urn:mspac:" name attribute, marked authenticated (acceptor_pac_authenticated).
#
# The tickets are valid only from starttime to endtime (10 hours, Samba's default) of the run: a test that checks
# ticket times must use its own clock set inside that window (e.g. authenticator_ctime), never the wall clock.
#
# Files:
#   service.keytab   keytab (0x502) exported by samba-tool for the account $svc_account (password "$svc_pw", salt
#                    "${realm}$svc_account", the same keys under the principals $service, $service_short and
#                    $svc_account). klist -k -e -K service.keytab:
$(sed "s|$tmp/||; s/^/#                      /" "$tmp/keytab.txt")
#   ap-req-<name>.bin  the initiator's raw GSS-API token: 0x60 <len> 06 09 2a864886f712010202 01 00 <KRB_AP_REQ>.
#   ap-rep-<name>.bin  MIT acceptor's raw reply token: 0x60 <len> 06 09 2a864886f712010202 02 00 <KRB_AP_REP>,
#                      enc-part encrypted with the ticket session key (key usage 12).
#   pac-<name>.bin     the PAC bytes (PACTYPE: cBuffers, Version, PAC_INFO_BUFFERs, buffers) exactly as in the ticket.
#   <name> is the ticket (and session key) enctype; aes256-cts-hmac-sha1-96-no-mutual has no mutual flag (no AP-REP).
$(if [[ -s $tmp/skipped.txt ]]; then echo "#   Not produced:"; sed 's/^/#     /' "$tmp/skipped.txt"; fi)
#
# What the directory says (ldbsearch -H DIR/private/sam.ldb: objectSid of the domain and accounts, alice's
# tokenGroups, userPrincipalName, primaryGroupID; fs1svc's msDS-KeyVersionNumber and SPNs):
$(sed 's/^/#   /' "$tmp/directory.txt")
# samba-tool group listmembers Sales: $(tr '\n' ' ' <"$tmp/sales-members.txt"); Finance: $(tr '\n' ' ' <"$tmp/finance-members.txt")
#
# Values: "<file> <key> = <value>"; numbers are decimal unless 0x-prefixed; keys are lowercase hex; times are Unix
# seconds with the UTC time in parentheses. The ticket/authenticator/AP-REP keys are as in ../kerberos/README.txt.
# pac_* values come from the PAC: pac_buffers lists "type:size@offset" read from the PACTYPE header by hand; the
# rest is Samba's NDR decoding. pac_group = "<rid> <attributes>" (LOGON_INFO GroupIds, relative to pac_domain_sid),
# pac_extra_sid = "<sid> <attributes>" (LOGON_INFO ExtraSids), pac_*_signature_type = the PAC_SIGNATURE_DATA
# SignatureType (16 = hmac-sha1-96-aes256, -138 = hmac-md5/rc4), times as NTTIME (100 ns since 1601) with the UTC time.
# pac_directory_check = ok means: user SID, primary group and every group and extra SID agree with the directory's
# objectSid/primaryGroupID/tokenGroups (see above).
#
EOF
  for run in "${ok_runs[@]}"; do
    read -r name _ <<<"$run"
    echo "# ap-req-$name.bin: kvno: $(cat "$tmp/kvno-$name.txt"); klist -e:"
    sed "s|$tmp/||; s/^/#   /" "$tmp/klist-$name.txt"
  done
  echo "#"
  echo "# Samba's ndr_print of pac-$first.bin (the other PACs differ only in times, signatures and their types):"
  sed 's/^/#   /' "$tmp/pac-$first.txt"
  echo "#"
  echo "service.keytab principal = $service@$realm"
  echo "service.keytab principals = $service@$realm $service_short@$realm $svc_account@$realm"
  echo "service.keytab password = $svc_pw"
  echo "service.keytab salt = ${realm}$svc_account"
  echo "service.keytab entries = $(grep -c '(0x' "$tmp/keytab.txt")"
  sed -n 's/^ *\([0-9]*\) \([^ ]*\) (\(DEPRECATED:\)\{0,1\}\([a-z0-9-]*\))  (0x\([0-9a-f]*\))$/\1 \2 \4 \5/p' "$tmp/keytab.txt" |
    while read -r kvno princ ename key; do
      [[ $princ == "$service@$realm" ]] || continue
      case $ename in
        aes128-cts-hmac-sha1-96) num=17 ;; aes256-cts-hmac-sha1-96) num=18 ;;
        arcfour-hmac) num=23 ;; *) continue ;;
      esac
      echo "service.keytab key $kvno $num = $key"
    done
  echo "alice password = $alice_pw"
  sed 's/^\([^ ]*\) /directory \1 = /' "$tmp/directory.txt"
  echo
  cat "$tmp/values.txt"
} >"$tmp/out/README.txt"
cp "$tmp/service.keytab" "$tmp/out/service.keytab"
chmod 644 "$tmp/out"/*
grep -q '^service.keytab key [0-9]* 18 = ' "$tmp/out/README.txt" || die "aes256 keytab key missing from README.txt"

mkdir -p "$out"
rm -f "$out"/ap-req-*.bin "$out"/ap-rep-*.bin "$out"/pac-*.bin "$out/service.keytab" "$out/README.txt"
cp "$tmp"/out/* "$out/"
echo "$prog: wrote $(cd "$out" && ls | tr '\n' ' ')to $out"
