//! The Kerberos acceptor's one step (RFC 4121 section 4.1, RFC 4120 section 3.2.3): an AP-REQ in
//! its GSS-API framing in, the client's identity and the key SMB derives its keys from out, with
//! the AP-REP when the client asked for mutual authentication; or a refusal with its KRB-ERROR
//! code, an audit reason and, where the client can act on it, a KRB-ERROR token to send back.
//!
//! Like the rest of the core it does no I/O and reads neither clock nor randomness: the keytab,
//! the time and a source of random bytes are arguments.
//!
//! Order of the checks. RFC 4120 section 3.2.3's, as MIT's `rd_req_dec.c` makes them, with one
//! deviation: the replay cache is consulted last, after the RFC 4121 checksum, because it is the
//! only check that changes state; so only an authenticator that passed everything else takes
//! room in it. (A replayed authenticator that is also malformed is then refused for its defect
//! rather than as a replay, which tells an attacker nothing new.)

use std::time::Duration;

use zeroize::Zeroizing;

use super::crypto::{CONFOUNDER_LEN, Enctype, Key};
use super::keytab::{Keytab, Principal};
use super::messages::error::{ErrorCode, KrbError};
use super::messages::gss::{GssToken, Mech, gss_flags, tok_id, wrap};
use super::messages::kdc::{TgtRequest, encode_tgt_reply};
use super::messages::{ApReq, Authenticator, EncApRepPart, EncryptionKey, MessageError, ap_options, ticket_flags};
use super::pac::{self, Pac, PacError};
use super::replay::{DEFAULT_SKEW, Presented, Refusal, ReplayCache};
use super::service_ticket::ServiceTicket;
use crate::engine::clock::Now;
use crate::proto::{DecodeError, NtStatus};

#[cfg(test)]
mod tests;

/// What the acceptor allows.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    /// The largest difference allowed between our clock and the client's (authenticator ctime),
    /// and the grace around the ticket's start and end times. The replay cache must be made with
    /// the same skew.
    pub skew: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { skew: DEFAULT_SKEW }
    }
}

/// A client the ticket and authenticator prove. Its `Debug` never shows the key.
pub(crate) struct Accepted {
    /// The ticket's client (cname@crealm), which the authenticator matched.
    pub client: Principal,
    /// The service principal the ticket was for (the keytab entry that decrypted it).
    pub service: Principal,
    /// The key SMB derives its signing and encryption keys from (MS-SMB2 3.3.5.5.3, MS-KILE
    /// 3.1.1.2): our acceptor subkey if we made one, else the authenticator's subkey, else the
    /// ticket's session key (RFC 4121 section 2).
    pub session_key: Zeroizing<Vec<u8>>,
    /// The enctype of `session_key`.
    pub session_enctype: Enctype,
    /// Whether `session_key` is a subkey we made (RFC 4121 section 4.2.2 AcceptorSubkey).
    pub acceptor_subkey: bool,
    /// Our initial sequence number (the AP-REP's), where per-message tokens from us start.
    pub seq_number: u32,
    /// The GSS-framed AP-REP (TOK_ID 02 00) when the client asked for mutual authentication.
    pub reply: Option<Vec<u8>>,
    /// The ticket's PAC (MS-PAC 2.1), its server signature verified with the service key and
    /// its client info matched with the ticket ([`pac::verify`]); its KDC signature cannot be
    /// checked here. `None` when the ticket has none: the caller decides whether it needs one.
    pub pac: Option<Pac>,
    /// The PAC's bytes as the ticket carried them.
    pub pac_bytes: Option<Vec<u8>>,
    /// When the ticket ends (Unix seconds): the session must not outlive it (MS-SMB2 3.3.5.5.3).
    pub ticket_end: i64,
    /// The GSS flags of the RFC 4121 section 4.1.1 checksum ([`gss_flags`]).
    pub flags: u32,
    /// The OID the client framed its token with; the reply uses the same.
    pub mech: Mech,
}

impl std::fmt::Debug for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accepted")
            .field("client", &self.client)
            .field("service", &self.service)
            .field("session_key", &format_args!("<{} bytes redacted>", self.session_key.len()))
            .field("session_enctype", &self.session_enctype)
            .field("acceptor_subkey", &self.acceptor_subkey)
            .field("reply", &self.reply.as_ref().map(Vec::len))
            .field("pac", &self.pac)
            .field("pac_bytes", &self.pac_bytes.as_ref().map(Vec::len))
            .field("ticket_end", &self.ticket_end)
            .field("flags", &format_args!("{:#x}", self.flags))
            .field("mech", &self.mech)
            .finish()
    }
}

/// A refused AP-REQ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rejected {
    /// The RFC 4120 section 7.5.9 code, as MIT's acceptor would give it.
    pub code: ErrorCode,
    /// For the audit log: what failed, never a key or the ticket's contents.
    pub reason: &'static str,
    /// A GSS-framed KRB-ERROR (TOK_ID 03 00) for the client, only where it can act on it:
    /// KRB_AP_ERR_SKEW (its stime lets the client correct its clock, MS-KILE 3.2.5.1 and RFC
    /// 4120 section 3.2.3) and KRB_AP_ERR_TKT_EXPIRED / KRB_AP_ERR_TKT_NYV (the client fetches a
    /// new ticket). Other refusals send nothing beyond the NT status: they tell a prober which
    /// keys and names we hold, and no client retries on them.
    pub reply: Option<Vec<u8>>,
    /// The NT status SESSION_SETUP fails with ([`nt_status`]).
    pub status: NtStatus,
}

impl Rejected {
    fn new(code: ErrorCode, reason: &'static str) -> Rejected {
        Rejected { code, reason, reply: None, status: nt_status(code) }
    }
}

/// The NT status SESSION_SETUP returns for a refused AP-REQ. From Samba's `krb5_to_nt_status`
/// table (lib/krb5_wrap/krb5_samba.c): KRB_AP_ERR_SKEW is STATUS_TIME_DIFFERENCE_AT_DC;
/// BAD_INTEGRITY, MODIFIED and TKT_EXPIRED are STATUS_LOGON_FAILURE. Codes outside its table
/// fall there to STATUS_UNSUCCESSFUL; here they are STATUS_LOGON_FAILURE too, the status the
/// NTLM path gives a refused credential, so a client sees one failure for any bad ticket. A
/// full replay cache is not the client's fault and is mapped where it is made
/// (STATUS_INSUFFICIENT_RESOURCES, see [`Refusal::Full`]).
pub(crate) fn nt_status(code: ErrorCode) -> NtStatus {
    match code {
        ErrorCode::KRB_AP_ERR_SKEW => NtStatus::TIME_DIFFERENCE_AT_DC,
        _ => NtStatus::LOGON_FAILURE,
    }
}

/// Whether `token` is a KERB-TGT-REQUEST in its GSS-API framing (TOK_ID 04 00): a client that
/// wants user-to-user and asks for our TGT first.
pub(crate) fn is_tgt_request(token: &[u8]) -> bool {
    GssToken::decode(token).is_ok_and(|framed| framed.tok_id == tok_id::TGT_REQ)
}

/// The KERB-TGT-REPLY for a KERB-TGT-REQUEST: the TGT we hold for the name it asks for (any of
/// ours when it names none), framed with the user-to-user OID and TOK_ID 04 01. `None` when the
/// request is malformed or we hold no TGT for that name that is valid for another `margin`:
/// the client then asks its KDC for an ordinary service ticket.
pub(crate) fn tgt_reply(token: &[u8], tgts: &[ServiceTicket], now: Now, margin: Duration) -> Option<Vec<u8>> {
    let framed = GssToken::decode(token).ok().filter(|framed| framed.tok_id == tok_id::TGT_REQ)?;
    let request = TgtRequest::decode(framed.inner).ok()?;
    let deadline = now.unix().0.saturating_add(i64::try_from(margin.as_secs()).unwrap_or(i64::MAX));
    let tgt = tgts.iter().filter(|tgt| tgt.endtime > deadline).find(|tgt| {
        let name = request.server_name.as_ref().is_none_or(|name| name.components == tgt.principal.components);
        let realm = request.realm.as_ref().is_none_or(|realm| realm.eq_ignore_ascii_case(&tgt.principal.realm));
        name && realm
    })?;
    Some(wrap(Mech::Krb5U2u, tok_id::TGT_REP, &encode_tgt_reply(&tgt.ticket)))
}

/// Checks one AP-REQ token (the mechToken of SPNEGO, or a raw Kerberos token) against `keys`,
/// or, for a user-to-user AP-REQ, against the session keys of our TGTs (`tgts`).
/// `random` fills buffers with fresh random bytes (the AP-REP's confounder, acceptor subkey and
/// sequence number); it is called only for an accepted request that asked for mutual
/// authentication.
pub(crate) fn accept(
    token: &[u8],
    keys: &Keytab,
    tgts: &[ServiceTicket],
    policy: &Policy,
    replay: &mut ReplayCache,
    now: Now,
    random: &mut impl FnMut(&mut [u8]),
) -> Result<Accepted, Rejected> {
    let (stime, susec) = now.unix();
    let skew = i64::try_from(policy.skew.as_secs()).unwrap_or(i64::MAX);

    // RFC 4121 section 4.1 framing with either Kerberos OID, then the AP-REQ.
    let framed = GssToken::decode(token)
        .map_err(|_| Rejected::new(ErrorCode::KRB_AP_ERR_MSG_TYPE, "not a Kerberos GSS-API token"))?;
    if framed.tok_id != tok_id::AP_REQ {
        return Err(Rejected::new(ErrorCode::KRB_AP_ERR_MSG_TYPE, "the GSS-API token is not an AP-REQ"));
    }
    let mech = framed.mech;
    let ap_req = ApReq::decode(framed.inner).map_err(|error| match error {
        DecodeError::Invalid { what: "AP-REQ pvno" | "Ticket tkt-vno", .. } => {
            Rejected::new(ErrorCode::KRB_AP_ERR_BADVERSION, "not Kerberos protocol version 5")
        }
        _ => Rejected::new(ErrorCode::KRB_AP_ERR_MSG_TYPE, "malformed AP-REQ"),
    })?;
    // The service key, and with it the ticket. User-to-user: the ticket is under the session
    // key of one of our TGTs (the one we sent, or its predecessor while that is still valid).
    let user_to_user = ap_req.ap_options & ap_options::USE_SESSION_KEY != 0;
    let service = ap_req.ticket.server();
    let (service_key, ticket) = if user_to_user {
        user_to_user_ticket(tgts, &ap_req, &service)?
    } else {
        let service_key = service_key(keys, &ap_req, &service)?;
        let ticket = ap_req.ticket.decrypt(&service_key).map_err(|error| match error {
            MessageError::Decode(_) => Rejected::new(ErrorCode::KRB_ERR_GENERIC, "malformed ticket contents"),
            _ => Rejected::new(ErrorCode::KRB_AP_ERR_BAD_INTEGRITY, "the ticket does not decrypt with the keytab key"),
        })?;
        (service_key, ticket)
    };
    let ticket_key = ticket
        .key
        .key()
        .map_err(|_| Rejected::new(ErrorCode::KRB_AP_ERR_BAD_INTEGRITY, "the ticket's session key is unusable"))?;

    // The authenticator under the session key, for the ticket's client.
    let authenticator = ap_req.decrypt_authenticator(&ticket_key).map_err(|error| match error {
        MessageError::Decode(_) => Rejected::new(ErrorCode::KRB_ERR_GENERIC, "malformed authenticator"),
        _ => Rejected::new(ErrorCode::KRB_AP_ERR_BAD_INTEGRITY, "the authenticator does not decrypt"),
    })?;
    let client = ticket.client();
    if !authenticator.client().same_name(&client) {
        return Err(Rejected::new(ErrorCode::KRB_AP_ERR_BADMATCH, "the authenticator is for another client"));
    }

    // Times: the authenticator's clock, then the ticket's window.
    let actionable = |code, reason, ctime: Option<(i64, u32)>| {
        let mut error = KrbError::new(code, stime, susec, &service);
        if let Some((ctime, cusec)) = ctime {
            error.ctime = Some(ctime);
            error.cusec = Some(cusec);
        }
        let reply = error.encode().ok().map(|inner| wrap(mech, tok_id::KRB_ERROR, &inner));
        Rejected { code, reason, reply, status: nt_status(code) }
    };
    let client_time = Some((authenticator.ctime, authenticator.cusec));
    // RFC 4120 section 3.2.3 and MIT: the skew first, so that a client whose clock is off
    // learns it (and our time) rather than that its ticket seems not yet valid or expired.
    if authenticator.ctime.abs_diff(stime) > skew.unsigned_abs() {
        return Err(actionable(
            ErrorCode::KRB_AP_ERR_SKEW,
            "the client's clock is off by more than the skew",
            client_time,
        ));
    }
    if ticket.flags & ticket_flags::INVALID != 0 {
        return Err(actionable(ErrorCode::KRB_AP_ERR_TKT_NYV, "the ticket is marked invalid", client_time));
    }
    if ticket.valid_from().saturating_sub(skew) > stime {
        return Err(actionable(ErrorCode::KRB_AP_ERR_TKT_NYV, "the ticket is not yet valid", client_time));
    }
    if ticket.endtime.saturating_add(skew) < stime {
        return Err(actionable(ErrorCode::KRB_AP_ERR_TKT_EXPIRED, "the ticket has expired", client_time));
    }

    // RFC 4121 section 4.1.1: a GSS-API authenticator carries the 0x8003 checksum. Its channel
    // bindings are not checked: SMB has none to compare with (MS-SMB2 carries no channel
    // bindings), and Windows and MIT clients send zeros; a client that sends others bound the
    // context to a channel we cannot see, which MIT's acceptor without bindings also accepts.
    // Some SMB clients build their AP-REQ by hand without any checksum (impacket): as Windows
    // (MS-KILE) and MIT's acceptor do, that means no GSS flags and no bindings, with mutual
    // authentication asked for by the AP options alone. A checksum of another kind, or a
    // malformed one, is refused.
    let flags = match (&authenticator.cksum, authenticator.gss_checksum()) {
        (None, _) => 0,
        (Some(_), Ok(Some(checksum))) => checksum.flags,
        (Some(_), Ok(None)) => {
            return Err(Rejected::new(ErrorCode::KRB_AP_ERR_INAPP_CKSUM, "the authenticator's checksum is not GSS's"));
        }
        (Some(_), Err(_)) => return Err(Rejected::new(ErrorCode::KRB_AP_ERR_INAPP_CKSUM, "malformed GSS checksum")),
    };

    // MS-KILE 3.4.5.3, MS-PAC 3.2.x: a PAC is trusted only if its server signature verifies
    // with the key that decrypted the ticket and its client info is the ticket's client and
    // authtime; otherwise the ticket is refused as modified, as Windows and MIT (with a keytab
    // key) do. Two PACs, or a malformed one, are refused alike.
    let pac_bytes =
        ticket.pac().map_err(|_| Rejected::new(ErrorCode::KRB_AP_ERR_MODIFIED, "malformed PAC"))?.map(<[u8]>::to_vec);
    let pac = pac_bytes
        .as_deref()
        .map(|bytes| pac::verify(bytes, &service_key, &client, ticket.authtime))
        .transpose()
        .map_err(|error| Rejected::new(ErrorCode::KRB_AP_ERR_MODIFIED, pac_refusal(&error)))?;
    drop(service_key);

    // Last, the only check that keeps state.
    replay
        .admit(
            &Presented::new(&client, &service, authenticator.ctime, authenticator.cusec, &ap_req.authenticator.cipher),
            now,
        )
        .map_err(|refusal| match refusal {
            Refusal::Replay => Rejected::new(ErrorCode::KRB_AP_ERR_REPEAT, "the authenticator was presented before"),
            Refusal::Skew => {
                actionable(ErrorCode::KRB_AP_ERR_SKEW, "the client's clock is off by more than the skew", client_time)
            }
            Refusal::Full => Rejected {
                code: refusal.error_code(),
                reason: "replay cache full",
                reply: None,
                status: NtStatus::INSUFFICIENT_RESOURCES,
            },
        })?;

    let authenticator_subkey =
        authenticator.subkey.as_ref().map(EncryptionKey::key).transpose().map_err(|_| {
            Rejected::new(ErrorCode::KRB_AP_ERR_BAD_INTEGRITY, "the authenticator's subkey is unusable")
        })?;
    let mutual = flags & gss_flags::MUTUAL != 0 || ap_req.ap_options & ap_options::MUTUAL_REQUIRED != 0;
    let (reply, acceptor_subkey, seq_number) = if mutual {
        let (reply, subkey, seq_number) =
            ap_rep(&authenticator, &ticket_key, authenticator_subkey.as_ref(), mech, user_to_user, random)?;
        (Some(reply), subkey, seq_number)
    } else {
        (None, None, 0)
    };
    let made_subkey = acceptor_subkey.is_some();
    let session_key = acceptor_subkey.or(authenticator_subkey).unwrap_or(ticket_key);

    Ok(Accepted {
        client,
        service,
        session_key: Zeroizing::new(session_key.bytes().to_vec()),
        session_enctype: session_key.enctype(),
        acceptor_subkey: made_subkey,
        seq_number,
        reply,
        pac,
        pac_bytes,
        ticket_end: ticket.endtime,
        flags,
        mech,
    })
}

/// The keytab key for the ticket, refused with the codes of MIT's `rd_req_dec.c`
/// (`iteration_error`): no keys at all is KRB_AP_ERR_NOKEY, a server principal the keytab does
/// not hold KRB_AP_ERR_NOT_US, and a principal held without that kvno or enctype
/// KRB_AP_ERR_BADKEYVER ("there's no defined error for having the key version but not the
/// enctype").
fn service_key(keys: &Keytab, ap_req: &ApReq, service: &Principal) -> Result<Key, Rejected> {
    if keys.entries.is_empty() {
        return Err(Rejected::new(ErrorCode::KRB_AP_ERR_NOKEY, "the keytab holds no keys"));
    }
    if !keys.entries.iter().any(|entry| entry.principal.same_name(service)) {
        return Err(Rejected::new(ErrorCode::KRB_AP_ERR_NOT_US, "the ticket is for a principal not in the keytab"));
    }
    let enc_part = &ap_req.ticket.enc_part;
    let Some(enctype) = enc_part.enctype() else {
        return Err(Rejected::new(ErrorCode::KRB_AP_ERR_BADKEYVER, "the ticket's enctype is not supported"));
    };
    keys.find(service, enctype, enc_part.kvno).map(|entry| entry.key.clone()).ok_or_else(|| {
        Rejected::new(ErrorCode::KRB_AP_ERR_BADKEYVER, "the keytab has no key of the ticket's kvno and enctype")
    })
}

/// The ticket of a user-to-user AP-REQ, decrypted with the session key of the TGT we hold for
/// its server: KRB_AP_ERR_NOKEY without one, KRB_AP_ERR_BAD_INTEGRITY when none decrypts it.
fn user_to_user_ticket(
    tgts: &[ServiceTicket],
    ap_req: &ApReq,
    service: &Principal,
) -> Result<(Key, super::messages::EncTicketPart), Rejected> {
    let mut candidates = tgts
        .iter()
        .filter(|tgt| {
            tgt.principal.same_name(service) && Some(tgt.session_key.enctype()) == ap_req.ticket.enc_part.enctype()
        })
        .peekable();
    if candidates.peek().is_none() {
        return Err(Rejected::new(
            ErrorCode::KRB_AP_ERR_NOKEY,
            "a user-to-user ticket for a principal we hold no TGT of",
        ));
    }
    for tgt in candidates {
        match ap_req.ticket.decrypt(&tgt.session_key) {
            Ok(ticket) => return Ok((tgt.session_key.clone(), ticket)),
            Err(MessageError::Decode(_)) => {
                return Err(Rejected::new(ErrorCode::KRB_ERR_GENERIC, "malformed ticket contents"));
            }
            Err(_) => {}
        }
    }
    Err(Rejected::new(
        ErrorCode::KRB_AP_ERR_BAD_INTEGRITY,
        "the user-to-user ticket does not decrypt with our TGT's key",
    ))
}

/// The audit reason of a refused PAC.
fn pac_refusal(error: &PacError) -> &'static str {
    match error {
        PacError::Signature(_) | PacError::ChecksumType(_) => "PAC signature",
        PacError::ClientMismatch(_) => "PAC client info",
        PacError::Decode(_) | PacError::Missing(_) | PacError::Duplicate(_) => "malformed PAC",
    }
}

/// The AP-REP for mutual authentication (RFC 4120 section 5.5.2, RFC 4121 section 4.1), the
/// acceptor subkey it carries and its sequence number. ctime and cusec echo the authenticator. For the AES enctypes a
/// fresh subkey of the authenticator subkey's enctype (RFC 4121 section 2: the acceptor's subkey
/// then protects the context; MIT's acceptor does the same). For RC4 none, as MIT and Windows:
/// RFC 4757 tokens have no acceptor-subkey flag, so the authenticator's subkey stays the key.
///
/// User-to-user (`user_to_user`): the acceptor subkey is the ticket's session key itself. The
/// clients that ask for user-to-user in SMB are sspi-rs's (the `smb` crate's): they key SMB
/// signing with the ticket's session key as soon as they send the AP-REQ, before they read the
/// AP-REP, and refuse a session whose key then changes. RFC 4121 leaves the subkey's value to
/// the acceptor; this one is as fresh as the ticket (which the KDC issued for this client
/// under our TGT's key), and SMB 3.1.1 still derives every session's keys from its own
/// preauthentication hash. Other clients read the subkey from the AP-REP and agree either way.
fn ap_rep(
    authenticator: &Authenticator,
    ticket_key: &Key,
    authenticator_subkey: Option<&Key>,
    mech: Mech,
    user_to_user: bool,
    random: &mut impl FnMut(&mut [u8]),
) -> Result<(Vec<u8>, Option<Key>, u32), Rejected> {
    let enctype = authenticator_subkey.unwrap_or(ticket_key).enctype();
    let subkey = match (enctype, user_to_user) {
        (Enctype::Rc4Hmac, _) => None,
        (_, true) => Some(Ok(ticket_key.clone())),
        (_, false) => {
            let mut bytes = Zeroizing::new(vec![0; enctype.key_len()]);
            // AES random-to-key is the identity (RFC 3962 section 6, RFC 8009 section 5).
            random(&mut bytes);
            Some(Key::new(enctype, &bytes))
        }
    };
    let subkey = subkey.transpose().map_err(|_| Rejected::new(ErrorCode::KRB_ERR_GENERIC, "acceptor subkey"))?;
    let mut seq_number = [0; 4];
    random(&mut seq_number);
    let mut confounder = [0; CONFOUNDER_LEN];
    random(&mut confounder);
    // 30 bits, as MIT: peers that read sequence numbers as signed stay clear of the sign bit.
    let seq_number = u32::from_be_bytes(seq_number) & 0x3FFF_FFFF;
    let part = EncApRepPart {
        ctime: authenticator.ctime,
        cusec: authenticator.cusec,
        subkey: subkey.as_ref().map(EncryptionKey::from_key),
        seq_number: Some(seq_number),
    };
    // ctime came out of a KerberosTime and cusec was checked when decoded: this does not fail,
    // and would be a refusal rather than a panic if it did.
    let ap_rep = part
        .seal(ticket_key, &confounder)
        .and_then(|ap_rep| ap_rep.encode())
        .map_err(|_| Rejected::new(ErrorCode::KRB_ERR_GENERIC, "AP-REP encoding"))?;
    Ok((wrap(mech, tok_id::AP_REP, &ap_rep), subkey, seq_number))
}
