//! The encoders of the messages a client sends (Ticket and EncTicketPart, Authenticator, AP-REQ):
//! they write MIT's bytes back exactly, what they build decodes to itself, and no field value
//! makes them panic.

use proptest::prelude::*;

use super::error::{ErrorCode, KrbError};
use super::gss::{GssChecksum, OID_KRB5, gss_flags};
use super::tests::{ap_req_fixtures, fixture, open_ticket, service_keytab};
use super::time::KERBEROS_TIME_RANGE;
use super::*;
use crate::auth::kerberos::keytab::name_type as keytab_name_type;

/// 2026-12-07T04:04:16Z, the fixtures' day.
const T: i64 = 1_796_616_256;

fn key(enctype: Enctype, byte: u8) -> Key {
    Key::new(enctype, &vec![byte; enctype.key_len()]).unwrap()
}

fn alice() -> PrincipalName {
    PrincipalName { name_type: keytab_name_type::PRINCIPAL, components: vec!["alice".into()] }
}

/// A ticket's contents with every optional field present, a PAC among them.
fn full_ticket_part(session_key: &Key) -> EncTicketPart {
    let pac = AuthorizationDataEntry { ad_type: ad_type::WIN2K_PAC, ad_data: b"pac".to_vec() };
    EncTicketPart {
        flags: ticket_flags::FORWARDABLE | ticket_flags::RENEWABLE | ticket_flags::INITIAL | ticket_flags::PRE_AUTHENT,
        key: EncryptionKey::from_key(session_key),
        crealm: "EXAMPLE.COM".into(),
        cname: alice(),
        transited: TransitedEncoding { tr_type: 1, contents: Vec::new() },
        authtime: T - 1,
        starttime: Some(T),
        endtime: T + 36_000,
        renew_till: Some(T + 7 * 86_400),
        caddr: Some(vec![HostAddress { addr_type: 2, address: vec![192, 0, 2, 1] }]),
        authorization_data: Some(vec![AuthorizationDataEntry {
            ad_type: ad_type::IF_RELEVANT,
            ad_data: encode_authorization_data(&[pac]),
        }]),
    }
}

/// An authenticator as a GSS-API initiator makes it, every optional field present.
fn full_authenticator(subkey: &Key) -> Authenticator {
    let checksum = GssChecksum {
        bindings: [0; 16],
        flags: gss_flags::MUTUAL | gss_flags::INTEG | gss_flags::CONF,
        delegation: None,
        extensions: Vec::new(),
    };
    Authenticator {
        crealm: "EXAMPLE.COM".into(),
        cname: alice(),
        cksum: Some(Checksum { cksumtype: GSS_CHECKSUM_TYPE, checksum: checksum.encode().unwrap() }),
        cusec: 999_999,
        ctime: T + 1,
        subkey: Some(EncryptionKey::from_key(subkey)),
        seq_number: Some(u32::MAX),
        authorization_data: Some(vec![AuthorizationDataEntry { ad_type: 141, ad_data: vec![1, 2, 3] }]),
    }
}

#[test]
fn mit_tickets_authenticators_and_ap_reqs_re_encode_to_their_exact_bytes() {
    for name in ap_req_fixtures() {
        let bytes = fixture(&name);
        let (mech, ap_req) = ApReq::decode_gss(&bytes).unwrap();
        assert_eq!(ap_req.encode_gss(mech).unwrap(), bytes, "{name}: AP-REQ token");

        let (_, ticket) = open_ticket(&name);
        let service_key = service_keytab()
            .find(&ap_req.ticket.server(), ap_req.ticket.enc_part.enctype().unwrap(), ap_req.ticket.enc_part.kvno)
            .unwrap()
            .key
            .clone();
        let plaintext = ap_req.ticket.enc_part.decrypt(&service_key, key_usage::TICKET, "test").unwrap();
        assert_eq!(ticket.encode().unwrap(), plaintext.as_slice(), "{name}: EncTicketPart");

        let session_key = ticket.key.key().unwrap();
        let plaintext = ap_req.authenticator.decrypt(&session_key, key_usage::AP_REQ_AUTHENTICATOR, "test").unwrap();
        let authenticator = Authenticator::decode(&plaintext).unwrap();
        assert_eq!(authenticator.encode().unwrap(), plaintext.as_slice(), "{name}: Authenticator");
    }
}

#[test]
fn a_synthetic_ap_req_sealed_with_the_keytab_key_round_trips_through_the_decoders() {
    let keytab = service_keytab();
    assert!(keytab.entries.len() >= 5, "one key per enctype");
    for entry in &keytab.entries {
        let enctype = entry.key.enctype();
        let (session_key, subkey) = (key(enctype, 0x5A), key(enctype, 0xA5));
        let part = full_ticket_part(&session_key);
        let authenticator = full_authenticator(&subkey);
        let ticket = Ticket::seal(&entry.principal, &part, &entry.key, Some(entry.kvno), &[1; CONFOUNDER_LEN]).unwrap();
        let ap_req = ApReq {
            ap_options: ap_options::MUTUAL_REQUIRED,
            ticket,
            authenticator: authenticator.seal(&session_key, &[2; CONFOUNDER_LEN]).unwrap(),
        };
        let token = ap_req.encode_gss(Mech::MsKrb5).unwrap();

        let (mech, decoded) = ApReq::decode_gss(&token).unwrap();
        assert_eq!((mech, &decoded), (Mech::MsKrb5, &ap_req), "{enctype}");
        let found = keytab.find(&decoded.ticket.server(), enctype, decoded.ticket.enc_part.kvno).unwrap();
        assert_eq!((found.kvno, &found.principal), (entry.kvno, &entry.principal), "{enctype}");
        let opened = decoded.ticket.decrypt(&found.key).unwrap();
        assert_eq!(opened, part, "{enctype}");
        assert_eq!(opened.pac().unwrap(), Some(&b"pac"[..]));
        let opened = decoded.decrypt_authenticator(&opened.key.key().unwrap()).unwrap();
        assert_eq!(opened, authenticator, "{enctype}");
        assert_eq!(opened.gss_checksum().unwrap().unwrap().flags & gss_flags::MUTUAL, gss_flags::MUTUAL);

        // Every optional field left out: each is omitted, not written empty.
        let bare_part =
            EncTicketPart { starttime: None, renew_till: None, caddr: None, authorization_data: None, ..part };
        let bare_authenticator =
            Authenticator { cksum: None, subkey: None, seq_number: None, authorization_data: None, ..authenticator };
        let bare = ApReq {
            ap_options: 0,
            ticket: Ticket::seal(&entry.principal, &bare_part, &entry.key, None, &[3; CONFOUNDER_LEN]).unwrap(),
            authenticator: bare_authenticator.seal(&session_key, &[4; CONFOUNDER_LEN]).unwrap(),
        };
        let decoded = ApReq::decode(&bare.encode().unwrap()).unwrap();
        assert_eq!(decoded.ticket.enc_part.kvno, None);
        assert_eq!(decoded.ticket.decrypt(&entry.key).unwrap(), bare_part, "{enctype}");
        assert_eq!(decoded.decrypt_authenticator(&session_key).unwrap(), bare_authenticator, "{enctype}");
    }
}

#[test]
fn requests_built_to_be_refused_decode_to_what_was_built() {
    let keytab = service_keytab();
    let entry = &keytab.entries[0];
    let enctype = entry.key.enctype();
    let session_key = key(enctype, 0x5A);
    // Another service's name, under the right key: the acceptor must compare sname, not trust the key.
    let other = Principal::new("EXAMPLE.COM", &["host", "fs.example.com"], keytab_name_type::SRV_HST);
    let expired = EncTicketPart { endtime: T - 1, ..full_ticket_part(&session_key) };
    let ticket = Ticket::seal(&other, &expired, &entry.key, Some(entry.kvno), &[1; CONFOUNDER_LEN]).unwrap();
    let authenticator = full_authenticator(&session_key).seal(&session_key, &[2; CONFOUNDER_LEN]).unwrap();
    let ap_req = ApReq { ap_options: 0, ticket, authenticator };
    let decoded = ApReq::decode(&ap_req.encode().unwrap()).unwrap();
    assert_eq!(decoded, ap_req);
    assert!(decoded.ticket.server().same_name(&other));
    assert_eq!(decoded.ticket.decrypt(&entry.key).unwrap().endtime, T - 1);

    // A ticket under another key of the same enctype fails the integrity check.
    let wrong =
        Ticket::seal(&entry.principal, &expired, &key(enctype, 0x11), Some(entry.kvno), &[1; CONFOUNDER_LEN]).unwrap();
    assert_eq!(wrong.decrypt(&entry.key), Err(MessageError::Crypto(CryptoError::Integrity)));
}

#[test]
fn encoders_refuse_microseconds_past_999_999_instead_of_panicking() {
    let session_key = key(Enctype::ALL[0], 0x5A);
    let authenticator = Authenticator { cusec: 1_000_000, ..full_authenticator(&session_key) };
    let expected = Err(EncodeError::Microseconds { what: "Authenticator cusec", value: 1_000_000 });
    assert_eq!(authenticator.encode(), expected);
    assert!(authenticator.seal(&session_key, &[0; CONFOUNDER_LEN]).is_err());

    let part = EncApRepPart { ctime: T, cusec: u32::MAX, subkey: None, seq_number: None };
    assert!(matches!(part.encode(), Err(EncodeError::Microseconds { .. })));
    assert!(part.seal(&session_key, &[0; CONFOUNDER_LEN]).is_err());

    let server = Principal::new("EXAMPLE.COM", &["cifs", "fs.example.com"], keytab_name_type::SRV_HST);
    let error = KrbError::new(ErrorCode::KRB_AP_ERR_SKEW, T, 1_000_000, &server);
    assert!(matches!(error.encode(), Err(EncodeError::Microseconds { what: "KRB-ERROR susec", .. })));
    let error = KrbError { cusec: Some(1_000_000), ..KrbError::new(ErrorCode::KRB_AP_ERR_SKEW, T, 0, &server) };
    assert!(matches!(error.encode(), Err(EncodeError::Microseconds { what: "KRB-ERROR cusec", .. })));
}

#[test]
fn encoders_refuse_what_the_length_fields_cannot_carry_instead_of_panicking_or_wrapping() {
    let checksum = GssChecksum {
        bindings: [0; 16],
        flags: gss_flags::DELEG,
        delegation: Some(vec![0; 65_536]),
        extensions: vec![],
    };
    assert!(matches!(checksum.encode(), Err(EncodeError::TooLong { what: "GSS checksum Deleg", .. })));
    let checksum = GssChecksum { delegation: Some(vec![0; 65_535]), ..checksum };
    assert_eq!(GssChecksum::decode(&checksum.encode().unwrap()).unwrap(), checksum);

    // An element past der.rs's three length bytes anywhere inside makes the message too long.
    let huge = AuthorizationDataEntry { ad_type: 1, ad_data: vec![0; MAX_DER_VALUE] };
    let authenticator =
        Authenticator { authorization_data: Some(vec![huge]), ..full_authenticator(&key(Enctype::ALL[0], 1)) };
    assert!(matches!(authenticator.encode(), Err(EncodeError::TooLong { what: "Authenticator", .. })));
    let ap_req = ApReq {
        ap_options: 0,
        ticket: Ticket {
            realm: "EXAMPLE.COM".into(),
            sname: alice(),
            enc_part: EncryptedData { etype: 18, kvno: None, cipher: vec![0; MAX_DER_VALUE] },
        },
        authenticator: EncryptedData { etype: 18, kvno: None, cipher: vec![0; 64] },
    };
    assert!(matches!(ap_req.ticket.encode(), Err(EncodeError::TooLong { what: "Ticket", .. })));
    assert!(matches!(ap_req.encode_gss(Mech::Krb5), Err(EncodeError::TooLong { what: "Ticket", .. })));
    let ap_rep = ApRep { enc_part: EncryptedData { etype: 18, kvno: None, cipher: vec![0; MAX_DER_VALUE] } };
    assert!(matches!(ap_rep.encode(), Err(EncodeError::TooLong { what: "AP-REP", .. })));

    // The GSS framing is checked too: an AP-REQ that fits alone but not with thisMech and TOK_ID
    // around it is refused, one byte less is framed.
    let with_cipher = |length: usize| {
        let mut ap_req = ap_req.clone();
        ap_req.ticket.enc_part.cipher = vec![0; length];
        ap_req
    };
    let probe = MAX_DER_VALUE - 1_000;
    let room = MAX_DER_VALUE - (2 + OID_KRB5.len() + 2) - with_cipher(probe).encode().unwrap().len();
    let fitting = with_cipher(probe + room);
    let token = fitting.encode_gss(Mech::Krb5).unwrap();
    assert_eq!(ApReq::decode_gss(&token).unwrap().1, fitting);
    let over = with_cipher(probe + room + 1);
    assert!(over.encode().is_ok());
    assert!(matches!(
        over.encode_gss(Mech::Krb5),
        Err(EncodeError::TooLong { what: "GSS-API InitialContextToken", .. })
    ));
}

#[test]
fn times_outside_kerberos_time_are_clamped_to_the_years_0000_and_9999() {
    let session_key = key(Enctype::ALL[0], 0x5A);
    let part = EncTicketPart { authtime: i64::MIN, endtime: i64::MAX, ..full_ticket_part(&session_key) };
    let decoded = EncTicketPart::decode(&part.encode().unwrap()).unwrap();
    assert_eq!((decoded.authtime, decoded.endtime), KERBEROS_TIME_RANGE);
}

fn principal_name() -> impl Strategy<Value = PrincipalName> {
    (any::<i32>(), proptest::collection::vec("\\PC{0,12}", 0..20))
        .prop_map(|(name_type, components)| PrincipalName { name_type, components })
}

fn typed_bytes() -> impl Strategy<Value = (i32, Vec<u8>)> {
    (any::<i32>(), proptest::collection::vec(any::<u8>(), 0..40))
}

fn authenticator() -> impl Strategy<Value = Authenticator> {
    (
        "\\PC{0,20}",
        principal_name(),
        proptest::option::of(typed_bytes()),
        prop_oneof![0..=999_999_u32, any::<u32>()],
        any::<i64>(),
        proptest::option::of(typed_bytes()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(proptest::collection::vec(typed_bytes(), 0..4)),
    )
        .prop_map(|(crealm, cname, cksum, cusec, ctime, subkey, seq_number, authorization_data)| Authenticator {
            crealm,
            cname,
            cksum: cksum.map(|(cksumtype, checksum)| Checksum { cksumtype, checksum }),
            cusec,
            ctime,
            subkey: subkey.map(|(keytype, bytes)| EncryptionKey { keytype, keyvalue: Zeroizing::new(bytes) }),
            seq_number,
            authorization_data: authorization_data.map(|entries| {
                entries.into_iter().map(|(ad_type, ad_data)| AuthorizationDataEntry { ad_type, ad_data }).collect()
            }),
        })
}

proptest! {
    #[test]
    fn a_corrupted_mit_ap_req_that_still_decodes_re_encodes_without_panicking(
        position in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut bytes = fixture(&ap_req_fixtures()[0]);
        let at = position.index(bytes.len());
        bytes[at] = value;
        if let Ok((mech, ap_req)) = ApReq::decode_gss(&bytes) {
            let token = ap_req.encode_gss(mech).unwrap();
            prop_assert_eq!(ApReq::decode_gss(&token).unwrap(), (mech, ap_req));
        }
    }

    #[test]
    fn any_authenticator_encodes_or_is_refused_without_panicking_and_valid_ones_round_trip(
        authenticator in authenticator(),
    ) {
        match authenticator.encode() {
            Err(error) => {
                prop_assert!(authenticator.cusec > 999_999);
                let refused = matches!(error, EncodeError::Microseconds { .. });
                prop_assert!(refused, "{error}");
            }
            Ok(bytes) => {
                prop_assert!(authenticator.cusec <= 999_999);
                let decoded = Authenticator::decode(&bytes);
                // The decoder refuses names of no components or more than MAX_COMPONENTS; the
                // encoder writes them, so that tests can send them.
                if (1..=MAX_COMPONENTS).contains(&authenticator.cname.components.len()) {
                    let ctime = authenticator.ctime.clamp(KERBEROS_TIME_RANGE.0, KERBEROS_TIME_RANGE.1);
                    prop_assert_eq!(decoded.unwrap(), Authenticator { ctime, ..authenticator });
                } else {
                    prop_assert!(decoded.is_err());
                }
            }
        }
    }
}
