//! The keytab parser against keytabs MIT's ktutil wrote (tests/data/mit-ktutil.keytab.txt says
//! how), then hand-built variants: holes, version 1, the 32-bit kvno, and every refusal.

use proptest::prelude::*;

use super::*;
use crate::auth::kerberos::crypto::string_to_key;

const MIT_KEYTAB: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mit-ktutil.keytab"));
const MIT_KVNO_300: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mit-ktutil-kvno-300.keytab"));

fn cifs() -> Principal {
    Principal::new("EXAMPLE.COM", &["cifs", "fs.example.com"], name_type::PRINCIPAL)
}

fn host() -> Principal {
    Principal::new("EXAMPLE.COM", &["host", "fs.example.com"], name_type::PRINCIPAL)
}

/// The fields of one version 2 entry: `count` components of `principal`, then `tail` (what
/// follows the keyblock).
fn entry(count: u16, principal: &[&[u8]], enctype: u16, key: &[u8], kvno8: u8, tail: &[u8]) -> Vec<u8> {
    let mut out = Writer::new();
    out.u16_be(count);
    for part in principal {
        out.u16_be(part.len() as u16).bytes(part);
    }
    out.u32_be(1).u32_be(0x6000_0000).u8(kvno8).u16_be(enctype).u16_be(key.len() as u16).bytes(key).bytes(tail);
    out.into_vec()
}

fn cifs_entry(enctype: u16, key: &[u8], kvno8: u8, tail: &[u8]) -> Vec<u8> {
    entry(2, &[b"EXAMPLE.COM", b"cifs", b"fs.example.com"], enctype, key, kvno8, tail)
}

/// A version 2 keytab of `records`, each a (signed size, bytes) pair.
fn keytab(records: &[(i32, &[u8])]) -> Vec<u8> {
    let mut out = vec![5, 2];
    for (size, bytes) in records {
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

fn sized(entry: &[u8]) -> (i32, &[u8]) {
    (entry.len() as i32, entry)
}

fn invalid_reason(bytes: &[u8]) -> String {
    match Keytab::parse(bytes).unwrap_err() {
        DecodeError::Invalid { what, reason } => format!("{what}: {reason}"),
        other => panic!("expected an invalid-field error, got {other:?}"),
    }
}

#[test]
fn an_mit_keytab_parses_into_its_entries_and_reports_the_camellia_one_as_skipped() {
    let keytab = Keytab::parse(MIT_KEYTAB).unwrap();
    assert_eq!(keytab.version, Version::V2);
    let summary: Vec<(String, u32, Enctype)> =
        keytab.entries.iter().map(|entry| (entry.principal.to_string(), entry.kvno, entry.key.enctype())).collect();
    let cifs = "cifs/fs.example.com@EXAMPLE.COM".to_owned();
    assert_eq!(
        summary,
        [
            (cifs.clone(), 3, Enctype::Aes256CtsHmacSha1),
            (cifs.clone(), 3, Enctype::Aes128CtsHmacSha1),
            (cifs.clone(), 3, Enctype::Aes256CtsHmacSha384),
            (cifs.clone(), 3, Enctype::Aes128CtsHmacSha256),
            (cifs.clone(), 3, Enctype::Rc4Hmac),
            (cifs.clone(), 4, Enctype::Aes256CtsHmacSha1),
            ("host/fs.example.com@EXAMPLE.COM".to_owned(), 2, Enctype::Aes256CtsHmacSha1),
        ]
    );
    assert!(keytab.entries.iter().all(|entry| entry.principal.name_type == name_type::PRINCIPAL));
    // camellia256-cts-cmac is enctype 26.
    assert_eq!(keytab.skipped, [SkippedEntry { principal: self::cifs(), kvno: 3, enctype: 26 }]);
}

#[test]
fn mit_keys_are_our_string_to_key_of_the_same_passwords() {
    // Proves string-to-key (all five enctypes, default salts and iteration counts) and the
    // parser against MIT at once.
    let keytab = Keytab::parse(MIT_KEYTAB).unwrap();
    for entry in &keytab.entries {
        let password = if entry.kvno == 4 { "N3w-Passw0rd" } else { "Passw0rd!EdgeShare" };
        let enctype = entry.key.enctype();
        let ours =
            string_to_key(enctype, password, &entry.principal.default_salt(), enctype.default_iterations()).unwrap();
        assert_eq!(ours.bytes(), entry.key.bytes(), "{} kvno {} {enctype}", entry.principal, entry.kvno);
    }
    assert_eq!(host().default_salt(), b"EXAMPLE.COMhostfs.example.com");
}

#[test]
fn the_32_bit_kvno_overrides_the_8_bit_one() {
    let keytab = Keytab::parse(MIT_KVNO_300).unwrap();
    assert_eq!(keytab.entries.len(), 1);
    assert_eq!(keytab.entries[0].kvno, 300);
}

#[test]
fn without_a_nonzero_32_bit_kvno_the_8_bit_one_stands() {
    let key = [7; 16];
    for tail in [&[][..], &[0, 0, 0], &[0, 0, 0, 0], &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]] {
        let entry = cifs_entry(17, &key, 9, tail);
        let parsed = Keytab::parse(&keytab(&[sized(&entry)])).unwrap();
        assert_eq!(parsed.entries[0].kvno, 9, "tail {tail:?}");
    }
    // Whatever follows a nonzero 32-bit kvno (MIT's flags) is ignored.
    let entry = cifs_entry(17, &key, 9, &[0, 0, 1, 0, 0, 0, 0, 1]);
    assert_eq!(Keytab::parse(&keytab(&[sized(&entry)])).unwrap().entries[0].kvno, 256);
}

#[test]
fn encoding_reproduces_an_mit_keytab_byte_for_byte() {
    let keytab = Keytab::parse(MIT_KVNO_300).unwrap();
    assert_eq!(Keytab::encode(&keytab.entries), MIT_KVNO_300);
}

#[test]
fn encoded_entries_parse_back_the_same() {
    let mut entries = Keytab::parse(MIT_KEYTAB).unwrap().entries;
    entries[0].principal = Principal::new("ODD@REALM", &["svc/with/slashes", "h"], name_type::SRV_HST);
    entries[1].timestamp = u32::MAX;
    entries[1].kvno = 70_000;
    let parsed = Keytab::parse(&Keytab::encode(&entries)).unwrap();
    assert!(parsed.skipped.is_empty());
    assert_eq!(parsed.entries.len(), entries.len());
    for (ours, theirs) in parsed.entries.iter().zip(&entries) {
        assert_eq!((&ours.principal, ours.timestamp, ours.kvno), (&theirs.principal, theirs.timestamp, theirs.kvno));
        assert_eq!((ours.key.enctype(), ours.key.bytes()), (theirs.key.enctype(), theirs.key.bytes()));
    }
}

#[test]
fn a_keytab_with_a_truncated_entry_is_refused() {
    let boundaries: Vec<usize> = {
        let mut at = 2;
        let mut boundaries = vec![at];
        while at < MIT_KEYTAB.len() {
            at += 4 + u32::from_be_bytes(MIT_KEYTAB[at..at + 4].try_into().unwrap()) as usize;
            boundaries.push(at);
        }
        boundaries
    };
    assert_eq!(boundaries.last(), Some(&MIT_KEYTAB.len()));
    for len in 0..MIT_KEYTAB.len() {
        let result = Keytab::parse(&MIT_KEYTAB[..len]);
        if boundaries.contains(&len) {
            let keytab = result.unwrap();
            assert_eq!(keytab.entries.len() + keytab.skipped.len(), boundaries.iter().position(|&b| b == len).unwrap());
        } else {
            assert!(matches!(result, Err(DecodeError::Truncated { .. })), "cut at {len}: {result:?}");
        }
    }
}

#[test]
fn an_entry_shorter_than_its_fields_is_refused() {
    // The record size says 10 bytes; the realm alone needs 13.
    let entry = cifs_entry(17, &[7; 16], 1, &[]);
    let error = Keytab::parse(&keytab(&[(10, &entry)])).unwrap_err();
    assert_eq!(error, DecodeError::Truncated { what: "keytab realm", needed: 11, available: 6 });
}

#[test]
fn holes_are_skipped() {
    let first = cifs_entry(17, &[1; 16], 1, &[]);
    let second = cifs_entry(18, &[2; 32], 2, &[]);
    let zeros = [0; 40];
    let bytes = keytab(&[(-40, &zeros), sized(&first), (-3, &zeros[..3]), sized(&second)]);
    let parsed = Keytab::parse(&bytes).unwrap();
    assert_eq!(parsed.entries.iter().map(|entry| entry.kvno).collect::<Vec<_>>(), [1, 2]);
    // A hole running past the end is a truncated file.
    assert!(matches!(Keytab::parse(&keytab(&[(-41, &zeros)])), Err(DecodeError::Truncated { .. })));
    assert!(matches!(Keytab::parse(&keytab(&[(i32::MIN, &[])])), Err(DecodeError::Truncated { .. })));
}

#[test]
fn an_entry_may_be_shorter_than_its_record() {
    // A new entry written into a larger hole keeps the hole's size; the zeros after it are not
    // a 32-bit kvno (they are 0) and are ignored.
    let mut entry = cifs_entry(17, &[1; 16], 5, &[]);
    entry.extend_from_slice(&[0; 20]);
    assert_eq!(Keytab::parse(&keytab(&[sized(&entry)])).unwrap().entries[0].kvno, 5);
}

#[test]
fn a_zero_record_size_ends_the_keytab() {
    let entry = cifs_entry(17, &[1; 16], 1, &[]);
    let mut bytes = keytab(&[sized(&entry), (0, &[])]);
    bytes.extend_from_slice(b"not read");
    assert_eq!(Keytab::parse(&bytes).unwrap().entries.len(), 1);
}

#[test]
fn an_empty_keytab_has_no_entries() {
    let keytab = Keytab::parse(&[5, 2]).unwrap();
    assert!(keytab.entries.is_empty() && keytab.skipped.is_empty());
}

#[test]
fn a_version_1_keytab_counts_the_realm_and_has_no_name_type() {
    let mut entry = Writer::new();
    entry.u16_be(3);
    for part in [&b"EXAMPLE.COM"[..], b"cifs", b"fs.example.com"] {
        entry.u16_be(part.len() as u16).bytes(part);
    }
    entry.u32_be(0x6000_0000).u8(7).u16_be(18).u16_be(32).bytes(&[3; 32]);
    let mut bytes = vec![5, 1];
    bytes.extend_from_slice(&(entry.len() as u32).to_be_bytes());
    bytes.extend_from_slice(entry.as_slice());
    let keytab = Keytab::parse(&bytes).unwrap();
    assert_eq!(keytab.version, Version::V1);
    let parsed = &keytab.entries[0];
    assert_eq!(parsed.principal, Principal { name_type: name_type::UNKNOWN, ..cifs() });
    assert_eq!((parsed.kvno, parsed.timestamp, parsed.key.enctype()), (7, 0x6000_0000, Enctype::Aes256CtsHmacSha1));
    // A count of 0 cannot even hold the realm.
    bytes[6..8].copy_from_slice(&0_u16.to_be_bytes());
    assert!(invalid_reason(&bytes).contains("version 1 counts the realm"));
}

#[test]
fn a_little_endian_version_1_keytab_is_refused_not_misread() {
    let mut bytes = vec![5, 1];
    bytes.extend_from_slice(&0x56_u32.to_le_bytes());
    bytes.extend_from_slice(&[0; 0x56]);
    assert!(Keytab::parse(&bytes).is_err());
}

#[test]
fn anything_but_a_keytab_version_is_refused() {
    for header in [&[5, 3][..], &[4, 2], b"\x00\x00", b"PK"] {
        let mut bytes = header.to_vec();
        bytes.extend_from_slice(&MIT_KEYTAB[2..]);
        assert!(invalid_reason(&bytes).starts_with("keytab version"), "{header:?}");
    }
    assert!(matches!(Keytab::parse(&[5]), Err(DecodeError::Truncated { .. })));
    assert!(matches!(Keytab::parse(&[]), Err(DecodeError::Truncated { .. })));
}

#[test]
fn a_keytab_over_one_mebibyte_is_refused() {
    let mut bytes = keytab(&[(-(MAX_KEYTAB_LEN as i32), &[])]);
    bytes.resize(MAX_KEYTAB_LEN + 1, 0);
    assert!(invalid_reason(&bytes).contains("more than the 1048576 accepted"));
    // Exactly the limit is fine (here one big hole).
    bytes.truncate(MAX_KEYTAB_LEN);
    let hole = (MAX_KEYTAB_LEN - 6) as i32;
    bytes[2..6].copy_from_slice(&(-hole).to_be_bytes());
    assert!(Keytab::parse(&bytes).unwrap().entries.is_empty());
}

#[test]
fn more_than_4096_entries_are_refused() {
    let entry = cifs_entry(25, &[1; 16], 1, &[]);
    let records: Vec<(i32, &[u8])> = (0..MAX_ENTRIES).map(|_| sized(&entry)).collect();
    let mut bytes = keytab(&records);
    assert_eq!(Keytab::parse(&bytes).unwrap().skipped.len(), MAX_ENTRIES);
    bytes.extend_from_slice(&keytab(&[sized(&entry)])[2..]);
    assert!(invalid_reason(&bytes).contains("more than 4096 entries"));
}

#[test]
fn a_principal_with_more_than_16_components_is_refused() {
    let parts: Vec<&[u8]> = std::iter::once(&b"R"[..]).chain(std::iter::repeat_n(&b"c"[..], 17)).collect();
    let too_many = entry(17, &parts, 17, &[1; 16], 1, &[]);
    assert!(invalid_reason(&keytab(&[sized(&too_many)])).contains("17 components"));
    let sixteen = entry(16, &parts[..17], 17, &[1; 16], 1, &[]);
    assert_eq!(Keytab::parse(&keytab(&[sized(&sixteen)])).unwrap().entries[0].principal.components.len(), 16);
}

#[test]
fn a_principal_without_components_is_refused() {
    let nameless = entry(0, &[b"EXAMPLE.COM"], 17, &[1; 16], 1, &[]);
    assert!(invalid_reason(&keytab(&[sized(&nameless)])).contains("without name components"));
}

#[test]
fn a_key_of_the_wrong_length_for_its_enctype_is_refused() {
    let short = cifs_entry(18, &[1; 16], 1, &[]);
    let reason = invalid_reason(&keytab(&[sized(&short)]));
    assert!(reason.contains("cifs/fs.example.com@EXAMPLE.COM") && reason.contains("32 bytes, not 16"), "{reason}");
}

#[test]
fn a_name_that_is_not_utf8_is_refused() {
    let bad = entry(2, &[b"EXAMPLE.COM", b"cifs", b"fs\xff"], 17, &[1; 16], 1, &[]);
    assert_eq!(invalid_reason(&keytab(&[sized(&bad)])), "keytab principal component: not UTF-8");
}

#[test]
fn a_principal_displays_as_kerberos_writes_it() {
    assert_eq!(cifs().to_string(), "cifs/fs.example.com@EXAMPLE.COM");
    let odd = Principal::new("EX@MPLE\\", &["a/b", "c@d"], name_type::PRINCIPAL);
    assert_eq!(odd.to_string(), r"a\/b/c\@d@EX\@MPLE\\");
}

#[test]
fn find_picks_the_named_kvno_or_else_the_highest() {
    let keytab = Keytab::parse(MIT_KEYTAB).unwrap();
    let find = |principal: &Principal, enctype, kvno| keytab.find(principal, enctype, kvno).map(|entry| entry.kvno);
    assert_eq!(find(&cifs(), Enctype::Aes256CtsHmacSha1, None), Some(4));
    assert_eq!(find(&cifs(), Enctype::Aes256CtsHmacSha1, Some(3)), Some(3));
    assert_eq!(find(&cifs(), Enctype::Aes256CtsHmacSha1, Some(5)), None);
    assert_eq!(find(&cifs(), Enctype::Rc4Hmac, None), Some(3));
    assert_eq!(find(&host(), Enctype::Aes128CtsHmacSha1, None), None);
    // Tickets from Windows name the service as NT-SRV-HST; the keytab says NT-PRINCIPAL.
    let srv_hst = Principal { name_type: name_type::SRV_HST, ..cifs() };
    assert_eq!(find(&srv_hst, Enctype::Aes256CtsHmacSha384, None), Some(3));
    let other_realm = Principal::new("example.com", &["cifs", "fs.example.com"], name_type::PRINCIPAL);
    assert_eq!(find(&other_realm, Enctype::Aes256CtsHmacSha1, None), None);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..300), version in 1_u8..3) {
        if bytes.len() >= 2 {
            bytes[0] = 5;
            bytes[1] = version;
        }
        let _ = Keytab::parse(&bytes);
    }

    #[test]
    fn every_corruption_of_an_mit_keytab_is_refused_or_parsed_without_panic(at in 0..MIT_KEYTAB.len(), value: u8) {
        let mut bytes = MIT_KEYTAB.to_vec();
        bytes[at] = value;
        let _ = Keytab::parse(&bytes);
    }
}
