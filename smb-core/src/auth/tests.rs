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
