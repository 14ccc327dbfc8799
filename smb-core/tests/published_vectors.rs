//! The engine's cryptography against published test vectors (tests/vectors/, each file naming
//! its source): MS-NLMP 4.2, RFC 4493, and Microsoft's SMB 3.0 / 3.1.1 worked examples.

use std::collections::BTreeMap;

use smb_core::auth::ntlm;
use smb_core::crypto::{Encryptor, PreauthHash, SessionKeys, Signer};
use smb_core::proto::negotiate::{Cipher, Dialect, SigningAlgorithm};

type Case = BTreeMap<String, String>;

/// `[case]` sections of `key = value` lines; hex values stay hex, quoted strings lose quotes.
fn cases(file: &str) -> BTreeMap<String, Case> {
    let path = format!("{}/tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut cases = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.to_owned());
            cases.insert(name.to_owned(), Case::new());
        } else if let (Some(case), Some((key, value))) = (&current, line.split_once(" = ")) {
            let value = value.trim().trim_matches('"').to_owned();
            cases.get_mut(case).unwrap().insert(key.trim().to_owned(), value);
        }
    }
    cases
}

fn bytes(case: &Case, key: &str) -> Vec<u8> {
    hex::decode(&case[key]).unwrap_or_else(|e| panic!("{key}: {e}"))
}

fn cipher(name: &str) -> Cipher {
    match name {
        "AES-128-GCM" | "0x0002" => Cipher::AES_128_GCM,
        "AES-128-CCM" | "0x0001" => Cipher::AES_128_CCM,
        "AES-256-GCM" | "0x0004" => Cipher::AES_256_GCM,
        "AES-256-CCM" | "0x0003" => Cipher::AES_256_CCM,
        other => panic!("cipher {other}"),
    }
}

#[test]
fn aes_cmac_matches_rfc_4493_section_4() {
    let cases = cases("rfc4493-aes-cmac.txt");
    let mut checked = 0;
    for (name, case) in cases.iter().filter(|(n, _)| n.starts_with("example-")) {
        let signer = Signer::new(Dialect::SMB3_0, SigningAlgorithm::AES_CMAC, &bytes(case, "k")).unwrap();
        let message = if case["m"].is_empty() { Vec::new() } else { bytes(case, "m") };
        assert_eq!(signer.sign(&message, 0, false, false).to_vec(), bytes(case, "t"), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn ntlmv2_matches_ms_nlmp_4_2_4() {
    let all = cases("ms-nlmp-4.2-ntlmv2.txt");
    let (inputs, calculations, results, messages) =
        (&all["inputs"], &all["calculations"], &all["results"], &all["messages"]);
    let hash = ntlm::nt_hash(&inputs["passwd"]);
    assert_eq!(ntlm::ntowf_v2(&hash, &inputs["user"], &inputs["user_dom"]).to_vec(), bytes(calculations, "ntowfv2"));

    let authenticate = bytes(messages, "authenticate_message");
    let parsed = ntlm::Authenticate::decode(&authenticate).unwrap();
    assert_eq!(parsed.user, "User");
    assert_eq!(parsed.domain, "Domain");
    assert_eq!(parsed.nt_response, bytes(results, "nt_challenge_response"));
    assert_eq!(parsed.encrypted_session_key, bytes(results, "encrypted_random_session_key"));
    let server_challenge: [u8; 8] = bytes(inputs, "server_challenge").try_into().unwrap();
    let verified =
        ntlm::verify(&parsed, &hash, &server_challenge, [&[], &bytes(messages, "challenge_message"), &authenticate])
            .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(verified.session_key.to_vec(), bytes(inputs, "random_session_key"));

    let wrong = ntlm::verify(&parsed, &ntlm::nt_hash("Passw0rd"), &server_challenge, [&[], &[], &authenticate]);
    assert!(wrong.is_err());
}

#[test]
fn the_nt_hash_matches_ms_nlmp_4_2_1() {
    let all = cases("ms-nlmp-4.2-common.txt");
    let case = all.values().find(|c| c.contains_key("ntowfv1")).expect("an NTOWFv1 case");
    let password = case.get("passwd").or_else(|| case.get("password")).expect("the password");
    assert_eq!(ntlm::nt_hash(password).to_vec(), bytes(case, "ntowfv1"));
}

#[test]
fn smb_3_0_keys_match_the_published_derivation() {
    for (name, case) in cases("ms-smb2-3.0-keys.txt") {
        let keys = SessionKeys::derive(Dialect::SMB3_0, &bytes(&case, "session_key"), &[], None);
        assert_eq!(keys.signing.to_vec(), bytes(&case, "signing_key"), "{name}");
        if name.contains("binding") {
            // A bound channel keeps the master session's cipher and application keys.
            continue;
        }
        // Printed from the client's side: its encryption key is what the server decrypts with.
        assert_eq!(keys.decryption.to_vec(), bytes(&case, "encryption_key"), "{name}");
        assert_eq!(keys.encryption.to_vec(), bytes(&case, "decryption_key"), "{name}");
        assert_eq!(keys.application.to_vec(), bytes(&case, "application_key"), "{name}");
    }
}

#[test]
fn the_preauth_integrity_chain_matches_the_published_sessions() {
    let all = cases("ms-smb2-3.1.1-preauth.txt");
    assert_eq!(all.len(), 4);
    for (name, case) in &all {
        let mut hash = PreauthHash::default();
        let mut steps = 0;
        for (message, expected) in [
            ("negotiate_request", "hash_after_negotiate_request"),
            ("negotiate_response", "hash_after_negotiate_response"),
            ("session_setup_request_1", "hash_after_session_setup_request_1"),
            ("session_setup_response_1", "hash_after_session_setup_response_1"),
            ("session_setup_request_2", "hash_after_session_setup_request_2"),
            ("session_setup_response_2", "hash_after_session_setup_response_2"),
            ("session_setup_request_3", "hash_after_session_setup_request_3"),
        ] {
            let Some(_) = case.get(message) else { continue };
            hash.update(&bytes(case, message));
            assert_eq!(hash.0.to_vec(), bytes(case, expected), "{name}: after {message}");
            steps += 1;
        }
        assert!(steps >= 5, "{name}: only {steps} steps");
    }
}

#[test]
fn smb_3_1_1_keys_and_session_setup_signatures_match() {
    let all = cases("ms-smb2-3.1.1-signing.txt");
    let mut checked = 0;
    for (name, case) in all.iter().filter(|(_, c)| c.contains_key("preauth_integrity_hash_value")) {
        let keys = SessionKeys::derive(
            Dialect::SMB3_1_1,
            &bytes(case, "session_key"),
            &bytes(case, "preauth_integrity_hash_value"),
            Some(cipher(&case["cipher_id"])),
        );
        assert_eq!(keys.signing.to_vec(), bytes(case, "signing_key"), "{name}");
        if !name.contains("binding") {
            // A bound channel keeps the master session's cipher and application keys.
            assert_eq!(keys.decryption.to_vec(), bytes(case, "encryption_key"), "{name}");
            assert_eq!(keys.encryption.to_vec(), bytes(case, "decryption_key"), "{name}");
            assert_eq!(keys.application.to_vec(), bytes(case, "application_key"), "{name}");
        }

        let mut response = bytes(case, "final_session_setup_response");
        response[48..64].fill(0);
        let signer = Signer::new(Dialect::SMB3_1_1, SigningAlgorithm::AES_CMAC, &keys.signing).unwrap();
        let message_id = u64::from_le_bytes(response[24..32].try_into().unwrap());
        assert_eq!(
            signer.sign(&response, message_id, true, false).to_vec(),
            bytes(case, "final_session_setup_response_signature"),
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn encryption_matches_the_published_transform_examples() {
    let mut checked = 0;
    for file in ["ms-smb2-3.1.1-encryption.txt", "ms-smb2-3.0-encryption.txt"] {
        for (name, case) in cases(file).iter().filter(|(_, c)| c.contains_key("transformed_message")) {
            let transformed = bytes(case, "transformed_message");
            let encryptor =
                Encryptor::new(case.get("cipher").map_or(Cipher::AES_128_CCM, |c| cipher(c)), &bytes(case, "key"))
                    .unwrap();
            let nonce = &transformed[20..36];
            let aad = &transformed[20..52];
            let signature: [u8; 16] = transformed[4..20].try_into().unwrap();
            let mut data = transformed[52..].to_vec();
            encryptor.open(nonce, aad, &mut data, 0, &signature).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(data, bytes(case, "plaintext"), "{file} {name}: decrypted");
            let tag = encryptor.seal(nonce, aad, &mut data);
            assert_eq!(tag, signature, "{file} {name}: signature");
            assert_eq!(data, transformed[52..].to_vec(), "{file} {name}: ciphertext");
            checked += 1;
        }
    }
    assert_eq!(checked, 12);
}
