//! Kerberos crypto against published vectors (tests/data/, each file naming its source):
//! RFC 3961 A.1, RFC 3962 B, RFC 8009 A, RFC 4757 section 2 and MIT krb5's known answers; then
//! round trips and refusals for every enctype.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::kdf::{n_fold, pbkdf2};
use super::*;

/// `[case]` sections of `key = value` lines: quoted values are text, the others hex.
fn cases(text: &str) -> Vec<(String, BTreeMap<String, Vec<u8>>)> {
    let mut cases: Vec<(String, BTreeMap<String, Vec<u8>>)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')) {
        if let Some(name) = line.strip_prefix('[').and_then(|line| line.strip_suffix(']')) {
            cases.push((name.to_owned(), BTreeMap::new()));
        } else if let (Some((_, case)), Some((key, value))) = (cases.last_mut(), line.split_once(" = ")) {
            let value = match value.strip_prefix('"').and_then(|value| value.strip_suffix('"')) {
                Some(text) => text.as_bytes().to_vec(),
                None => hex::decode(value).unwrap_or_else(|error| panic!("{key}: {error}")),
            };
            case.insert(key.to_owned(), value);
        }
    }
    cases
}

fn number(case: &BTreeMap<String, Vec<u8>>, key: &str) -> i64 {
    std::str::from_utf8(&case[key]).unwrap().parse().unwrap()
}

fn enctype(case: &BTreeMap<String, Vec<u8>>) -> Enctype {
    Enctype::from_number(number(case, "enctype") as i32).unwrap()
}

fn text(case: &BTreeMap<String, Vec<u8>>, key: &str) -> String {
    String::from_utf8(case[key].clone()).unwrap()
}

const RFC_3961_A1: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc3961-a1-n-fold.txt"));
const RFC_3962_B: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc3962-b-aes-sha1.txt"));
const RFC_8009_A: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc8009-a-aes-sha2.txt"));
const MIT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mit-krb5-known-answers.txt"));

#[test]
fn n_fold_matches_rfc_3961_appendix_a_1() {
    let cases = cases(RFC_3961_A1);
    for (name, case) in &cases {
        let bits = number(case, "bits") as usize;
        assert_eq!(n_fold(&case["input"], bits / 8), case["output"], "{name}");
    }
    assert_eq!(cases.len(), 11);
}

#[test]
fn aes_sha1_string_to_key_matches_rfc_3962_appendix_b() {
    let mut checked = 0;
    for (name, case) in cases(RFC_3962_B).iter().filter(|(name, _)| name.starts_with("string-to-key")) {
        let iterations = number(case, "iterations") as u32;
        let password = std::str::from_utf8(&case["password"]).unwrap();
        for (enctype, pbkdf2_key, aes_key) in [
            (Enctype::Aes128CtsHmacSha1, "pbkdf2_128", "aes128_key"),
            (Enctype::Aes256CtsHmacSha1, "pbkdf2_256", "aes256_key"),
        ] {
            let tkey = pbkdf2(Hash::Sha1, password.as_bytes(), &case["salt"], iterations, enctype.key_len()).unwrap();
            assert_eq!(*tkey, case[pbkdf2_key], "{name} {pbkdf2_key}");
            let key = string_to_key(enctype, password, &case["salt"], iterations).unwrap();
            assert_eq!(key.bytes(), case[aes_key], "{name} {aes_key}");
        }
        checked += 1;
    }
    assert_eq!(checked, 7);
}

#[test]
fn ciphertext_stealing_matches_rfc_3962_appendix_b() {
    let mut checked = 0;
    for (name, case) in cases(RFC_3962_B).iter().filter(|(name, _)| name.starts_with("cts")) {
        let cipher = Aes::new(&case["key"]);
        let mut data = case["input"].clone();
        cts::encrypt(&cipher, &mut data);
        assert_eq!(data, case["output"], "{name}");
        // The IV carried on (RFC 3962 section 5) is the next-to-last output block, or the only one.
        let blocks = data.len().div_ceil(16);
        assert_eq!(data[(blocks.max(2) - 2) * 16..][..16], case["next_iv"], "{name}");
        cts::decrypt(&cipher, &mut data);
        assert_eq!(data, case["input"], "{name}");
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn aes_sha2_string_to_key_matches_rfc_8009_appendix_a() {
    let mut checked = 0;
    for (name, case) in cases(RFC_8009_A).iter().filter(|(name, _)| name.starts_with("string-to-key")) {
        let password = std::str::from_utf8(&case["password"]).unwrap();
        let key = string_to_key(enctype(case), password, &case["salt"], number(case, "iterations") as u32).unwrap();
        assert_eq!(key.bytes(), case["key"], "{name}");
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn aes_sha2_key_derivation_matches_rfc_8009_appendix_a() {
    let mut checked = 0;
    for (name, case) in cases(RFC_8009_A).iter().filter(|(name, _)| name.starts_with("key-derivation")) {
        let enctype = enctype(case);
        let Profile::Sha2(hash) = enctype.profile() else { panic!("{name}: not an RFC 8009 enctype") };
        let key = Key::new(enctype, &case["base_key"]).unwrap();
        let usage = number(case, "usage") as u32;
        let mac_len = enctype.mac_len();
        assert_eq!(*derive_sha2_profile(&key, hash, usage, 0x99, mac_len), case["kc"], "{name} Kc");
        assert_eq!(*derive_sha2_profile(&key, hash, usage, 0xAA, enctype.key_len()), case["ke"], "{name} Ke");
        assert_eq!(*derive_sha2_profile(&key, hash, usage, 0x55, mac_len), case["ki"], "{name} Ki");
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn aes_sha2_encryption_matches_rfc_8009_appendix_a() {
    let mut checked = 0;
    for (name, case) in cases(RFC_8009_A).iter().filter(|(name, _)| name.starts_with("encryption")) {
        let key = Key::new(enctype(case), &case["base_key"]).unwrap();
        let usage = number(case, "usage") as u32;
        let confounder: [u8; CONFOUNDER_LEN] = case["confounder"].as_slice().try_into().unwrap();
        let ciphertext = encrypt(&key, usage, &case["plaintext"], &confounder);
        assert_eq!(ciphertext, case["ciphertext"], "{name}");
        assert_eq!(*decrypt(&key, usage, &ciphertext).unwrap(), case["plaintext"], "{name}");
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn aes_sha2_checksums_match_rfc_8009_appendix_a() {
    let mut checked = 0;
    for (name, case) in cases(RFC_8009_A).iter().filter(|(name, _)| name.starts_with("checksum")) {
        let key = Key::new(enctype(case), &case["base_key"]).unwrap();
        let usage = number(case, "usage") as u32;
        assert_eq!(checksum(&key, usage, &case["data"]), case["checksum"], "{name}");
        let checksum_type = ChecksumType::from_number(number(case, "enctype") as i32).unwrap();
        verify_checksum(&key, checksum_type, usage, &case["data"], &case["checksum"]).unwrap();
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn rc4_string_to_key_is_the_nt_hash_of_rfc_4757_section_2() {
    let cases = cases(MIT);
    let (_, case) = cases.iter().find(|(name, _)| name == "rc4-string-to-key").unwrap();
    // Salt and iteration count do not enter it.
    let key = string_to_key(Enctype::Rc4Hmac, &text(case, "password"), b"EXAMPLE.COMuser", 0).unwrap();
    assert_eq!(key.bytes(), case["key"]);
}

#[test]
fn mit_known_ciphertexts_decrypt() {
    let mut checked = 0;
    for (name, case) in cases(MIT).iter().filter(|(name, _)| name.starts_with("decrypt")) {
        let key = Key::new(enctype(case), &case["key"]).unwrap();
        let plaintext = decrypt(&key, number(case, "usage") as u32, &case["ciphertext"]).unwrap();
        assert_eq!(*plaintext, case["plaintext"], "{name}");
        checked += 1;
    }
    assert_eq!(checked, 15);
}

#[test]
fn mit_known_checksums_match() {
    let mut checked = 0;
    for (name, case) in cases(MIT).iter().filter(|(name, _)| name.starts_with("checksum")) {
        let key = Key::new(enctype(case), &case["key"]).unwrap();
        let checksum_type = ChecksumType::from_number(number(case, "checksum_type") as i32).unwrap();
        assert_eq!(key.enctype().checksum_type(), checksum_type, "{name}");
        let usage = number(case, "usage") as u32;
        assert_eq!(checksum(&key, usage, &case["data"]), case["checksum"], "{name}");
        verify_checksum(&key, checksum_type, usage, &case["data"], &case["checksum"]).unwrap();
        checked += 1;
    }
    assert_eq!(checked, 3);
}

fn test_key(enctype: Enctype, seed: u8) -> Key {
    let bytes: Vec<u8> = (0..enctype.key_len()).map(|i| seed.wrapping_mul(31).wrapping_add(i as u8)).collect();
    Key::new(enctype, &bytes).unwrap()
}

const CONFOUNDER: [u8; CONFOUNDER_LEN] = *b"sixteen  random!";

#[test]
fn every_enctype_round_trips_every_length() {
    for enctype in Enctype::ALL {
        let key = test_key(enctype, 1);
        for len in [0, 1, 7, 15, 16, 17, 31, 32, 33, 100, 1000] {
            let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ciphertext = encrypt(&key, 11, &plaintext, &CONFOUNDER);
            let overhead = if enctype == Enctype::Rc4Hmac { 24 } else { 16 + enctype.mac_len() };
            assert_eq!(ciphertext.len(), len + overhead, "{enctype} {len}");
            assert_eq!(*decrypt(&key, 11, &ciphertext).unwrap(), plaintext, "{enctype} {len}");
        }
    }
}

#[test]
fn a_flipped_bit_anywhere_is_refused() {
    for enctype in Enctype::ALL {
        let key = test_key(enctype, 2);
        let ciphertext = encrypt(&key, 2, b"an EncTicketPart, say", &CONFOUNDER);
        for bit in 0..ciphertext.len() * 8 {
            let mut altered = ciphertext.clone();
            altered[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(decrypt(&key, 2, &altered).unwrap_err(), CryptoError::Integrity, "{enctype} bit {bit}");
        }
    }
}

#[test]
fn a_wrong_usage_is_refused() {
    for enctype in Enctype::ALL {
        let key = test_key(enctype, 3);
        let ciphertext = encrypt(&key, 11, b"an authenticator", &CONFOUNDER);
        assert_eq!(decrypt(&key, 12, &ciphertext).unwrap_err(), CryptoError::Integrity, "{enctype}");
        assert_eq!(decrypt(&key, 7, &ciphertext).unwrap_err(), CryptoError::Integrity, "{enctype}");
    }
}

#[test]
fn a_wrong_key_is_refused() {
    for enctype in Enctype::ALL {
        let ciphertext = encrypt(&test_key(enctype, 4), 2, b"a ticket", &CONFOUNDER);
        assert_eq!(decrypt(&test_key(enctype, 5), 2, &ciphertext).unwrap_err(), CryptoError::Integrity, "{enctype}");
        for other in Enctype::ALL.into_iter().filter(|other| *other != enctype) {
            assert!(decrypt(&test_key(other, 4), 2, &ciphertext).is_err(), "{enctype} under {other}");
        }
    }
}

#[test]
fn a_truncated_ciphertext_is_refused_at_every_length() {
    for enctype in Enctype::ALL {
        let key = test_key(enctype, 6);
        let ciphertext = encrypt(&key, 2, b"thirty-three bytes of plain text!", &CONFOUNDER);
        for len in 0..ciphertext.len() {
            let error = decrypt(&key, 2, &ciphertext[..len]).unwrap_err();
            assert!(matches!(error, CryptoError::Truncated { .. } | CryptoError::Integrity), "{enctype} {len}");
        }
        let minimum = ciphertext.len() - 33;
        assert_eq!(
            decrypt(&key, 2, &ciphertext[..minimum - 1]).unwrap_err(),
            CryptoError::Truncated { enctype, length: minimum - 1, minimum }
        );
    }
}

#[test]
fn rc4_uses_the_first_eight_bytes_of_the_confounder() {
    let key = test_key(Enctype::Rc4Hmac, 7);
    let mut other = CONFOUNDER;
    other[8..].fill(0);
    assert_eq!(encrypt(&key, 2, b"x", &CONFOUNDER), encrypt(&key, 2, b"x", &other));
}

#[test]
fn rc4_encrypts_the_as_rep_part_with_message_type_8() {
    // RFC 4757 section 3: usage 3 is T=8, so the two ciphertexts decrypt under either usage.
    let key = test_key(Enctype::Rc4Hmac, 8);
    let ciphertext = encrypt(&key, 3, b"EncASRepPart", &CONFOUNDER);
    assert_eq!(*decrypt(&key, 8, &ciphertext).unwrap(), b"EncASRepPart");
    assert_eq!(checksum(&key, 3, b"data"), checksum(&key, 8, b"data"));
}

#[test]
fn checksums_of_another_type_key_or_usage_or_data_are_refused() {
    for enctype in Enctype::ALL {
        let key = test_key(enctype, 9);
        let data = b"PAC with zeroed signatures";
        let sum = checksum(&key, 17, data);
        assert_eq!(sum.len(), enctype.checksum_type().len());
        verify_checksum(&key, enctype.checksum_type(), 17, data, &sum).unwrap();
        for other in ChecksumType::ALL.into_iter().filter(|other| *other != enctype.checksum_type()) {
            assert_eq!(
                verify_checksum(&key, other, 17, data, &sum).unwrap_err(),
                CryptoError::ChecksumType { checksum: other, enctype }
            );
        }
        let refused = |key: &Key, usage, data: &[u8], sum: &[u8]| {
            verify_checksum(key, enctype.checksum_type(), usage, data, sum).unwrap_err() == CryptoError::Integrity
        };
        assert!(refused(&test_key(enctype, 10), 17, data, &sum), "{enctype} key");
        assert!(refused(&key, 18, data, &sum), "{enctype} usage");
        assert!(refused(&key, 17, b"PAC with zeroed signaturez", &sum), "{enctype} data");
        assert!(refused(&key, 17, data, &sum[..sum.len() - 1]), "{enctype} short");
        for bit in 0..sum.len() * 8 {
            let mut altered = sum.clone();
            altered[bit / 8] ^= 1 << (bit % 8);
            assert!(refused(&key, 17, data, &altered), "{enctype} bit {bit}");
        }
    }
}

#[test]
fn a_key_never_shows_its_bytes_in_debug() {
    let key = Key::new(Enctype::Aes128CtsHmacSha1, &[0x5A; 16]).unwrap();
    let shown = format!("{key:?} {key:#?}");
    assert!(shown.contains("aes128-cts-hmac-sha1-96 (17)") && shown.contains("16 bytes redacted"), "{shown}");
    // 0x5A in hex, decimal and ASCII.
    assert!(!shown.to_lowercase().contains("5a") && !shown.contains("90") && !shown.contains('Z'), "{shown}");
}

#[test]
fn a_key_of_the_wrong_length_is_refused() {
    assert_eq!(
        Key::new(Enctype::Aes256CtsHmacSha1, &[0; 16]).unwrap_err(),
        CryptoError::KeyLength { enctype: Enctype::Aes256CtsHmacSha1, expected: 32, actual: 16 }
    );
    assert!(Key::new(Enctype::Rc4Hmac, &[]).is_err());
}

#[test]
fn enctype_and_checksum_numbers_round_trip() {
    for enctype in Enctype::ALL {
        assert_eq!(Enctype::from_number(enctype.number()), Some(enctype));
        assert_eq!(enctype.checksum_type().enctype(), enctype);
        let checksum_type = enctype.checksum_type();
        assert_eq!(ChecksumType::from_number(checksum_type.number()), Some(checksum_type));
    }
    let numbers: Vec<i32> = Enctype::ALL.iter().map(|enctype| enctype.number()).collect();
    assert_eq!(numbers, [18, 17, 20, 19, 23]);
    for unsupported in [0, 1, 3, 16, 24, 25, 26, -128] {
        assert_eq!(Enctype::from_number(unsupported), None);
    }
    assert_eq!(ChecksumType::HmacMd5.number(), -138);
    assert_eq!(Enctype::Aes256CtsHmacSha384.to_string(), "aes256-cts-hmac-sha384-192 (20)");
}

#[test]
fn a_zero_iteration_count_is_refused() {
    for enctype in Enctype::ALL.into_iter().filter(|enctype| *enctype != Enctype::Rc4Hmac) {
        assert_eq!(string_to_key(enctype, "password", b"salt", 0).unwrap_err(), CryptoError::ZeroIterations);
    }
}

proptest! {
    #[test]
    fn arbitrary_ciphertext_is_refused_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80), usage in 0_u32..30) {
        for enctype in Enctype::ALL {
            prop_assert!(decrypt(&test_key(enctype, 11), usage, &bytes).is_err());
        }
    }
}
