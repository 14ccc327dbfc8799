//! The acceptor against MIT's own tokens (tests/data/kerberos/README.txt gives every expected
//! value) and against AP-REQs built with our encoders to fail one check each.

use std::path::PathBuf;
use std::time::{Duration, Instant, UNIX_EPOCH};

use proptest::prelude::*;

use super::*;
use crate::auth::kerberos::keytab::name_type;
use crate::auth::kerberos::messages::gss::{GSS_CHECKSUM_TYPE, GssChecksum};
use crate::auth::kerberos::messages::{
    ApRep, AuthorizationDataEntry, Checksum, EncTicketPart, PrincipalName, Ticket, TransitedEncoding, ad_type,
    encode_authorization_data,
};

/// 2026-12-07T04:04:16Z, the fixtures' day.
const T: i64 = 1_796_616_256;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/kerberos")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// The value README.txt records as `<file> <key> = <value>`.
fn recorded(file: &str, key: &str) -> String {
    let text = std::fs::read_to_string(data_dir().join("README.txt")).unwrap();
    let prefix = format!("{file} {key} = ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("README.txt records no {file} {key}"))
        .trim()
        .to_owned()
}

fn recorded_number(file: &str, key: &str) -> i64 {
    let value = recorded(file, key);
    let word = value.split_whitespace().next().unwrap();
    match word.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).unwrap(),
        None => word.parse().unwrap(),
    }
}

fn recorded_hex(file: &str, key: &str) -> Vec<u8> {
    hex::decode(recorded(file, key)).unwrap()
}

fn ap_req_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("ap-req-") && name.ends_with(".bin"))
        .collect();
    names.sort();
    assert!(names.len() >= 6, "the AP-REQ fixtures are missing: {names:?}");
    names
}

fn keytab() -> Keytab {
    Keytab::parse(&fixture("service.keytab")).unwrap()
}

fn at(unix: i64) -> Now {
    Now { instant: Instant::now(), system: UNIX_EPOCH + Duration::from_secs(unix.try_into().unwrap()) }
}

/// Deterministic "randomness": 1, 2, 3, ... across calls.
fn counter() -> impl FnMut(&mut [u8]) {
    let mut next = 0_u8;
    move |buffer: &mut [u8]| {
        for byte in buffer {
            next = next.wrapping_add(1);
            *byte = next;
        }
    }
}

fn accept_at(token: &[u8], keys: &Keytab, now: i64) -> Result<Accepted, Rejected> {
    accept(token, keys, &[], &Policy::default(), &mut ReplayCache::default(), at(now), &mut counter())
}

fn cifs() -> Principal {
    Principal::new("EXAMPLE.COM", &["cifs", "fs.example.com"], name_type::SRV_HST)
}

fn alice() -> PrincipalName {
    PrincipalName { name_type: name_type::PRINCIPAL, components: vec!["alice".into()] }
}

fn key(enctype: Enctype, byte: u8) -> Key {
    Key::new(enctype, &vec![byte; enctype.key_len()]).unwrap()
}

/// An AP-REQ for cifs/fs.example.com (kvno 1, aes256, the fixture keytab's key) that passes every
/// check at [`T`]; each test changes one thing.
struct Request {
    server: Principal,
    service_key: Key,
    kvno: Option<u32>,
    ticket_flags: u32,
    starttime: i64,
    endtime: i64,
    authenticator_client: PrincipalName,
    ctime: i64,
    checksum: Option<Checksum>,
    subkey: Option<Key>,
    ap_options: u32,
    mech: Mech,
    /// The ticket's PAC, in AD-IF-RELEVANT[AD-WIN2K-PAC] as MIT and Windows put it.
    pac: Option<Vec<u8>>,
}

impl Request {
    fn new() -> Request {
        let keytab = keytab();
        let service_key = keytab.find(&cifs(), Enctype::Aes256CtsHmacSha1, Some(1)).unwrap().key.clone();
        let checksum = GssChecksum {
            bindings: [0; 16],
            flags: gss_flags::MUTUAL | gss_flags::INTEG | gss_flags::CONF,
            delegation: None,
            extensions: Vec::new(),
        };
        Request {
            server: cifs(),
            service_key,
            kvno: Some(1),
            ticket_flags: ticket_flags::PRE_AUTHENT,
            starttime: T - 60,
            endtime: T + 36_000,
            authenticator_client: alice(),
            ctime: T,
            checksum: Some(Checksum { cksumtype: GSS_CHECKSUM_TYPE, checksum: checksum.encode().unwrap() }),
            subkey: Some(key(Enctype::Aes256CtsHmacSha1, 0x55)),
            ap_options: ap_options::MUTUAL_REQUIRED,
            mech: Mech::Krb5,
            pac: None,
        }
    }

    fn session_key() -> Key {
        key(Enctype::Aes256CtsHmacSha1, 0x33)
    }

    fn token(&self) -> Vec<u8> {
        let part = EncTicketPart {
            flags: self.ticket_flags,
            key: EncryptionKey::from_key(&Request::session_key()),
            crealm: "EXAMPLE.COM".into(),
            cname: alice(),
            transited: TransitedEncoding { tr_type: 1, contents: Vec::new() },
            authtime: self.starttime,
            starttime: Some(self.starttime),
            endtime: self.endtime,
            renew_till: None,
            caddr: None,
            authorization_data: self.pac.as_ref().map(|pac| {
                let inner = [AuthorizationDataEntry { ad_type: ad_type::WIN2K_PAC, ad_data: pac.clone() }];
                vec![AuthorizationDataEntry {
                    ad_type: ad_type::IF_RELEVANT,
                    ad_data: encode_authorization_data(&inner),
                }]
            }),
        };
        let ticket = Ticket::seal(&self.server, &part, &self.service_key, self.kvno, &[1; 16]).unwrap();
        let authenticator = Authenticator {
            crealm: "EXAMPLE.COM".into(),
            cname: self.authenticator_client.clone(),
            cksum: self.checksum.clone(),
            cusec: 123_456,
            ctime: self.ctime,
            subkey: self.subkey.as_ref().map(EncryptionKey::from_key),
            seq_number: Some(7),
            authorization_data: None,
        };
        let authenticator = authenticator.seal(&Request::session_key(), &[2; 16]).unwrap();
        ApReq { ap_options: self.ap_options, ticket, authenticator }.encode_gss(self.mech).unwrap()
    }

    fn accept(&self) -> Result<Accepted, Rejected> {
        accept_at(&self.token(), &keytab(), T)
    }

    fn refused(&self) -> Rejected {
        self.accept().unwrap_err()
    }
}

#[test]
fn every_mit_token_is_accepted_as_alice_with_its_pac_and_an_ap_rep_mit_would_read() {
    for name in ap_req_fixtures() {
        let file = name.as_str();
        let ctime = recorded_number(file, "authenticator_ctime");
        let accepted = accept_at(&fixture(file), &keytab(), ctime).unwrap_or_else(|error| panic!("{name}: {error:?}"));
        assert_eq!(accepted.client.to_string(), "alice@EXAMPLE.COM", "{name}");
        assert_eq!(accepted.service.to_string(), recorded(file, "service_principal"), "{name}");
        assert_eq!(accepted.mech, Mech::Krb5, "{name}");
        assert_eq!(i64::from(accepted.flags), recorded_number(file, "checksum_flags"), "{name}");
        assert_eq!(accepted.ticket_end, recorded_number(file, "endtime"), "{name}");
        let pac_bytes = accepted.pac_bytes.as_ref().unwrap_or_else(|| panic!("{name}: no PAC"));
        assert_eq!(pac_bytes.len() as i64, recorded_number(file, "ticket_pac_bytes"), "{name}");
        let pac = accepted.pac.as_ref().unwrap_or_else(|| panic!("{name}: no verified PAC"));
        assert_eq!(pac.user_name(), "alice", "{name}");
        assert_eq!(pac.user_sid(), None, "{name}: MIT's PAC has no logon info");

        let authenticator_subkey = recorded_hex(file, "subkey");
        let enctype = Enctype::from_number(recorded_number(file, "session_key_enctype") as i32).unwrap();
        if recorded(file, "mutual") != "yes" {
            assert!(accepted.reply.is_none(), "{name}: an AP-REP nobody asked for");
            assert_eq!(accepted.session_key.as_slice(), authenticator_subkey, "{name}");
            continue;
        }
        let reply = accepted.reply.as_ref().unwrap_or_else(|| panic!("{name}: no AP-REP"));
        let framed = GssToken::decode_expecting(reply, tok_id::AP_REP).unwrap();
        assert_eq!(framed.mech, Mech::Krb5, "{name}");
        let session_key = Key::new(enctype, &recorded_hex(file, "session_key")).unwrap();
        let part = ApRep::decode(framed.inner).unwrap().decrypt(&session_key).unwrap();
        assert_eq!(part.ctime, ctime, "{name}");
        assert_eq!(i64::from(part.cusec), recorded_number(file, "authenticator_cusec"), "{name}");
        assert!(part.seq_number.is_some(), "{name}");
        if enctype == Enctype::Rc4Hmac {
            assert_eq!(part.subkey, None, "{name}");
            assert_eq!(accepted.session_key.as_slice(), authenticator_subkey, "{name}");
        } else {
            let subkey = part.subkey.unwrap_or_else(|| panic!("{name}: no acceptor subkey"));
            assert_eq!(i64::from(subkey.keytype), recorded_number(file, "subkey_enctype"), "{name}");
            assert_ne!(subkey.keyvalue.as_slice(), authenticator_subkey, "{name}");
            assert_eq!(accepted.session_key.as_slice(), subkey.keyvalue.as_slice(), "{name}");
            assert_eq!(accepted.session_enctype, enctype, "{name}");
        }
    }
}

#[test]
fn the_same_token_twice_is_refused_as_a_replay() {
    let token = fixture("ap-req-aes256-cts-hmac-sha1-96.bin");
    let ctime = recorded_number("ap-req-aes256-cts-hmac-sha1-96.bin", "authenticator_ctime");
    let mut cache = ReplayCache::default();
    let policy = Policy::default();
    accept(&token, &keytab(), &[], &policy, &mut cache, at(ctime), &mut counter()).unwrap();
    let refused = accept(&token, &keytab(), &[], &policy, &mut cache, at(ctime + 1), &mut counter()).unwrap_err();
    assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_REPEAT);
    assert_eq!(refused.reply, None);
    assert_eq!(refused.status, NtStatus::LOGON_FAILURE);
}

#[test]
fn a_full_replay_cache_refuses_with_insufficient_resources_not_a_credential_error() {
    let refused = accept(
        &Request::new().token(),
        &keytab(),
        &[],
        &Policy::default(),
        &mut ReplayCache::new(DEFAULT_SKEW, 0),
        at(T),
        &mut counter(),
    )
    .unwrap_err();
    assert_eq!(refused.code, ErrorCode::KRB_ERR_GENERIC);
    assert_eq!(refused.reason, "replay cache full");
    assert_eq!(refused.status, NtStatus::INSUFFICIENT_RESOURCES);
}

#[test]
fn a_clock_six_minutes_off_is_refused_as_skew_with_a_krb_error_carrying_our_time() {
    let file = "ap-req-aes128-cts-hmac-sha1-96.bin";
    let ctime = recorded_number(file, "authenticator_ctime");
    for now in [ctime + 360, ctime - 360] {
        let refused = accept_at(&fixture(file), &keytab(), now).unwrap_err();
        assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_SKEW);
        assert_eq!(refused.status, NtStatus::TIME_DIFFERENCE_AT_DC);
        let reply = refused.reply.expect("a KRB-ERROR for the client");
        let framed = GssToken::decode_expecting(&reply, tok_id::KRB_ERROR).unwrap();
        let error = KrbError::decode(framed.inner).unwrap();
        assert_eq!(error.error_code, ErrorCode::KRB_AP_ERR_SKEW);
        assert_eq!((error.stime, error.susec), (now, 0));
        assert_eq!(error.ctime, Some(ctime));
        assert_eq!(error.realm, "EXAMPLE.COM");
        assert_eq!(error.sname.components, ["cifs", "fs.example.com"]);
    }
    // Within the skew it is accepted.
    accept_at(&fixture(file), &keytab(), ctime + 299).unwrap();
}

#[test]
fn an_expired_ticket_is_refused_with_a_krb_error() {
    let mut request = Request::new();
    request.starttime = T - 86_400;
    request.endtime = T - 301;
    let refused = request.refused();
    assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_TKT_EXPIRED);
    assert_eq!(refused.status, NtStatus::LOGON_FAILURE);
    let reply = refused.reply.expect("a KRB-ERROR for the client");
    let error = KrbError::decode(GssToken::decode_expecting(&reply, tok_id::KRB_ERROR).unwrap().inner).unwrap();
    assert_eq!(error.error_code, ErrorCode::KRB_AP_ERR_TKT_EXPIRED);
    // Within the skew of its end it is still good.
    request.endtime = T - 299;
    request.accept().unwrap();
}

#[test]
fn a_ticket_not_yet_valid_or_marked_invalid_is_refused_as_not_yet_valid() {
    let mut request = Request::new();
    request.starttime = T + 301;
    let refused = request.refused();
    assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_TKT_NYV);
    assert_eq!(refused.status, NtStatus::LOGON_FAILURE);
    assert!(refused.reply.is_some());

    let mut request = Request::new();
    request.ticket_flags |= ticket_flags::INVALID;
    assert_eq!(request.refused().code, ErrorCode::KRB_AP_ERR_TKT_NYV);
}

#[test]
fn a_ticket_for_a_principal_not_in_the_keytab_is_not_for_us() {
    let mut request = Request::new();
    request.server = Principal::new("EXAMPLE.COM", &["cifs", "other.example.com"], name_type::SRV_HST);
    let refused = request.refused();
    assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_NOT_US);
    assert_eq!(refused.reply, None);
    assert_eq!(refused.status, NtStatus::LOGON_FAILURE);

    let empty = Keytab { entries: Vec::new(), ..keytab() };
    assert_eq!(accept_at(&Request::new().token(), &empty, T).unwrap_err().code, ErrorCode::KRB_AP_ERR_NOKEY);
}

#[test]
fn a_kvno_or_enctype_the_keytab_does_not_hold_is_a_bad_key_version() {
    let mut request = Request::new();
    request.kvno = Some(9);
    assert_eq!(request.refused().code, ErrorCode::KRB_AP_ERR_BADKEYVER);

    let only_aes128 = Keytab {
        entries: keytab()
            .entries
            .into_iter()
            .filter(|entry| entry.key.enctype() == Enctype::Aes128CtsHmacSha1)
            .collect(),
        ..keytab()
    };
    let refused = accept_at(&Request::new().token(), &only_aes128, T).unwrap_err();
    assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_BADKEYVER);
    assert_eq!(refused.status, NtStatus::LOGON_FAILURE);
}

#[test]
fn a_keytab_with_the_wrong_key_fails_the_integrity_check() {
    let mut wrong = keytab();
    for entry in &mut wrong.entries {
        entry.key = key(entry.key.enctype(), 0x77);
    }
    let file = "ap-req-aes256-cts-hmac-sha1-96.bin";
    let refused = accept_at(&fixture(file), &wrong, recorded_number(file, "authenticator_ctime")).unwrap_err();
    assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_BAD_INTEGRITY);
    assert_eq!(refused.reply, None);
    assert_eq!(refused.status, NtStatus::LOGON_FAILURE);
}

#[test]
fn an_authenticator_for_another_client_is_a_bad_match() {
    let mut request = Request::new();
    request.authenticator_client =
        PrincipalName { name_type: name_type::PRINCIPAL, components: vec!["mallory".into()] };
    let refused = request.refused();
    assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_BADMATCH);
    assert_eq!(refused.status, NtStatus::LOGON_FAILURE);
}

#[test]
fn an_authenticator_without_a_checksum_means_no_gss_flags_and_mutual_only_by_the_ap_options() {
    let mut request = Request::new();
    request.checksum = None;
    let accepted = request.accept().unwrap();
    assert_eq!(accepted.flags, 0);
    assert!(accepted.reply.is_some(), "mutual-required in the AP options still gets the AP-REP");

    request.ap_options = 0;
    let accepted = request.accept().unwrap();
    assert!(accepted.reply.is_none());
}

#[test]
fn an_authenticator_with_a_checksum_other_than_the_gss_one_or_a_malformed_one_is_refused() {
    let mut request = Request::new();
    request.checksum = Some(Checksum { cksumtype: 16, checksum: vec![0; 12] });
    assert_eq!(request.refused().code, ErrorCode::KRB_AP_ERR_INAPP_CKSUM);

    request.checksum = Some(Checksum { cksumtype: GSS_CHECKSUM_TYPE, checksum: vec![16, 0, 0, 0, 1] });
    let refused = request.refused();
    assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_INAPP_CKSUM);
    assert_eq!(refused.status, NtStatus::LOGON_FAILURE);
}

#[test]
fn without_mutual_authentication_there_is_no_reply_and_the_authenticator_subkey_is_the_key() {
    let mut request = Request::new();
    request.ap_options = 0;
    request.checksum = Some(Checksum {
        cksumtype: GSS_CHECKSUM_TYPE,
        checksum: GssChecksum { bindings: [0; 16], flags: gss_flags::INTEG, delegation: None, extensions: Vec::new() }
            .encode()
            .unwrap(),
    });
    let accepted = request.accept().unwrap();
    assert!(accepted.reply.is_none());
    assert_eq!(accepted.session_key.as_slice(), key(Enctype::Aes256CtsHmacSha1, 0x55).bytes());

    // No subkey at all: the ticket's session key.
    request.subkey = None;
    assert_eq!(request.accept().unwrap().session_key.as_slice(), Request::session_key().bytes());
}

#[test]
fn the_microsoft_oid_is_answered_with_the_microsoft_oid() {
    let mut request = Request::new();
    request.mech = Mech::MsKrb5;
    let accepted = request.accept().unwrap();
    assert_eq!(accepted.mech, Mech::MsKrb5);
    let reply = accepted.reply.unwrap();
    assert_eq!(GssToken::decode_expecting(&reply, tok_id::AP_REP).unwrap().mech, Mech::MsKrb5);
}

#[test]
fn a_token_that_is_not_a_framed_ap_req_is_refused_as_the_wrong_message_type() {
    let token = fixture("ap-rep-aes256-cts-hmac-sha1-96.bin");
    assert_eq!(accept_at(&token, &keytab(), T).unwrap_err().code, ErrorCode::KRB_AP_ERR_MSG_TYPE);
    assert_eq!(accept_at(b"NTLMSSP\0", &keytab(), T).unwrap_err().code, ErrorCode::KRB_AP_ERR_MSG_TYPE);
}

#[test]
fn every_truncation_of_a_token_is_refused_without_a_panic() {
    let token = fixture("ap-req-aes256-cts-hmac-sha1-96.bin");
    let ctime = recorded_number("ap-req-aes256-cts-hmac-sha1-96.bin", "authenticator_ctime");
    for length in 0..token.len() {
        let refused = accept_at(&token[..length], &keytab(), ctime).unwrap_err();
        assert_eq!(refused.status, NtStatus::LOGON_FAILURE, "{length}");
    }
}

#[test]
fn every_single_byte_change_of_a_token_is_refused_without_a_panic() {
    let token = fixture("ap-req-rc4-hmac.bin");
    let ctime = recorded_number("ap-req-rc4-hmac.bin", "authenticator_ctime");
    let keys = keytab();
    for index in 0..token.len() {
        let mut changed = token.clone();
        changed[index] ^= 0x01;
        // A flip in an unchecked spot (a name type, say) may still be accepted; none may panic.
        let _ = accept_at(&changed, &keys, ctime);
    }
}

#[test]
fn the_nt_status_of_a_refusal_is_time_difference_for_skew_and_logon_failure_otherwise() {
    assert_eq!(nt_status(ErrorCode::KRB_AP_ERR_SKEW), NtStatus::TIME_DIFFERENCE_AT_DC);
    for code in [
        ErrorCode::KRB_AP_ERR_TKT_EXPIRED,
        ErrorCode::KRB_AP_ERR_TKT_NYV,
        ErrorCode::KRB_AP_ERR_BAD_INTEGRITY,
        ErrorCode::KRB_AP_ERR_NOT_US,
        ErrorCode::KRB_AP_ERR_REPEAT,
        ErrorCode::KRB_ERR_GENERIC,
    ] {
        assert_eq!(nt_status(code), NtStatus::LOGON_FAILURE, "{code:?}");
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(accept_at(&bytes, &keytab(), T).is_err());
    }

    #[test]
    fn arbitrary_bytes_inside_a_kerberos_framing_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let token = wrap(Mech::Krb5, tok_id::AP_REQ, &bytes);
        prop_assert!(accept_at(&token, &keytab(), T).is_err());
    }
}

/// MIT's PAC of the aes256 fixture: signed with the keytab's kvno 1 aes256 key (the key
/// [`Request`] seals its ticket with), for alice at that fixture's authtime.
fn mit_pac() -> (Vec<u8>, i64) {
    let file = "ap-req-aes256-cts-hmac-sha1-96.bin";
    let accepted = accept_at(&fixture(file), &keytab(), recorded_number(file, "authenticator_ctime")).unwrap();
    (accepted.pac_bytes.unwrap(), recorded_number(file, "authtime"))
}

#[test]
fn a_ticket_with_a_pac_signed_by_the_service_key_is_accepted_with_its_identity() {
    let (pac, authtime) = mit_pac();
    let request = Request { pac: Some(pac.clone()), starttime: authtime, ..Request::new() };
    let accepted = request.accept().unwrap();
    assert_eq!(accepted.pac_bytes.as_deref(), Some(pac.as_slice()));
    assert_eq!(accepted.pac.unwrap().client_info.name, "alice");
}

#[test]
fn a_ticket_whose_pac_server_signature_fails_is_refused_as_modified() {
    let (mut pac, authtime) = mit_pac();
    let parsed = crate::auth::kerberos::pac::PacType::decode(&pac).unwrap();
    let (info, _) = parsed.buffer(crate::auth::kerberos::pac::buffer_type::SERVER_CHECKSUM).unwrap();
    pac[info.offset + 4] ^= 1;
    let refused = Request { pac: Some(pac), starttime: authtime, ..Request::new() }.refused();
    assert_eq!(refused.code, ErrorCode::KRB_AP_ERR_MODIFIED);
    assert_eq!(refused.reason, "PAC signature");
    assert_eq!(refused.status, NtStatus::LOGON_FAILURE);
    assert_eq!(refused.reply, None);
}

#[test]
fn a_ticket_whose_pac_names_another_authtime_is_refused_as_modified() {
    let (pac, authtime) = mit_pac();
    let refused = Request { pac: Some(pac), starttime: authtime - 60, ..Request::new() }.refused();
    assert_eq!((refused.code, refused.reason), (ErrorCode::KRB_AP_ERR_MODIFIED, "PAC client info"));
}

#[test]
fn a_ticket_with_a_malformed_pac_is_refused_as_modified() {
    let (pac, authtime) = mit_pac();
    let refused = Request { pac: Some(pac[..40].to_vec()), starttime: authtime, ..Request::new() }.refused();
    assert_eq!((refused.code, refused.reason), (ErrorCode::KRB_AP_ERR_MODIFIED, "malformed PAC"));
}

/// Our TGT for cifs/fs.example.com, with session key `byte`s.
fn tgt(byte: u8) -> ServiceTicket {
    ServiceTicket {
        principal: cifs(),
        ticket: vec![0x61, 0x03, 0x02, 0x01, byte],
        session_key: key(Enctype::Aes256CtsHmacSha1, byte),
        authtime: T - 600,
        endtime: T + 36_000,
    }
}

/// A user-to-user AP-REQ: the ticket under our TGT's session key (`byte`s), USE_SESSION_KEY set.
fn user_to_user(byte: u8) -> Request {
    let mut request = Request::new();
    request.service_key = key(Enctype::Aes256CtsHmacSha1, byte);
    request.kvno = None;
    request.ap_options |= ap_options::USE_SESSION_KEY;
    request.mech = Mech::Krb5U2u;
    request
}

fn accept_with_tgts(request: &Request, tgts: &[ServiceTicket]) -> Result<Accepted, Rejected> {
    accept(&request.token(), &keytab(), tgts, &Policy::default(), &mut ReplayCache::default(), at(T), &mut counter())
}

#[test]
fn a_user_to_user_ticket_decrypts_with_the_session_key_of_our_tgt_even_its_predecessors() {
    let request = user_to_user(0x71);
    for tgts in [vec![tgt(0x71)], vec![tgt(0x72), tgt(0x71)]] {
        let accepted = accept_with_tgts(&request, &tgts).unwrap();
        assert_eq!(accepted.client.to_string(), "alice@EXAMPLE.COM");
        assert_eq!(accepted.mech, Mech::Krb5U2u);
        assert!(accepted.reply.is_some(), "mutual authentication");
    }
}

#[test]
fn in_user_to_user_the_acceptor_subkey_is_the_tickets_session_key_so_early_keyed_clients_agree() {
    let accepted = accept_with_tgts(&user_to_user(0x71), &[tgt(0x71)]).unwrap();
    assert_eq!(*accepted.session_key, Request::session_key().bytes());
    assert!(accepted.acceptor_subkey);
    let reply = accepted.reply.unwrap();
    let framed = GssToken::decode(&reply).unwrap();
    assert_eq!((framed.mech, framed.tok_id), (Mech::Krb5U2u, tok_id::AP_REP));
    let part = ApRep::decode(framed.inner).unwrap().decrypt(&Request::session_key()).unwrap();
    assert_eq!(part.subkey.unwrap().keyvalue.as_slice(), Request::session_key().bytes());
    // An ordinary AP-REQ still gets a fresh subkey.
    let ordinary = Request::new().accept().unwrap();
    assert_ne!(*ordinary.session_key, Request::session_key().bytes());
}

#[test]
fn a_user_to_user_ticket_without_our_tgt_or_under_another_key_is_refused() {
    let request = user_to_user(0x71);
    assert_eq!(accept_with_tgts(&request, &[]).unwrap_err().code, ErrorCode::KRB_AP_ERR_NOKEY);
    assert_eq!(accept_with_tgts(&request, &[tgt(0x72)]).unwrap_err().code, ErrorCode::KRB_AP_ERR_BAD_INTEGRITY);
    let mut elsewhere = tgt(0x71);
    elsewhere.principal = Principal::new("EXAMPLE.COM", &["cifs", "other"], name_type::SRV_HST);
    assert_eq!(accept_with_tgts(&request, &[elsewhere]).unwrap_err().code, ErrorCode::KRB_AP_ERR_NOKEY);
    // And a user-to-user ticket is never tried with the keytab's keys.
    let mut keytab_key = Request::new();
    keytab_key.ap_options |= ap_options::USE_SESSION_KEY;
    assert_eq!(accept_with_tgts(&keytab_key, &[tgt(0x71)]).unwrap_err().code, ErrorCode::KRB_AP_ERR_BAD_INTEGRITY);
}

fn tgt_request(name: Option<&[&str]>, realm: Option<&str>) -> Vec<u8> {
    use crate::auth::kerberos::messages::kdc::TgtRequest;
    let request = TgtRequest {
        server_name: name.map(|components| PrincipalName {
            name_type: name_type::SRV_HST,
            components: components.iter().map(|c| (*c).to_owned()).collect(),
        }),
        realm: realm.map(str::to_owned),
    };
    wrap(Mech::Krb5U2u, tok_id::TGT_REQ, &request.encode())
}

#[test]
fn a_tgt_request_gets_our_tgt_for_the_name_it_asks_for_while_it_is_valid() {
    let margin = Duration::from_secs(300);
    let asked = tgt_request(Some(&["cifs", "fs.example.com"]), None);
    assert!(is_tgt_request(&asked));
    assert!(!is_tgt_request(&Request::new().token()));
    let reply = tgt_reply(&asked, &[tgt(0x71)], at(T), margin).unwrap();
    let framed = GssToken::decode(&reply).unwrap();
    assert_eq!((framed.mech, framed.tok_id), (Mech::Krb5U2u, tok_id::TGT_REP));
    assert!(framed.inner.windows(5).any(|w| w == [0x61, 0x03, 0x02, 0x01, 0x71]), "the TGT as issued");
    assert!(tgt_reply(&tgt_request(None, Some("example.com")), &[tgt(0x71)], at(T), margin).is_some());
    assert!(tgt_reply(&tgt_request(Some(&["cifs", "other"]), None), &[tgt(0x71)], at(T), margin).is_none());
    assert!(tgt_reply(&tgt_request(None, Some("OTHER.COM")), &[tgt(0x71)], at(T), margin).is_none());
    assert!(tgt_reply(&asked, &[], at(T), margin).is_none());
    assert!(tgt_reply(&asked, &[tgt(0x71)], at(T + 36_000 - 60), margin).is_none(), "ends within the margin");
    assert!(tgt_reply(&asked[..asked.len() - 1], &[tgt(0x71)], at(T), margin).is_none(), "truncated");
}

/// The SPNEGO exchange of a user-to-user client as sspi-rs makes it: a NegTokenInit whose
/// optimistic token is a TGT request, then the AP-REQ for a ticket under our TGT's key.
#[test]
fn over_spnego_a_user_to_user_client_gets_our_tgt_then_completes_with_the_ap_rep_and_our_mic() {
    use crate::auth::kerberos::messages::gss::{OID_KRB5, OID_MS_KRB5};
    use crate::auth::kerberos::mic;
    use crate::auth::spnego::{self, NegState, OID_NTLMSSP};
    use crate::auth::{self, Client, ServerIdentity, Step, UserLookup};

    struct NoUsers;
    impl UserLookup for NoUsers {
        fn nt_hash(&self, _: &str) -> Option<[u8; 16]> {
            None
        }
    }
    let identity = ServerIdentity {
        computer: "FS".into(),
        domain: "EXAMPLE".into(),
        dns_computer: "fs.example.com".into(),
        dns_domain: "example.com".into(),
    };
    let keys = keytab();
    let tgts = [tgt(0x71)];
    let replay = std::sync::Mutex::default();
    let mut acceptor = auth::Acceptor::default();
    let step = |acceptor: &mut auth::Acceptor, token: &[u8]| {
        let mut random = counter();
        let mut inputs = auth::Inputs {
            identity: &identity,
            users: &NoUsers,
            now: at(T),
            server_challenge: [0; 8],
            ntlm: true,
            kerberos: Some(auth::KerberosInputs {
                keytab: &keys,
                tgts: &tgts,
                policy: Policy::default(),
                replay: &replay,
            }),
            random: &mut random,
        };
        acceptor.step(token, &mut inputs)
    };
    let mechs = [OID_MS_KRB5, OID_KRB5, OID_NTLMSSP];
    let init = spnego::encode_init(&mechs, &tgt_request(Some(&["cifs", "fs.example.com"]), None));
    let Step::Continue(first) = step(&mut acceptor, &init) else { panic!("the TGT request should continue") };
    let first = spnego::parse_server_token(&first).unwrap();
    assert_eq!(first.neg_state, Some(NegState::AcceptIncomplete));
    assert_eq!(first.supported_mech.as_deref(), Some(OID_MS_KRB5));
    let tgt_rep = GssToken::decode(first.response_token.as_deref().unwrap()).unwrap();
    assert_eq!(tgt_rep.tok_id, tok_id::TGT_REP);

    let ap_req = spnego::encode_client_resp(&user_to_user(0x71).token(), None);
    let Step::Done(done) = step(&mut acceptor, &ap_req) else { panic!("the AP-REQ should complete the logon") };
    let Client::Kerberos(accepted) = &done.client else { panic!("not a Kerberos logon") };
    assert_eq!(accepted.client.to_string(), "alice@EXAMPLE.COM");
    assert_eq!(*done.session_key, Request::session_key().bytes());
    let last = spnego::parse_server_token(&done.response_token).unwrap();
    assert_eq!(last.neg_state, Some(NegState::AcceptCompleted), "no wait for a client MIC");
    assert_eq!(last.response_token, accepted.reply);
    let expected = mic::acceptor_mic(
        &Request::session_key(),
        true,
        u64::from(accepted.seq_number),
        &spnego::mech_types_der(&mechs),
    )
    .unwrap();
    assert_eq!(last.mech_list_mic, Some(expected), "our MIC of the client's mechanism list");

    // Without a TGT for the name, the reply names the mechanism and carries no token.
    let mut acceptor = auth::Acceptor::default();
    let other = spnego::encode_init(&mechs, &tgt_request(Some(&["cifs", "other"]), None));
    let Step::Continue(reply) = step(&mut acceptor, &other) else { panic!("should continue") };
    assert_eq!(spnego::parse_server_token(&reply).unwrap().response_token, None);
}
