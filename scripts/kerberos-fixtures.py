#!/usr/bin/python3
"""Helper for scripts/kerberos-fixtures.sh: makes one GSS-API Kerberos initial context token with MIT krb5
(through python3-gssapi), accepts it with MIT's own acceptor, and records the values a decoder's tests can check
against: ticket and session key (read from the MIT credential cache), authenticator subkey and acceptor subkey
(from MIT's lucid context export on both sides), and what MIT's acceptor says about the initiator.

Every recorded key is cross-checked by decrypting with MIT's own crypto (libkrb5's krb5_c_decrypt through ctypes):
the ticket with the keytab key, the authenticator and the AP-REP with the ticket session key. The small DER walk
below only locates fields; it is not the code under test (that is the Rust decoder in smb-core).

Subcommands:
  free-port                      print a loopback port free for both TCP and UDP
  token --name N --out-dir D --keytab K --values V [--no-mutual]
      Env: KRB5_CONFIG, KRB5CCNAME (FILE: cache holding alice's TGT and the cifs/fs.example.com ticket),
      KRB5_KTNAME (the service keytab), KRB5RCACHEDIR. Writes D/ap-req-N.bin (and D/ap-rep-N.bin when mutual)
      and appends "file key = value" lines to V.
      For other realms (scripts/kerberos-ad-fixtures.sh): --service cifs@HOST --service-principal P --client-principal C;
      --pac-out F also saves the ticket's PAC to F, verifies its server signature with MIT's krb5_pac_verify and the
      ticket key, and records pac_server_signature_verified and acceptor_pac_authenticated.
  pac --pac F --file NAME --values V [--directory D] [--dump T]
      Decodes an Active Directory PAC with Samba's NDR bindings (python3-samba, samba.dcerpc.krb5pac) and appends
      "NAME pac_* = value" lines to V; D ("<name> <value>" lines from ldbsearch) holds the directory's SIDs to check
      the PAC against; T gets Samba's ndr_print of the whole PAC.

Runs with Debian's /usr/bin/python3 and python3-gssapi (MIT krb5 1.20).
"""
import argparse
import ctypes
import ctypes.util
import datetime
import os
import socket
import struct
import sys

KRB5_OID_DER = bytes.fromhex("06092a864886f712010202")  # 1.2.840.113554.1.2.2
SERVICE = "cifs@fs.example.com"
SERVICE_PRINCIPAL = "cifs/fs.example.com@EXAMPLE.COM"
CLIENT_PRINCIPAL = "alice@EXAMPLE.COM"

ENCTYPE_NAMES = {
    17: "aes128-cts-hmac-sha1-96",
    18: "aes256-cts-hmac-sha1-96",
    19: "aes128-cts-hmac-sha256-128",
    20: "aes256-cts-hmac-sha384-192",
    23: "rc4-hmac",
}


def die(msg):
    print(f"kerberos-fixtures.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        die(msg)


# ---------------------------------------------------------------------------------------------------------------
# Minimal DER walking (definite lengths only, as Kerberos uses)


def tlv(buf, off=0):
    """Returns (tag_byte, value_start, value_end) of the TLV at off."""
    tag = buf[off]
    check(tag & 0x1F != 0x1F, "high tag numbers not expected")
    ln = buf[off + 1]
    p = off + 2
    if ln & 0x80:
        n = ln & 0x7F
        check(1 <= n <= 4, "bad DER length")
        ln = int.from_bytes(buf[p:p + n], "big")
        p += n
    check(p + ln <= len(buf), "DER value runs past the end")
    return tag, p, p + ln


def children(buf, start, end):
    out = []
    p = start
    while p < end:
        tag, s, e = tlv(buf, p)
        out.append((tag, s, e, p))
        p = e
    return out


def unwrap(buf, expect_tag):
    tag, s, e = tlv(buf)
    check(tag == expect_tag, f"expected tag {expect_tag:#x}, got {tag:#x}")
    return buf[s:e]


def ctx_fields(seq_bytes):
    """Given the bytes of a SEQUENCE (tag 0x30 included), returns {n: inner TLV bytes} for [n] EXPLICIT fields."""
    tag, s, e = tlv(seq_bytes)
    check(tag == 0x30, f"expected SEQUENCE, got {tag:#x}")
    out = {}
    for t, cs, ce, _ in children(seq_bytes, s, e):
        check(t & 0xE0 == 0xA0, f"expected context tag, got {t:#x}")
        out[t & 0x1F] = seq_bytes[cs:ce]
    return out


def der_int(b):
    tag, s, e = tlv(b)
    check(tag == 0x02, "expected INTEGER")
    return int.from_bytes(b[s:e], "big", signed=True)


def der_octets(b, tag_expected=0x04):
    tag, s, e = tlv(b)
    check(tag == tag_expected, f"expected tag {tag_expected:#x}, got {tag:#x}")
    return b[s:e]


def der_time(b):
    s = der_octets(b, 0x18).decode()
    return int(datetime.datetime.strptime(s, "%Y%m%d%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())


def der_principal(b, realm):
    f = ctx_fields(b)
    name_type = der_int(f[0])
    tag, s, e = tlv(f[1])
    parts = [f[1][cs:ce].decode() for _, cs, ce, _ in children(f[1], s, e)]
    return name_type, "/".join(parts) + "@" + realm


def der_key(b):
    f = ctx_fields(b)
    return der_int(f[0]), der_octets(f[1])


def der_enc_data(b):
    f = ctx_fields(b)
    return der_int(f[0]), (der_int(f[1]) if 1 in f else None), der_octets(f[2])


def der_authz_types(b):
    """AuthorizationData -> list like ['1(128)'] (AD-IF-RELEVANT containing AD-WIN2K-PAC)."""
    tag, s, e = tlv(b)
    out = []
    for _, cs, ce, start in children(b, s, e):
        f = ctx_fields(b[start:ce])
        t = der_int(f[0])
        data = der_octets(f[1])
        if t == 1:  # AD-IF-RELEVANT wraps another AuthorizationData
            out.append(f"1({','.join(der_authz_types(data))})")
        else:
            out.append(str(t))
    return out


def find_ad(b, want):
    """First ad-data of type want in an AuthorizationData, looking inside AD-IF-RELEVANT."""
    tag, s, e = tlv(b)
    for _, cs, ce, start in children(b, s, e):
        f = ctx_fields(b[start:ce])
        t, data = der_int(f[0]), der_octets(f[1])
        if t == want:
            return data
        if t == 1:
            found = find_ad(data, want)
            if found is not None:
                return found
    return None


def gss_unframe(tok, tok_id):
    """RFC 2743 3.1 framing + RFC 4121 TOK_ID -> inner Kerberos message."""
    tag, s, e = tlv(tok)
    check(tag == 0x60 and e == len(tok), "not a GSS-API InitialContextToken (0x60 framing)")
    check(tok[s:s + len(KRB5_OID_DER)] == KRB5_OID_DER, "mech OID is not krb5 1.2.840.113554.1.2.2")
    p = s + len(KRB5_OID_DER)
    check(tok[p:p + 2] == tok_id, f"TOK_ID is {tok[p:p+2].hex()}, expected {tok_id.hex()}")
    return tok[p + 2:e]


# ---------------------------------------------------------------------------------------------------------------
# MIT crypto through ctypes (krb5_c_decrypt)


class KeyBlock(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_int32), ("enctype", ctypes.c_int32), ("length", ctypes.c_uint),
                ("contents", ctypes.POINTER(ctypes.c_ubyte))]


class Data(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_int32), ("length", ctypes.c_uint), ("data", ctypes.POINTER(ctypes.c_char))]


class EncData(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_int32), ("enctype", ctypes.c_int32), ("kvno", ctypes.c_uint32),
                ("ciphertext", Data)]


class Mit:
    def __init__(self):
        self.lib = ctypes.CDLL(ctypes.util.find_library("krb5") or "libkrb5.so.3")
        self.ctx = ctypes.c_void_p()
        rc = self.lib.krb5_init_context(ctypes.byref(self.ctx))
        check(rc == 0, f"krb5_init_context failed: {rc}")

    def pac_verify(self, pac_bytes, authtime, client, enctype, key):
        """krb5_pac_parse + krb5_pac_verify (server signature with the ticket key; no KDC key) -> error code."""
        pac = ctypes.c_void_p()
        buf = ctypes.create_string_buffer(pac_bytes, len(pac_bytes))
        rc = self.lib.krb5_pac_parse(self.ctx, buf, ctypes.c_size_t(len(pac_bytes)), ctypes.byref(pac))
        check(rc == 0, f"krb5_pac_parse failed: {rc}")
        princ = ctypes.c_void_p()
        rc = self.lib.krb5_parse_name(self.ctx, client.encode(), ctypes.byref(princ))
        check(rc == 0, f"krb5_parse_name failed: {rc}")
        kbuf = (ctypes.c_ubyte * len(key)).from_buffer_copy(key)
        kb = KeyBlock(0, enctype, len(key), kbuf)
        rc = self.lib.krb5_pac_verify(self.ctx, pac, ctypes.c_int32(authtime), princ, ctypes.byref(kb), None)
        self.lib.krb5_free_principal(self.ctx, princ)
        self.lib.krb5_pac_free(self.ctx, pac)
        return rc

    def decrypt(self, enctype, key, usage, ciphertext):
        kbuf = (ctypes.c_ubyte * len(key)).from_buffer_copy(key)
        kb = KeyBlock(0, enctype, len(key), kbuf)
        cbuf = ctypes.create_string_buffer(ciphertext, len(ciphertext))
        ed = EncData(0, enctype, 0, Data(0, len(ciphertext), ctypes.cast(cbuf, ctypes.POINTER(ctypes.c_char))))
        obuf = ctypes.create_string_buffer(len(ciphertext))
        out = Data(0, len(ciphertext), ctypes.cast(obuf, ctypes.POINTER(ctypes.c_char)))
        rc = self.lib.krb5_c_decrypt(self.ctx, ctypes.byref(kb), ctypes.c_int32(usage), None, ctypes.byref(ed),
                                     ctypes.byref(out))
        check(rc == 0, f"krb5_c_decrypt(enctype {enctype}, usage {usage}) failed: error {rc}")
        return obuf.raw[:out.length]


# ---------------------------------------------------------------------------------------------------------------
# MIT file formats: FILE credential cache (version 4) and keytab (version 0x502)


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, n):
        check(self.p + n <= len(self.b), "truncated file")
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def data32(self):
        return self.take(self.u32())

    def data16(self):
        return self.take(self.u16())

    def done(self):
        return self.p >= len(self.b)


def read_ccache(path):
    r = Reader(open(path, "rb").read())
    check(r.u16() == 0x0504, "only FILE ccache version 4 is handled")
    r.take(r.u16())  # header tags

    def principal():
        r.u32()  # name type
        n = r.u32()
        realm = r.data32().decode()
        comps = [r.data32().decode() for _ in range(n)]
        return "/".join(comps) + "@" + realm

    principal()  # default principal
    creds = []
    while not r.done():
        c = {"client": principal(), "server": principal()}
        c["key_enctype"] = r.u16()
        c["key"] = r.data32()
        c["authtime"], c["starttime"], c["endtime"], c["renew_till"] = r.u32(), r.u32(), r.u32(), r.u32()
        r.u8()  # is_skey
        c["flags"] = r.u32()
        for _ in range(r.u32()):
            r.u16()
            r.data32()
        for _ in range(r.u32()):
            r.u16()
            r.data32()
        c["ticket"] = r.data32()
        r.data32()  # second ticket
        creds.append(c)
    return creds


def read_keytab(path):
    b = open(path, "rb").read()
    check(b[:2] == b"\x05\x02", "only keytab version 0x502 is handled")
    r = Reader(b[2:])
    entries = []
    while not r.done():
        size = r.i32()
        if size <= 0:
            r.take(-size)
            continue
        e = Reader(r.take(size))
        n = e.u16()
        realm = e.data16().decode()
        comps = [e.data16().decode() for _ in range(n)]
        e.u32()  # name type
        e.u32()  # timestamp
        kvno = e.u8()
        enctype = e.u16()
        key = e.data16()
        if len(e.b) - e.p >= 4:
            kvno = e.u32()
        entries.append(("/".join(comps) + "@" + realm, kvno, enctype, key))
    return entries


# ---------------------------------------------------------------------------------------------------------------


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cmd_free_port(_args):
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            continue
        t.close()
        u.close()
        print(port)
        return
    die("no free port")


def cmd_token(args):
    import gssapi
    import gssapi.raw as graw

    name, out_dir, mutual = args.name, args.out_dir, not args.no_mutual
    SERVICE, SERVICE_PRINCIPAL, CLIENT_PRINCIPAL = args.service, args.service_principal, args.client_principal
    req_file = f"ap-req-{name}.bin"
    rep_file = f"ap-rep-{name}.bin"
    vals = []

    def rec(key, value, file=req_file):
        vals.append(f"{file} {key} = {value}")

    ccache_path = os.environ["KRB5CCNAME"].removeprefix("FILE:")
    svc = [c for c in read_ccache(ccache_path) if c["server"] == SERVICE_PRINCIPAL]
    check(len(svc) == 1, f"expected one {SERVICE_PRINCIPAL} ticket in {ccache_path}, found {len(svc)}")
    cred = svc[0]

    # --- initiator (MIT, through python3-gssapi)
    flags = gssapi.RequirementFlag.integrity | gssapi.RequirementFlag.confidentiality
    if mutual:
        flags |= gssapi.RequirementFlag.mutual_authentication
    target = gssapi.Name(SERVICE, gssapi.NameType.hostbased_service)
    generated = datetime.datetime.now(datetime.timezone.utc)
    ictx = gssapi.SecurityContext(name=target, mech=gssapi.MechType.kerberos, usage="initiate", flags=flags)
    token = ictx.step()
    check(token is not None, "initiator produced no token")
    check(ictx.complete == (not mutual), "unexpected initiator state after the first step")
    with open(os.path.join(out_dir, req_file), "wb") as f:
        f.write(token)

    # --- GSS framing and AP-REQ layout (located only; MIT decrypts below)
    check(token[0] == 0x60 and KRB5_OID_DER in token, "token lacks 0x60 framing or the krb5 OID")
    ap_req = gss_unframe(token, b"\x01\x00")
    f = ctx_fields(unwrap(ap_req, 0x6E))
    check(der_int(f[0]) == 5 and der_int(f[1]) == 14, "not a KRB_AP_REQ")
    ap_options = der_octets(f[2], 0x03)
    check(len(ap_options) == 5 and ap_options[0] == 0, "APOptions not 32 bits")
    ap_options = int.from_bytes(ap_options[1:], "big")
    ticket_der = f[3]
    check(ticket_der == cred["ticket"], "the AP-REQ's ticket is not the ccache's ticket")
    tf = ctx_fields(unwrap(ticket_der, 0x61))
    tkt_realm = der_octets(tf[1], 0x1B).decode()
    _, tkt_sname = der_principal(tf[2], tkt_realm)
    tkt_etype, tkt_kvno, tkt_cipher = der_enc_data(tf[3])
    auth_etype, auth_kvno, auth_cipher = der_enc_data(f[4])

    # --- decrypt the ticket with the keytab key (MIT crypto), compare with the ccache
    mit = Mit()
    keys = [k for (p, v, e, k) in read_keytab(args.keytab) if p == SERVICE_PRINCIPAL and v == tkt_kvno and e == tkt_etype]
    check(len(keys) == 1, f"no keytab key for kvno {tkt_kvno} enctype {tkt_etype}")
    enc_tkt = mit.decrypt(tkt_etype, keys[0], 2, tkt_cipher)
    et = ctx_fields(unwrap(enc_tkt, 0x63))
    tkt_flags = der_octets(et[0], 0x03)
    check(len(tkt_flags) == 5 and tkt_flags[0] == 0, "KerberosFlags not 32 bits")
    tkt_flags = int.from_bytes(tkt_flags[1:], "big")
    check(tkt_flags == cred["flags"], "ticket flags differ from the ccache's")
    sk_type, sk = der_key(et[1])
    crealm = der_octets(et[2], 0x1B).decode()
    _, cname = der_principal(et[3], crealm)
    authtime = der_time(et[5])
    starttime = der_time(et[6]) if 6 in et else authtime
    endtime = der_time(et[7])
    tkt_authz = ",".join(der_authz_types(et[10])) if 10 in et else "none"
    tkt_pac = find_ad(et[10], 128) if 10 in et else None
    check(sk == cred["key"] and sk_type == cred["key_enctype"], "ticket session key differs from the ccache's")
    check(cname == CLIENT_PRINCIPAL, f"ticket client is {cname}")
    check((authtime, starttime, endtime) == (cred["authtime"], cred["starttime"], cred["endtime"]),
          "ticket times differ from the ccache's")

    # --- decrypt the authenticator with the session key (usage 11)
    check(auth_etype == sk_type, "authenticator enctype differs from the session key's")
    auth = ctx_fields(unwrap(mit.decrypt(sk_type, sk, 11, auth_cipher), 0x62))
    a_crealm = der_octets(auth[1], 0x1B).decode()
    _, a_cname = der_principal(auth[2], a_crealm)
    ck = ctx_fields(auth[3])
    ck_type, ck_val = der_int(ck[0]), der_octets(ck[1])
    check(ck_type == 0x8003, f"authenticator checksum type {ck_type:#x}, expected 0x8003")
    check(struct.unpack("<I", ck_val[:4])[0] == 16, "0x8003 Lgth is not 16")
    gss_flags = struct.unpack("<I", ck_val[20:24])[0]
    a_cusec, a_ctime = der_int(auth[4]), der_time(auth[5])
    check(6 in auth, "authenticator has no subkey")
    subkey_type, subkey = der_key(auth[6])
    a_seq = der_int(auth[7]) if 7 in auth else None
    a_authz = ",".join(der_authz_types(auth[8])) if 8 in auth else "none"

    # --- MIT acceptor (KRB5_KTNAME = the service keytab, default acceptor credential)
    actx = gssapi.SecurityContext(usage="accept")
    reply = actx.step(token)
    check(actx.complete, "acceptor did not complete")
    acc_initiator = str(actx.initiator_name)
    acc_target = str(actx.target_name) if actx.target_name is not None else "none"
    acc_flags = int(actx.actual_flags)
    acc_authtime = graw.krb5_extract_authtime_from_sec_context(actx)
    try:  # MIT exposes the PAC as the name attribute "urn:mspac:"
        pac = graw.get_name_attribute(actx.initiator_name, b"urn:mspac:").values
        attr = graw.get_name_attribute(actx.initiator_name, b"urn:mspac:")
        pac = attr.values
        pac_len = len(pac[0]) if pac else 0
        pac_authenticated = "yes" if attr.authenticated else "no"
        check(tkt_pac is not None and pac and pac[0] == tkt_pac, "acceptor's PAC differs from the ticket's")
    except gssapi.exceptions.GSSError:
        pac_len = "none"
        pac_authenticated = "none"
    if mutual:
        check(reply is not None, "acceptor produced no AP-REP for a mutual token")
        with open(os.path.join(out_dir, rep_file), "wb") as fh:
            fh.write(reply)
        done = ictx.step(reply)
        check(ictx.complete and done is None, "initiator did not complete with the AP-REP")
    else:
        check(reply is None, "acceptor produced a reply token without mutual authentication")

    # --- lucid contexts (this deletes the contexts: last use)
    il = graw.krb5_export_lucid_sec_context(ictx, 1)
    al = graw.krb5_export_lucid_sec_context(actx, 1)

    def lucid_keys(l):
        if l.protocol == 1:
            kd = l.cfx_kd
            acc = (kd.acceptor_subkey_type, bytes(kd.acceptor_subkey)) if kd.acceptor_subkey else None
            return (kd.ctx_key_type, bytes(kd.ctx_key)), acc
        kd = l.rfc1964_kd
        return (kd.key_type, bytes(kd.key)), None

    i_ctx, i_acc = lucid_keys(il)
    a_ctx, a_acc = lucid_keys(al)
    check(i_ctx == a_ctx == (subkey_type, subkey), "lucid ctx keys differ from the authenticator subkey")
    check(i_acc == a_acc, "initiator and acceptor disagree on the acceptor subkey")

    # --- AP-REP (mutual only): decrypt with the session key (usage 12)
    rep_vals = []
    if mutual:
        ap_rep = gss_unframe(reply, b"\x02\x00")
        rf = ctx_fields(unwrap(ap_rep, 0x6F))
        check(der_int(rf[0]) == 5 and der_int(rf[1]) == 15, "not a KRB_AP_REP")
        r_etype, _, r_cipher = der_enc_data(rf[2])
        check(r_etype == sk_type, "AP-REP enctype differs from the session key's")
        ep = ctx_fields(unwrap(mit.decrypt(sk_type, sk, 12, r_cipher), 0x7B))
        r_ctime, r_cusec = der_time(ep[0]), der_int(ep[1])
        check((r_ctime, r_cusec) == (a_ctime, a_cusec), "AP-REP ctime/cusec differ from the authenticator's")
        r_sub = der_key(ep[2]) if 2 in ep else None
        # CFX: the acceptor's own subkey. RFC 1964/4757 (rc4-hmac): MIT's acceptor makes none, and krb5_mk_rep puts
        # the authenticator's subkey back in the AP-REP.
        check(r_sub == (a_acc if a_acc else (subkey_type, subkey)), "AP-REP subkey is not the expected one")
        r_seq = der_int(ep[3]) if 3 in ep else None
        rep_vals = [
            ("size", len(reply)),
            ("enc_part_etype", r_etype),
            ("enc_part_key", "session_key of " + req_file),
            ("ctime", f"{r_ctime} ({iso(r_ctime)})"),
            ("cusec", r_cusec),
            ("subkey_etype", r_sub[0] if r_sub else "none"),
            ("subkey", r_sub[1].hex() if r_sub else "none"),
            ("subkey_is", "none" if not r_sub else ("acceptor_subkey" if a_acc else "the authenticator subkey echoed")),
            ("seq_number", r_seq if r_seq is not None else "none"),
        ]

    # --- record
    rec("size", len(token))
    rec("generated_at", generated.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    rec("gss_req_flags", f"{int(flags):#x} ({'mutual+' if mutual else ''}integ+conf)")
    rec("mutual", "yes" if mutual else "no")
    rec("ap_options", f"{ap_options:#010x}")
    rec("client_principal", cname)
    rec("service_principal", tkt_sname)
    rec("ticket_realm", tkt_realm)
    rec("ticket_enctype", f"{tkt_etype} ({ENCTYPE_NAMES.get(tkt_etype, '?')})")
    rec("ticket_kvno", tkt_kvno)
    rec("ticket_key", f"service.keytab {SERVICE_PRINCIPAL} kvno {tkt_kvno} enctype {tkt_etype}")
    rec("ticket_flags", f"{tkt_flags:#010x}")
    rec("session_key_enctype", f"{sk_type} ({ENCTYPE_NAMES.get(sk_type, '?')})")
    rec("session_key", sk.hex())
    rec("authtime", f"{authtime} ({iso(authtime)})")
    rec("starttime", f"{starttime} ({iso(starttime)})")
    rec("endtime", f"{endtime} ({iso(endtime)})")
    rec("ticket_authorization_data", tkt_authz)
    rec("ticket_pac_bytes", len(tkt_pac) if tkt_pac is not None else "none")
    rec("authenticator_enctype", auth_etype)
    rec("authenticator_kvno", auth_kvno if auth_kvno is not None else "none")
    rec("authenticator_cname", a_cname)
    rec("authenticator_ctime", f"{a_ctime} ({iso(a_ctime)})")
    rec("authenticator_cusec", a_cusec)
    rec("authenticator_seq_number", a_seq if a_seq is not None else "none")
    rec("authenticator_authorization_data", a_authz)
    rec("checksum_type", "0x8003")
    rec("checksum_length", len(ck_val))
    rec("checksum_bnd", ck_val[4:20].hex())
    rec("checksum_flags", f"{gss_flags:#x}")
    rec("subkey_enctype", f"{subkey_type} ({ENCTYPE_NAMES.get(subkey_type, '?')})")
    rec("subkey", subkey.hex())
    rec("acceptor_initiator_name", acc_initiator)
    rec("acceptor_target_name", acc_target)
    rec("acceptor_ret_flags", f"{acc_flags:#x}")
    rec("acceptor_authtime", acc_authtime)
    rec("acceptor_pac_bytes", pac_len)
    rec("acceptor_reply_token", rep_file if mutual else "none")
    rec("acceptor_subkey", a_acc[1].hex() if a_acc else "none")
    if args.pac_out:
        check(tkt_pac is not None, "the ticket has no PAC")
        with open(args.pac_out, "wb") as fh:
            fh.write(tkt_pac)
        rc = mit.pac_verify(tkt_pac, authtime, cname, tkt_etype, keys[0])
        check(rc == 0, f"krb5_pac_verify failed: error {rc}")
        rec("ticket_pac_file", os.path.basename(args.pac_out))
        rec("pac_server_signature_verified", "yes (MIT krb5_pac_verify with the ticket key)")
        rec("acceptor_pac_authenticated", pac_authenticated)
    rec("lucid_protocol", f"{al.protocol} ({'RFC 4121 CFX' if al.protocol == 1 else 'RFC 1964/4757'})")
    for k, v in rep_vals:
        rec(k, v, file=rep_file)

    with open(args.values, "a") as fh:
        fh.write("\n".join(vals) + "\n")
    print(f"{req_file}: ticket {ENCTYPE_NAMES.get(tkt_etype)} kvno {tkt_kvno}, session key {ENCTYPE_NAMES.get(sk_type)},"
          f" accepted by MIT as {acc_initiator}" + (f", AP-REP {len(reply)} bytes" if mutual else ", no reply token"))


def cmd_pac(args):
    from samba.dcerpc import krb5pac, security  # noqa: F401 (security: dom_sid)
    from samba.ndr import ndr_unpack, ndr_print

    raw = open(args.pac, "rb").read()
    file = args.file
    vals = []

    def rec(key, value):
        vals.append(f"{file} {key} = {value}")

    def nttime(t):
        if t in (0, 0x7FFFFFFFFFFFFFFF) or t >= 0x7FFFFFFFFFFFFFFF:
            return f"{t:#x} (never/unset)"
        return f"{t} ({iso(t // 10_000_000 - 11_644_473_600)})"

    def s(x):  # lsa_String / str / None
        if x is None:
            return ""
        return x if isinstance(x, str) else (x.string or "")

    # The header by hand (MS-PAC 2.3/2.4): cBuffers, Version, then {ulType, cbBufferSize, Offset (u64)}.
    n, version = struct.unpack_from("<II", raw, 0)
    hdr = [struct.unpack_from("<IIQ", raw, 8 + 16 * i) for i in range(n)]
    for t, size, off in hdr:
        check(off % 8 == 0 and off + size <= len(raw), "PAC buffer out of range or unaligned")
    rec("pac_size", len(raw))
    rec("pac_version", version)
    rec("pac_buffer_count", n)
    rec("pac_buffers", " ".join(f"{t}:{size}@{off}" for t, size, off in hdr))

    pac = ndr_unpack(krb5pac.PAC_DATA, raw)
    check(pac.num_buffers == n, "Samba and the header disagree on the buffer count")
    if args.dump:
        with open(args.dump, "w") as fh:
            fh.write(ndr_print(pac))
    names = {1: "LOGON_INFO", 6: "SRV_CHECKSUM", 7: "KDC_CHECKSUM", 10: "LOGON_NAME", 11: "CONSTRAINED_DELEGATION",
             12: "UPN_DNS_INFO", 13: "CLIENT_CLAIMS_INFO", 14: "DEVICE_INFO", 15: "DEVICE_CLAIMS_INFO",
             16: "TICKET_CHECKSUM", 17: "ATTRIBUTES_INFO", 18: "REQUESTER_SID", 19: "FULL_CHECKSUM"}
    rec("pac_buffer_types", " ".join(f"{t}({names.get(t, '?')})" for t, _, _ in hdr))
    found = {}
    for b in pac.buffers:
        t, info = b.type, b.info
        found[t] = info
        if t == krb5pac.PAC_TYPE_LOGON_INFO:
            i3 = info.info.info3
            base = i3.base
            dom = str(base.domain_sid)
            rec("pac_logon_time", nttime(base.logon_time))
            rec("pac_account_name", s(base.account_name))
            rec("pac_full_name", s(base.full_name))
            rec("pac_logon_server", s(base.logon_server))
            rec("pac_logon_domain", s(base.logon_domain))
            rec("pac_domain_sid", dom)
            rec("pac_user_rid", base.rid)
            rec("pac_user_sid", f"{dom}-{base.rid}")
            rec("pac_primary_group_rid", base.primary_gid)
            rec("pac_user_flags", f"{base.user_flags:#x}")
            rec("pac_user_account_control", f"{base.acct_flags:#x}")
            rec("pac_logon_count", base.logon_count)
            rec("pac_group_count", base.groups.count)
            groups = [(g.rid, g.attributes) for g in (base.groups.rids or [])]
            for rid, attr in groups:
                rec("pac_group", f"{rid} {attr:#x}")
            rec("pac_extra_sid_count", i3.sidcount)
            extra = [(str(x.sid), x.attributes) for x in (i3.sids or [])]
            for sid, attr in extra:
                rec("pac_extra_sid", f"{sid} {attr:#x}")
            rg = info.info.resource_groups
            rec("pac_resource_group_count", rg.groups.count if rg and rg.groups else 0)
        elif t == krb5pac.PAC_TYPE_LOGON_NAME:
            rec("pac_client_name", info.account_name)
            rec("pac_client_logon_time", nttime(info.logon_time))
        elif t == krb5pac.PAC_TYPE_UPN_DNS_INFO:
            rec("pac_upn", info.upn_name)
            rec("pac_dns_domain_name", info.dns_domain_name)
            rec("pac_upn_dns_flags", f"{info.flags:#x}")
            if info.flags & krb5pac.PAC_UPN_DNS_FLAG_HAS_SAM_NAME_AND_SID:
                rec("pac_upn_dns_sam_name", info.ex.samaccountname)
                rec("pac_upn_dns_sid", str(info.ex.objectsid))
        elif t in (6, 7, 16, 19):
            key = {6: "server", 7: "kdc", 16: "ticket", 19: "full"}[t]
            rec(f"pac_{key}_signature_type", struct.unpack("<i", struct.pack("<I", info.type))[0])
            rec(f"pac_{key}_signature", bytes(info.signature).hex())
        elif t == krb5pac.PAC_TYPE_ATTRIBUTES_INFO:
            rec("pac_attributes_flags_length", info.flags_length)
            rec("pac_attributes_flags", f"{info.flags:#x}")
        elif t == krb5pac.PAC_TYPE_REQUESTER_SID:
            rec("pac_requester_sid", str(info.sid))
    check(1 in found and 6 in found and 7 in found and 10 in found, "PAC lacks LOGON_INFO, a signature or LOGON_NAME")

    if args.directory:
        d = {}
        for line in open(args.directory):
            k, _, v = line.strip().partition(" ")
            d.setdefault(k, []).append(v)
        base = found[1].info.info3.base
        dom = str(base.domain_sid)
        check(dom == d["domain"][0], f"PAC domain SID {dom} is not the directory's {d['domain'][0]}")
        check(f"{dom}-{base.rid}" == d["alice"][0], "PAC user SID is not alice's objectSid")
        check(str(base.primary_gid) == d["alice_primaryGroupID"][0], "PAC primary group is not alice's")
        pac_sids = {f"{dom}-{g.rid}" for g in (base.groups.rids or [])}
        extra = {str(x.sid) for x in (found[1].info.info3.sids or [])}
        for grp in ("Sales", "Finance", "Domain_Users"):
            check(d[grp][0] in pac_sids, f"PAC groups lack {grp} {d[grp][0]}")
        token = set(d.get("tokenGroup", []))
        check(pac_sids <= token | {d["alice"][0]}, f"PAC groups not in alice's tokenGroups: {pac_sids - token}")
        domain_token = {x for x in token if x.startswith(dom + "-")}
        check(domain_token <= pac_sids, f"tokenGroups missing from the PAC: {domain_token - pac_sids}")
        rec("pac_directory_check", "ok (user SID, primary group, group SIDs = objectSid/primaryGroupID/tokenGroups;"
            f" extra SIDs {' '.join(sorted(extra)) or 'none'} are not directory groups)")
        for grp in ("Domain_Users", "Sales", "Finance"):
            rec(f"pac_group_sid_{grp.lower()}", d[grp][0])

    with open(args.values, "a") as fh:
        fh.write("\n".join(vals) + "\n")
    print(f"{file}: PAC {len(raw)} bytes, buffers {' '.join(str(t) for t, _, _ in hdr)}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-port")
    t = sub.add_parser("token")
    t.add_argument("--name", required=True)
    t.add_argument("--out-dir", required=True)
    t.add_argument("--keytab", required=True)
    t.add_argument("--values", required=True)
    t.add_argument("--no-mutual", action="store_true")
    t.add_argument("--service", default=SERVICE)
    t.add_argument("--service-principal", default=SERVICE_PRINCIPAL)
    t.add_argument("--client-principal", default=CLIENT_PRINCIPAL)
    t.add_argument("--pac-out")
    pc = sub.add_parser("pac")
    pc.add_argument("--pac", required=True)
    pc.add_argument("--file", required=True)
    pc.add_argument("--values", required=True)
    pc.add_argument("--directory")
    pc.add_argument("--dump")
    args = ap.parse_args()
    {"free-port": cmd_free_port, "token": cmd_token, "pac": cmd_pac}[args.cmd](args)


if __name__ == "__main__":
    main()
