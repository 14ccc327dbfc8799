use super::*;
use crate::auth::ntlm::client;

struct Users;

impl UserLookup for Users {
    fn nt_hash(&self, user: &str) -> Option<[u8; 16]> {
        user.eq_ignore_ascii_case("alice").then(|| ntlm::nt_hash("correct horse"))
    }
}

fn identity() -> ServerIdentity {
    ServerIdentity {
        computer: "FILES".into(),
        domain: "WORKGROUP".into(),
        dns_computer: "files.example.com".into(),
        dns_domain: "example.com".into(),
    }
}

/// Runs the SPNEGO + NTLMSSP exchange as a client would; returns the acceptor's verdict and the
/// client's session key.
fn sign_in(user: &str, password: &str, send_mic: bool) -> (Step, [u8; 16], Vec<u8>) {
    let mut acceptor = Acceptor::default();
    let negotiate = ntlm::Negotiate { flags: ntlm::flags::CLIENT }.encode();
    let first = spnego::encode_init(&[OID_NTLMSSP], &negotiate);
    let Step::Continue(reply) = acceptor.step(&first, &identity(), &Users, 133_000_000_000_000_000, [4; 8]) else {
        panic!("expected a challenge")
    };
    let resp = spnego::parse_server_token(&reply).unwrap();
    assert_eq!(resp.neg_state, Some(NegState::AcceptIncomplete));
    let challenge = resp.response_token.unwrap();
    let outcome =
        client::authenticate(&negotiate, &challenge, user, "WORKGROUP", password, [8; 8], [0x42; 16]).unwrap();
    let mech_types = spnego::mech_types_der(&[OID_NTLMSSP]);
    let mic =
        send_mic.then(|| ntlm::SealingKeys::client_to_server(&outcome.session_key, outcome.flags).sign(&mech_types));
    let second = spnego::encode_client_resp(&outcome.authenticate, mic.as_ref().map(|m| &m[..]));
    let step = acceptor.step(&second, &identity(), &Users, 0, [0; 8]);
    (step, outcome.session_key, mech_types)
}

#[test]
fn a_known_user_with_the_right_password_is_authenticated_with_the_clients_key() {
    let (step, key, mech_types) = sign_in("alice", "correct horse", true);
    let Step::Done(done) = step else { panic!("not authenticated") };
    assert_eq!(done.user, "alice");
    assert_eq!(*done.session_key, key);
    let resp = spnego::parse_server_token(&done.response_token).unwrap();
    assert_eq!(resp.neg_state, Some(NegState::AcceptCompleted));
    // The server's mechListMIC verifies with the server-to-client keys.
    let flags = ntlm::flags::UNICODE
        | ntlm::flags::NTLM
        | ntlm::flags::KEY_EXCH
        | ntlm::flags::EXTENDED_SESSIONSECURITY
        | ntlm::flags::SIGN
        | ntlm::flags::N128;
    assert!(ntlm::SealingKeys::server_to_client(&key, flags).verify(&mech_types, &resp.mech_list_mic.unwrap()));
}

#[test]
fn user_names_are_matched_without_regard_to_case() {
    assert!(matches!(sign_in("ALICE", "correct horse", true).0, Step::Done(_)));
}

#[test]
fn a_wrong_password_fails_naming_the_user() {
    let Step::Failed(failure) = sign_in("alice", "battery staple", true).0 else { panic!("accepted") };
    assert_eq!(failure, Failure::WrongPassword { user: "alice".into() });
}

#[test]
fn an_unknown_user_fails() {
    let Step::Failed(failure) = sign_in("mallory", "correct horse", false).0 else { panic!("accepted") };
    assert_eq!(failure, Failure::UnknownUser { user: "mallory".into() });
}

#[test]
fn anonymous_sign_in_is_refused() {
    let Step::Failed(failure) = sign_in("", "", false).0 else { panic!("accepted") };
    assert_eq!(failure, Failure::Anonymous);
}

#[test]
fn a_client_without_ntlm_is_refused() {
    let kerberos = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
    let token = spnego::encode_init(&[&kerberos], b"krb5 token");
    let step = Acceptor::default().step(&token, &identity(), &Users, 0, [0; 8]);
    assert!(matches!(step, Step::Failed(Failure::NoCommonMechanism)));
}

#[test]
fn garbage_tokens_fail_without_panicking() {
    for token in [&[][..], &[0x60, 0x80], b"NTLMSSP\0\x03\0\0\0", &[0xa1, 0x00]] {
        let step = Acceptor::default().step(token, &identity(), &Users, 0, [0; 8]);
        assert!(matches!(step, Step::Failed(_)));
    }
}

#[test]
fn a_client_whose_ntlm_message_has_a_mic_must_also_send_the_mech_list_mic() {
    let Step::Failed(failure) = sign_in("alice", "correct horse", false).0 else { panic!("accepted") };
    assert_eq!(failure, Failure::BadMechListMic { user: "alice".into() });
}

/// `authenticate` re-encoded with its payload right after the fixed fields: no Version, no MIC
/// (what an attacker who strips the MIC sends; its AV pairs still say a MIC is present).
fn without_mic_field(authenticate: &[u8]) -> Vec<u8> {
    let message = ntlm::Authenticate::decode(authenticate).unwrap();
    let fields: [Vec<u8>; 6] = [
        message.lm_response,
        message.nt_response,
        crate::proto::utf16::encode(&message.domain),
        crate::proto::utf16::encode(&message.user),
        crate::proto::utf16::encode(&message.workstation),
        message.encrypted_session_key,
    ];
    let mut out = b"NTLMSSP\0".to_vec();
    out.extend_from_slice(&3_u32.to_le_bytes());
    let mut offset = 64_u32;
    for value in &fields {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        offset += value.len() as u32;
    }
    out.extend_from_slice(&message.flags.to_le_bytes());
    for value in &fields {
        out.extend_from_slice(value);
    }
    out
}

#[test]
fn an_authenticate_message_stripped_of_its_promised_mic_is_refused() {
    let mut acceptor = Acceptor::default();
    let negotiate = ntlm::Negotiate { flags: ntlm::flags::CLIENT }.encode();
    let first = spnego::encode_init(&[OID_NTLMSSP], &negotiate);
    let Step::Continue(reply) = acceptor.step(&first, &identity(), &Users, 133_000_000_000_000_000, [4; 8]) else {
        panic!("expected a challenge")
    };
    let challenge = spnego::parse_server_token(&reply).unwrap().response_token.unwrap();
    let outcome =
        client::authenticate(&negotiate, &challenge, "alice", "WORKGROUP", "correct horse", [8; 8], [0x42; 16])
            .unwrap();
    let stripped = without_mic_field(&outcome.authenticate);
    assert_eq!(ntlm::Authenticate::decode(&stripped).unwrap().mic_offset, None, "no room left for a MIC");
    let mech_types = spnego::mech_types_der(&[OID_NTLMSSP]);
    let mic = ntlm::SealingKeys::client_to_server(&outcome.session_key, outcome.flags).sign(&mech_types);
    let second = spnego::encode_client_resp(&stripped, Some(&mic));
    let Step::Failed(failure) = acceptor.step(&second, &identity(), &Users, 0, [0; 8]) else { panic!("accepted") };
    assert_eq!(failure, Failure::BadMic { user: "alice".into() });
}

#[test]
fn a_name_that_is_no_account_fails_as_an_account_does_before_the_password() {
    // An NTLMv1 response, and an NTLMv2 one whose AV pairs do not parse, are refused before any
    // password is checked: for an account and a made-up name alike.
    let failure = |user: &str, nt_response: &[u8]| -> Failure {
        let mut acceptor = Acceptor::default();
        let negotiate = ntlm::Negotiate { flags: ntlm::flags::CLIENT }.encode();
        let first = spnego::encode_init(&[OID_NTLMSSP], &negotiate);
        let Step::Continue(_) = acceptor.step(&first, &identity(), &Users, 133_000_000_000_000_000, [4; 8]) else {
            panic!("expected a challenge")
        };
        let authenticate = ntlm::Authenticate {
            lm_response: vec![0; 24],
            nt_response: nt_response.to_vec(),
            domain: "WORKGROUP".into(),
            user: user.into(),
            workstation: "EDGESHARE-TEST".into(),
            encrypted_session_key: Vec::new(),
            flags: ntlm::flags::CLIENT,
            mic_offset: None,
        }
        .encode();
        let second = spnego::encode_client_resp(&authenticate, None);
        let Step::Failed(failure) = acceptor.step(&second, &identity(), &Users, 0, [0; 8]) else { panic!("accepted") };
        failure
    };
    let ntlm_v1 = [0x11; 24];
    let mut unparsable_pairs = vec![0x22; 16 + 28];
    unparsable_pairs.extend_from_slice(&[0x07, 0x00, 0xFF, 0xFF]);
    for user in ["alice", "mallory"] {
        assert_eq!(failure(user, &ntlm_v1), Failure::NotNtlmV2 { user: user.into() });
        assert!(matches!(failure(user, &unparsable_pairs), Failure::Malformed(_)), "{user}");
    }
}
