//! The messages against tokens MIT Kerberos 1.20 made (tests/data/kerberos/README.txt says how;
//! every expected value is read from it, since regenerating the fixtures changes them), then
//! round trips of our encoders and every refusal.

use std::collections::HashMap;
use std::path::PathBuf;

use proptest::prelude::*;

use super::error::{ErrorCode, KrbError};
use super::gss::{OID_KRB5, OID_MS_KRB5, gss_flags, wrap};
use super::time::KERBEROS_TIME_RANGE;
use super::*;
use crate::auth::kerberos::keytab::Keytab;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/kerberos")
}

pub(super) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// The `<file> <key> = <value>` lines of README.txt.
struct Recorded(HashMap<(String, String), String>);

impl Recorded {
    fn load() -> Recorded {
        let text = std::fs::read_to_string(data_dir().join("README.txt")).unwrap();
        let mut values = HashMap::new();
        for line in text.lines().filter(|line| !line.starts_with('#')) {
            let Some((left, value)) = line.split_once(" = ") else { continue };
            let Some((file, key)) = left.split_once(' ') else { continue };
            values.insert((file.to_owned(), key.to_owned()), value.trim().to_owned());
        }
        Recorded(values)
    }

    fn get(&self, file: &str, key: &str) -> Option<&str> {
        self.0.get(&(file.to_owned(), key.to_owned())).map(String::as_str)
    }

    fn text(&self, file: &str, key: &str) -> &str {
        self.get(file, key).unwrap_or_else(|| panic!("README.txt records no {file} {key}"))
    }

    /// A number: the first word, decimal or 0x-prefixed hex ("1796616255 (2026-...)" -> 1796616255).
    fn number(&self, file: &str, key: &str) -> i64 {
        let word = self.text(file, key).split_whitespace().next().unwrap();
        match word.strip_prefix("0x") {
            Some(hex) => i64::from_str_radix(hex, 16).unwrap(),
            None => word.parse().unwrap_or_else(|_| panic!("{file} {key} = {word} is not a number")),
        }
    }

    fn optional_number(&self, file: &str, key: &str) -> Option<i64> {
        self.get(file, key).filter(|value| *value != "none").map(|_| self.number(file, key))
    }

    fn hex(&self, file: &str, key: &str) -> Vec<u8> {
        hex::decode(self.text(file, key)).unwrap_or_else(|_| panic!("{file} {key} is not hex"))
    }
}

/// The fixture files whose names start with `prefix`, sorted.
fn fixtures(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".bin"))
        .collect();
    names.sort();
    names
}

pub(super) fn service_keytab() -> Keytab {
    Keytab::parse(&fixture("service.keytab")).unwrap()
}

/// An AP-REQ fixture decoded, its ticket decrypted with the keytab.
pub(super) fn open_ticket(name: &str) -> (ApReq, EncTicketPart) {
    let (mech, ap_req) = ApReq::decode_gss(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(mech, Mech::Krb5, "{name}");
    let enctype = ap_req.ticket.enc_part.enctype().unwrap();
    let keytab = service_keytab();
    let entry = keytab
        .find(&ap_req.ticket.server(), enctype, ap_req.ticket.enc_part.kvno)
        .unwrap_or_else(|| panic!("{name}: no keytab key for {} {enctype}", ap_req.ticket.server()));
    let ticket = ap_req.ticket.decrypt(&entry.key).unwrap_or_else(|error| panic!("{name}: {error}"));
    (ap_req, ticket)
}

pub(super) fn ap_req_fixtures() -> Vec<String> {
    let names = fixtures("ap-req-");
    assert!(names.len() >= 6, "the AP-REQ fixtures are missing: {names:?}");
    names
}

#[test]
fn an_mit_ap_req_decrypts_with_the_keytab_to_alices_ticket_and_the_recorded_session_key() {
    let recorded = Recorded::load();
    for name in ap_req_fixtures() {
        let (ap_req, ticket) = open_ticket(&name);
        let file = name.as_str();
        assert_eq!(i64::from(ap_req.ap_options), recorded.number(file, "ap_options"), "{name}");
        assert_eq!(ap_req.ticket.server().to_string(), recorded.text(file, "service_principal"), "{name}");
        assert_eq!(ap_req.ticket.realm, recorded.text(file, "ticket_realm"), "{name}");
        assert_eq!(i64::from(ap_req.ticket.enc_part.etype), recorded.number(file, "ticket_enctype"), "{name}");
        assert_eq!(ap_req.ticket.enc_part.kvno.map(i64::from), Some(recorded.number(file, "ticket_kvno")), "{name}");

        assert_eq!(ticket.client().to_string(), "alice@EXAMPLE.COM", "{name}");
        assert_eq!(ticket.client().to_string(), recorded.text(file, "client_principal"), "{name}");
        assert_eq!(i64::from(ticket.flags), recorded.number(file, "ticket_flags"), "{name}");
        assert_eq!(i64::from(ticket.key.keytype), recorded.number(file, "session_key_enctype"), "{name}");
        assert_eq!(ticket.key.keyvalue.as_slice(), recorded.hex(file, "session_key"), "{name}");
        assert_eq!(ticket.authtime, recorded.number(file, "authtime"), "{name}");
        // MIT leaves starttime out when it equals authtime; its ccache records the effective one.
        assert_eq!(ticket.valid_from(), recorded.number(file, "starttime"), "{name}");
        assert_eq!(ticket.endtime, recorded.number(file, "endtime"), "{name}");
        assert_eq!(ticket.renew_till, recorded.optional_number(file, "renew_till"), "{name}");

        // "1(128)": one top-level entry, AD-IF-RELEVANT, wrapping the PAC.
        let top_level: Vec<i32> = ticket.authorization_data.iter().flatten().map(|entry| entry.ad_type).collect();
        assert_eq!(top_level, [ad_type::IF_RELEVANT], "{name}");
        assert_eq!(recorded.text(file, "ticket_authorization_data"), "1(128)", "{name}");
        let pac = ticket.pac().unwrap().unwrap_or_else(|| panic!("{name}: no PAC"));
        if let Some(size) = recorded.optional_number(file, "ticket_pac_bytes") {
            assert_eq!(pac.len() as i64, size, "{name}");
        }
        // MS-PAC 2.3 PACTYPE: cBuffers (u32 LE), Version 0.
        assert_eq!(&pac[4..8], &[0, 0, 0, 0], "{name}: PAC version");
    }
}

#[test]
fn an_mit_authenticator_decrypts_with_the_session_key_to_the_recorded_subkey_checksum_flags_and_time() {
    let recorded = Recorded::load();
    for name in ap_req_fixtures() {
        let (ap_req, ticket) = open_ticket(&name);
        let file = name.as_str();
        let authenticator = ap_req.decrypt_authenticator(&ticket.key.key().unwrap()).unwrap();
        assert_eq!(i64::from(ap_req.authenticator.etype), recorded.number(file, "authenticator_enctype"), "{name}");
        assert_eq!(ap_req.authenticator.kvno.map(i64::from), recorded.optional_number(file, "authenticator_kvno"));
        assert_eq!(authenticator.client().to_string(), recorded.text(file, "authenticator_cname"), "{name}");
        assert_eq!(authenticator.ctime, recorded.number(file, "authenticator_ctime"), "{name}");
        assert_eq!(i64::from(authenticator.cusec), recorded.number(file, "authenticator_cusec"), "{name}");
        assert_eq!(
            authenticator.seq_number.map(i64::from),
            recorded.optional_number(file, "authenticator_seq_number"),
            "{name}"
        );
        assert_eq!(recorded.text(file, "authenticator_authorization_data"), "none");
        assert_eq!(authenticator.authorization_data, None, "{name}");

        let subkey = authenticator.subkey.as_ref().unwrap();
        assert_eq!(i64::from(subkey.keytype), recorded.number(file, "subkey_enctype"), "{name}");
        assert_eq!(subkey.keyvalue.as_slice(), recorded.hex(file, "subkey"), "{name}");

        let cksum = authenticator.cksum.as_ref().unwrap();
        assert_eq!(i64::from(cksum.cksumtype), recorded.number(file, "checksum_type"), "{name}");
        assert_eq!(cksum.checksum.len() as i64, recorded.number(file, "checksum_length"), "{name}");
        let checksum = authenticator.gss_checksum().unwrap().unwrap();
        assert_eq!(checksum.bindings.as_slice(), recorded.hex(file, "checksum_bnd"), "{name}");
        assert_eq!(i64::from(checksum.flags), recorded.number(file, "checksum_flags"), "{name}");
        assert_eq!(checksum.delegation, None, "{name}");
        assert_eq!(checksum.encode().unwrap(), cksum.checksum, "{name}: the checksum re-encodes to its bytes");

        // Mutual authentication is asked for twice, in ap-options and the GSS flags, or not at all.
        let mutual = recorded.text(file, "mutual") == "yes";
        assert_eq!(ap_req.ap_options & ap_options::MUTUAL_REQUIRED != 0, mutual, "{name}");
        assert_eq!(checksum.flags & gss_flags::MUTUAL != 0, mutual, "{name}");
        // The tickets were valid when the authenticator was made.
        assert!(ticket.valid_from() <= authenticator.ctime && authenticator.ctime < ticket.endtime);
    }
}

#[test]
fn an_mit_ap_rep_decrypts_with_the_session_key_echoes_the_authenticator_and_carries_the_acceptor_subkey() {
    let recorded = Recorded::load();
    let replies = fixtures("ap-rep-");
    assert!(replies.len() >= 5, "the AP-REP fixtures are missing: {replies:?}");
    for name in replies {
        let file = name.as_str();
        let request = name.replace("ap-rep-", "ap-req-");
        assert_eq!(recorded.text(&request, "acceptor_reply_token"), name);
        let session_key = Key::new(
            Enctype::from_number(recorded.number(file, "enc_part_etype") as i32).unwrap(),
            &recorded.hex(&request, "session_key"),
        )
        .unwrap();

        let bytes = fixture(&name);
        let token = GssToken::decode_expecting(&bytes, tok_id::AP_REP).unwrap();
        assert_eq!(token.mech, Mech::Krb5);
        let ap_rep = ApRep::decode(token.inner).unwrap();
        assert_eq!(ap_rep.enc_part.kvno, None, "{name}");
        let part = ap_rep.decrypt(&session_key).unwrap();
        assert_eq!(part.ctime, recorded.number(file, "ctime"), "{name}");
        assert_eq!(part.ctime, recorded.number(&request, "authenticator_ctime"), "{name}");
        assert_eq!(i64::from(part.cusec), recorded.number(file, "cusec"), "{name}");
        assert_eq!(i64::from(part.cusec), recorded.number(&request, "authenticator_cusec"), "{name}");
        assert_eq!(part.seq_number.map(i64::from), recorded.optional_number(file, "seq_number"), "{name}");
        let subkey = part.subkey.as_ref().unwrap();
        assert_eq!(i64::from(subkey.keytype), recorded.number(file, "subkey_etype"), "{name}");
        assert_eq!(subkey.keyvalue.as_slice(), recorded.hex(file, "subkey"), "{name}");
        match recorded.text(&request, "acceptor_subkey") {
            "none" => assert_eq!(subkey.keyvalue.as_slice(), recorded.hex(&request, "subkey"), "{name}"),
            _ => assert_eq!(subkey.keyvalue.as_slice(), recorded.hex(&request, "acceptor_subkey"), "{name}"),
        }

        // Our encoders write MIT's bytes back exactly: the same DER, the same framing.
        let plaintext = ap_rep.enc_part.decrypt(&session_key, key_usage::AP_REP_ENC_PART, "test").unwrap();
        assert_eq!(part.encode().unwrap(), plaintext.as_slice(), "{name}: EncAPRepPart");
        assert_eq!(wrap(Mech::Krb5, tok_id::AP_REP, &ap_rep.encode().unwrap()), bytes, "{name}: AP-REP token");
    }
}

#[test]
fn our_ap_rep_round_trips_through_our_decoder() {
    for enctype in Enctype::ALL {
        let session_key = Key::new(enctype, &vec![0x5A; enctype.key_len()]).unwrap();
        let subkey = Key::new(enctype, &vec![0xA5; enctype.key_len()]).unwrap();
        let part = EncApRepPart {
            ctime: 1_796_616_256,
            cusec: 999_999,
            subkey: Some(EncryptionKey::from_key(&subkey)),
            seq_number: Some(u32::MAX),
        };
        let token = wrap(
            Mech::MsKrb5,
            tok_id::AP_REP,
            &part.seal(&session_key, &[7; CONFOUNDER_LEN]).unwrap().encode().unwrap(),
        );
        let unwrapped = GssToken::decode_expecting(&token, tok_id::AP_REP).unwrap();
        assert_eq!(unwrapped.mech, Mech::MsKrb5);
        let ap_rep = ApRep::decode(unwrapped.inner).unwrap();
        assert_eq!(ap_rep.enc_part.etype, enctype.number());
        assert_eq!(ap_rep.decrypt(&session_key).unwrap(), part, "{enctype}");

        let bare = EncApRepPart { subkey: None, seq_number: None, ..part };
        assert_eq!(EncApRepPart::decode(&bare.encode().unwrap()).unwrap(), bare);
    }
}

#[test]
fn a_krb_error_for_clock_skew_round_trips_and_names_the_server() {
    let server = Principal::new("EXAMPLE.COM", &["cifs", "fs.example.com"], 1);
    let mut error = KrbError::new(ErrorCode::KRB_AP_ERR_SKEW, 1_796_616_256, 123_456, &server);
    let bytes = error.encode().unwrap();
    assert_eq!(bytes[0], 0x7E, "[APPLICATION 30]");
    assert_eq!(KrbError::decode(&bytes).unwrap(), error);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("20261207040416Z") && text.contains("fs.example.com"), "{bytes:02x?}");

    error.ctime = Some(0);
    error.cusec = Some(1);
    error.crealm = Some("EXAMPLE.COM".into());
    error.cname = Some(PrincipalName { name_type: 1, components: vec!["alice".into()] });
    error.e_text = Some("clock skew too great".into());
    error.e_data = Some(vec![1, 2, 3]);
    let token = wrap(Mech::Krb5, tok_id::KRB_ERROR, &error.encode().unwrap());
    let unwrapped = GssToken::decode_expecting(&token, tok_id::KRB_ERROR).unwrap();
    assert_eq!(KrbError::decode(unwrapped.inner).unwrap(), error);
    assert_eq!(format!("{:?}", error.error_code), "KRB_AP_ERR_SKEW (37)");
}

#[test]
fn kerberos_times_convert_to_unix_seconds_and_back() {
    for (text, unix) in [
        (&b"19700101000000Z"[..], 0),
        (b"19691231235959Z", -1),
        (b"20000229120000Z", 951_825_600),
        (b"20261207040415Z", 1_796_616_255),
        (b"20380119031408Z", 2_147_483_648),
        (b"99991231235959Z", 253_402_300_799),
        (b"00000101000000Z", -62_167_219_200),
    ] {
        assert_eq!(decode_kerberos_time(text).unwrap(), unix, "{}", String::from_utf8_lossy(text));
        assert_eq!(encode_kerberos_time(unix), text);
    }
    assert_eq!(&encode_kerberos_time(i64::MAX), b"99991231235959Z");
    assert_eq!(&encode_kerberos_time(i64::MIN), b"00000101000000Z");
}

#[test]
fn malformed_kerberos_times_are_refused() {
    for text in [
        &b""[..],
        b"Z",
        b"20261207040415",
        b"2026120704041Z",
        b"202612070404150Z",
        b"20261207040415.5Z",
        b"20261207040415+0000",
        b"2026120704041aZ",
        b"2026-12-07T04:0Z",
        b"20261307040415Z",
        b"20260007040415Z",
        b"20261200040415Z",
        b"20261232040415Z",
        b"20230229000000Z",
        b"19000229000000Z",
        b"20260431000000Z",
        b"20261207240000Z",
        b"20261207236000Z",
        b"20261207235960Z",
        b" 0261207040415Z",
        b"+0261207040415Z",
    ] {
        assert!(decode_kerberos_time(text).is_err(), "{}", String::from_utf8_lossy(text));
    }
}

#[test]
fn a_truncated_token_is_refused_at_every_length() {
    for name in fixtures("ap-re") {
        let bytes = fixture(&name);
        for length in 0..bytes.len() {
            assert!(GssToken::decode(&bytes[..length]).is_err(), "{name} cut to {length}");
            assert!(ApReq::decode_gss(&bytes[..length]).is_err(), "{name} cut to {length}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(GssToken::decode(&longer).is_err(), "{name} with a trailing byte");
        // The inner message alone, cut short.
        let inner = GssToken::decode(&bytes).unwrap().inner.to_vec();
        for length in 0..inner.len() {
            assert!(ApReq::decode(&inner[..length]).is_err() && ApRep::decode(&inner[..length]).is_err());
        }
    }
}

fn first_ap_req() -> Vec<u8> {
    fixture(&ap_req_fixtures()[0])
}

fn replace_once(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    let at = bytes.windows(from.len()).position(|window| window == from).expect("pattern present");
    bytes[at..at + to.len()].copy_from_slice(to);
}

#[test]
fn a_token_with_another_mechanism_or_tok_id_is_refused_and_the_microsoft_oid_accepted() {
    let bytes = first_ap_req();
    let mut microsoft = bytes.clone();
    replace_once(&mut microsoft, OID_KRB5, OID_MS_KRB5);
    let (mech, ap_req) = ApReq::decode_gss(&microsoft).unwrap();
    assert_eq!((mech, ap_req), (Mech::MsKrb5, ApReq::decode_gss(&bytes).unwrap().1));

    let mut spnego = bytes.clone();
    // 1.2.840.113554.1.2.3 (krb5 user-to-user).
    replace_once(&mut spnego, OID_KRB5, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x03]);
    assert!(ApReq::decode_gss(&spnego).is_err());

    let mut tok_id = bytes.clone();
    replace_once(&mut tok_id, &[0x02, 0x01, 0x00, 0x6e], &[0x02, 0x02, 0x00]);
    assert!(ApReq::decode_gss(&tok_id).is_err());
    assert!(GssToken::decode(&tok_id).is_ok());
    assert!(ApReq::decode_gss(&fixture(&fixtures("ap-rep-")[0])).is_err(), "an AP-REP is not an AP-REQ");
}

#[test]
fn a_wrong_msg_type_or_protocol_version_is_refused() {
    let bytes = first_ap_req();
    // pvno [0] INTEGER 5, msg-type [1] INTEGER 14, at the start of the AP-REQ's SEQUENCE.
    let mut wrong_type = bytes.clone();
    replace_once(&mut wrong_type, &[0xa1, 0x03, 0x02, 0x01, 0x0e], &[0xa1, 0x03, 0x02, 0x01, 0x0f]);
    let error = ApReq::decode_gss(&wrong_type).unwrap_err();
    assert!(error.to_string().contains("msg-type"), "{error}");

    let mut wrong_version = bytes.clone();
    replace_once(&mut wrong_version, &[0xa0, 0x03, 0x02, 0x01, 0x05], &[0xa0, 0x03, 0x02, 0x01, 0x04]);
    let error = ApReq::decode_gss(&wrong_version).unwrap_err();
    assert!(error.to_string().contains("pvno"), "{error}");

    // A context tag out of order ([1] where [0] belongs) is refused, not skipped.
    let mut reordered = bytes.clone();
    replace_once(&mut reordered, &[0xa0, 0x03, 0x02, 0x01, 0x05], &[0xa5]);
    assert!(ApReq::decode_gss(&reordered).is_err());
}

#[test]
fn a_flipped_bit_in_the_ticket_cipher_fails_the_integrity_check() {
    for name in ap_req_fixtures() {
        let (ap_req, _) = open_ticket(&name);
        let key = service_keytab()
            .find(&ap_req.ticket.server(), ap_req.ticket.enc_part.enctype().unwrap(), ap_req.ticket.enc_part.kvno)
            .unwrap()
            .key
            .clone();
        for position in [0, ap_req.ticket.enc_part.cipher.len() / 2, ap_req.ticket.enc_part.cipher.len() - 1] {
            let mut ticket = ap_req.ticket.clone();
            ticket.enc_part.cipher[position] ^= 0x01;
            assert_eq!(ticket.decrypt(&key), Err(MessageError::Crypto(CryptoError::Integrity)), "{name} at {position}");
        }
        // The authenticator under the wrong key (the service key is not the session key).
        let error = ap_req.decrypt_authenticator(&key).unwrap_err();
        assert_eq!(error, MessageError::Crypto(CryptoError::Integrity), "{name}");
    }
}

#[test]
fn a_key_of_another_enctype_is_refused_before_decrypting() {
    let bytes = first_ap_req();
    let (_, ap_req) = ApReq::decode_gss(&bytes).unwrap();
    let other = Enctype::ALL.into_iter().find(|enctype| Some(*enctype) != ap_req.ticket.enc_part.enctype()).unwrap();
    let key = Key::new(other, &vec![0; other.key_len()]).unwrap();
    assert!(matches!(ap_req.ticket.decrypt(&key), Err(MessageError::Enctype { .. })));
}

#[test]
fn a_gss_checksum_carries_delegated_credentials_and_refuses_bad_lengths() {
    let checksum = GssChecksum {
        bindings: [0xBB; 16],
        flags: gss_flags::DELEG | gss_flags::MUTUAL,
        delegation: Some(vec![0x76, 0x00]),
        extensions: vec![0, 0, 0, 2, 0, 0, 0, 0],
    };
    let bytes = checksum.encode().unwrap();
    assert_eq!(GssChecksum::decode(&bytes).unwrap(), checksum);
    for length in 0..bytes.len() - checksum.extensions.len() {
        // Cut inside Lgth, Bnd, Flags, DlgOpt, Dlgth or Deleg; only a cut right after Flags parses.
        if length != 24 {
            assert!(GssChecksum::decode(&bytes[..length]).is_err(), "cut to {length}");
        }
    }
    let mut wrong_length = bytes.clone();
    wrong_length[0] = 15;
    assert!(GssChecksum::decode(&wrong_length).is_err());
    let mut wrong_option = bytes.clone();
    wrong_option[24] = 2;
    assert!(GssChecksum::decode(&wrong_option).is_err());
}

#[test]
fn a_second_pac_is_refused() {
    let pac = |bytes: &[u8]| {
        let mut entry = field(0, &der::encode_integer(128));
        entry.extend(field(1, &der::encode(der::OCTET_STRING, bytes)));
        der::encode(der::SEQUENCE, &entry)
    };
    let one = der::encode(der::SEQUENCE, &pac(b"pac"));
    let two = der::encode(der::SEQUENCE, &[pac(b"pac"), pac(b"other")].concat());
    let entry = |ad_data: Vec<u8>| AuthorizationDataEntry { ad_type: ad_type::IF_RELEVANT, ad_data };
    assert_eq!(find_pac(&[entry(one.clone())]).unwrap(), Some(&b"pac"[..]));
    assert!(find_pac(&[entry(two)]).is_err());
    assert!(find_pac(&[entry(one.clone()), entry(one)]).is_err());
    assert_eq!(find_pac(&[]).unwrap(), None);
}

proptest! {
    #[test]
    fn random_bytes_never_panic_a_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = GssToken::decode(&bytes);
        let _ = ApReq::decode_gss(&bytes);
        let _ = ApReq::decode(&bytes);
        let _ = EncTicketPart::decode(&bytes);
        let _ = Authenticator::decode(&bytes);
        let _ = ApRep::decode(&bytes);
        let _ = EncApRepPart::decode(&bytes);
        let _ = KrbError::decode(&bytes);
        let _ = GssChecksum::decode(&bytes);
        let _ = decode_kerberos_time(&bytes);
    }

    #[test]
    fn a_corrupted_mit_token_is_decoded_or_refused_never_panicked_on(
        position in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut bytes = first_ap_req();
        let at = position.index(bytes.len());
        bytes[at] = value;
        if let Ok((_, ap_req)) = ApReq::decode_gss(&bytes) {
            let _ = ap_req.ticket.server().to_string();
        }
    }

    #[test]
    fn any_second_in_range_survives_a_kerberos_time_round_trip(unix in KERBEROS_TIME_RANGE.0..=KERBEROS_TIME_RANGE.1) {
        prop_assert_eq!(decode_kerberos_time(&encode_kerberos_time(unix)).unwrap(), unix);
    }
}
