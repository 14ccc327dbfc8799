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

/// One step of an acceptor that accepts NTLM only (no keytab).
fn ntlm_step(acceptor: &mut Acceptor, token: &[u8]) -> Step {
    let mut random = |buffer: &mut [u8]| buffer.fill(0x11);
    let mut inputs = Inputs {
        identity: &identity(),
        users: &Users,
        now: Now::read(),
        server_challenge: [4; 8],
        ntlm: true,
        kerberos: None,
        random: &mut random,
    };
    acceptor.step(token, &mut inputs)
}

/// Runs the SPNEGO + NTLMSSP exchange as a client would; returns the acceptor's verdict and the
/// client's session key.
fn sign_in(user: &str, password: &str, send_mic: bool) -> (Step, [u8; 16], Vec<u8>) {
    let mut acceptor = Acceptor::default();
    let negotiate = ntlm::Negotiate { flags: ntlm::flags::CLIENT }.encode();
    let first = spnego::encode_init(&[OID_NTLMSSP], &negotiate);
    let Step::Continue(reply) = ntlm_step(&mut acceptor, &first) else { panic!("expected a challenge") };
    let resp = spnego::parse_server_token(&reply).unwrap();
    assert_eq!(resp.neg_state, Some(NegState::AcceptIncomplete));
    let challenge = resp.response_token.unwrap();
    let outcome =
        client::authenticate(&negotiate, &challenge, user, "WORKGROUP", password, [8; 8], [0x42; 16]).unwrap();
    let mech_types = spnego::mech_types_der(&[OID_NTLMSSP]);
    let mic =
        send_mic.then(|| ntlm::SealingKeys::client_to_server(&outcome.session_key, outcome.flags).sign(&mech_types));
    let second = spnego::encode_client_resp(&outcome.authenticate, mic.as_ref().map(|m| &m[..]));
    let step = ntlm_step(&mut acceptor, &second);
    (step, outcome.session_key, mech_types)
}

#[test]
fn a_known_user_with_the_right_password_is_authenticated_with_the_clients_key() {
    let (step, key, mech_types) = sign_in("alice", "correct horse", true);
    let Step::Done(done) = step else { panic!("not authenticated") };
    assert!(matches!(&done.client, Client::Local(user) if user == "alice"));
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
    let step = ntlm_step(&mut Acceptor::default(), &token);
    assert!(matches!(step, Step::Failed(Failure::NoCommonMechanism)));
}

#[test]
fn garbage_tokens_fail_without_panicking() {
    for token in [&[][..], &[0x60, 0x80], b"NTLMSSP\0\x03\0\0\0", &[0xa1, 0x00]] {
        let step = ntlm_step(&mut Acceptor::default(), token);
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
    let Step::Continue(reply) = ntlm_step(&mut acceptor, &first) else { panic!("expected a challenge") };
    let challenge = spnego::parse_server_token(&reply).unwrap().response_token.unwrap();
    let outcome =
        client::authenticate(&negotiate, &challenge, "alice", "WORKGROUP", "correct horse", [8; 8], [0x42; 16])
            .unwrap();
    let stripped = without_mic_field(&outcome.authenticate);
    assert_eq!(ntlm::Authenticate::decode(&stripped).unwrap().mic_offset, None, "no room left for a MIC");
    let mech_types = spnego::mech_types_der(&[OID_NTLMSSP]);
    let mic = ntlm::SealingKeys::client_to_server(&outcome.session_key, outcome.flags).sign(&mech_types);
    let second = spnego::encode_client_resp(&stripped, Some(&mic));
    let Step::Failed(failure) = ntlm_step(&mut acceptor, &second) else { panic!("accepted") };
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
        let Step::Continue(_) = ntlm_step(&mut acceptor, &first) else { panic!("expected a challenge") };
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
        let Step::Failed(failure) = ntlm_step(&mut acceptor, &second) else { panic!("accepted") };
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

// Kerberos through SPNEGO, with the MIT realm's tokens of tests/data/kerberos (README.txt).

use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::auth::kerberos::crypto::Enctype;
use crate::auth::kerberos::messages::gss::{OID_KRB5, OID_MS_KRB5};

/// The authenticators' ctime in the fixtures (README.txt `authenticator_ctime`).
const FIXTURE_TIME: u64 = 1_796_616_256;

fn kerberos_fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kerberos").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// An acceptor's environment with the fixtures' keytab, at the fixtures' time. The
/// "randomness" is 0x11 bytes, so the acceptor subkey of an AES-256 context is 32 of them.
struct Realm {
    keytab: Keytab,
    replay: Mutex<ReplayCache>,
    ntlm: bool,
}

impl Realm {
    fn new() -> Realm {
        let keytab = Keytab::parse(&kerberos_fixture("service.keytab")).unwrap();
        Realm { keytab, replay: Mutex::default(), ntlm: true }
    }

    fn step(&self, acceptor: &mut Acceptor, token: &[u8]) -> Step {
        let mut random = |buffer: &mut [u8]| buffer.fill(0x11);
        let now = Now { instant: Instant::now(), system: UNIX_EPOCH + Duration::from_secs(FIXTURE_TIME + 1) };
        let mut inputs = Inputs {
            identity: &identity(),
            users: &Users,
            now,
            server_challenge: [4; 8],
            ntlm: self.ntlm,
            kerberos: Some(KerberosInputs {
                keytab: &self.keytab,
                tgts: &[],
                policy: Policy::default(),
                replay: &self.replay,
            }),
            random: &mut random,
        };
        acceptor.step(token, &mut inputs)
    }
}

fn ap_req() -> Vec<u8> {
    kerberos_fixture("ap-req-aes256-cts-hmac-sha1-96.bin")
}

fn kerberos_client(step: &Step) -> &Accepted {
    match step {
        Step::Done(done) => match &done.client {
            Client::Kerberos(accepted) => accepted,
            Client::Local(user) => panic!("signed in as the local user {user}"),
        },
        Step::Failed(failure) => panic!("refused: {}", failure.reason()),
        Step::Continue(_) => panic!("not finished"),
    }
}

#[test]
fn an_optimistic_kerberos_token_signs_in_at_once_with_the_ap_rep_and_the_acceptor_subkey() {
    let realm = Realm::new();
    let token = spnego::encode_init(&[OID_MS_KRB5, OID_KRB5, OID_NTLMSSP], &ap_req());
    let step = realm.step(&mut Acceptor::default(), &token);
    let accepted = kerberos_client(&step);
    assert_eq!(accepted.client.to_string(), "alice@EXAMPLE.COM");
    assert_eq!(accepted.service.to_string(), "cifs/fs.example.com@EXAMPLE.COM");
    let Step::Done(done) = &step else { unreachable!() };
    // The session key is the acceptor subkey, whole (32 bytes of AES-256), as Windows takes it.
    assert_eq!(*done.session_key, vec![0x11; 32]);
    let resp = spnego::parse_server_token(&done.response_token).unwrap();
    assert_eq!(resp.neg_state, Some(NegState::AcceptCompleted));
    // supportedMech is the client's choice as it named it: the Microsoft OID, listed first.
    assert_eq!(resp.supported_mech.as_deref(), Some(OID_MS_KRB5));
    assert_eq!(resp.response_token, accepted.reply, "the AP-REP for mutual authentication");
    assert_eq!(resp.mech_list_mic, None, "Kerberos was the client's first choice: no MIC exchange");
}

#[test]
fn a_bare_kerberos_token_gets_a_bare_ap_rep() {
    let realm = Realm::new();
    let step = realm.step(&mut Acceptor::default(), &ap_req());
    let accepted = kerberos_client(&step);
    let Step::Done(done) = &step else { unreachable!() };
    assert_eq!(Some(&done.response_token), accepted.reply.as_ref());
    assert_eq!(done.response_token[0], 0x60, "a GSS-API framed AP-REP, not SPNEGO");
}

#[test]
fn the_same_ticket_and_authenticator_twice_is_a_replay() {
    let realm = Realm::new();
    let token = spnego::encode_init(&[OID_KRB5], &ap_req());
    kerberos_client(&realm.step(&mut Acceptor::default(), &token));
    let Step::Failed(failure) = realm.step(&mut Acceptor::default(), &token) else { panic!("accepted twice") };
    assert_eq!(failure.status(), NtStatus::LOGON_FAILURE);
    assert!(failure.reason().contains("presented before"), "{}", failure.reason());
}

#[test]
fn kerberos_second_in_the_clients_list_needs_both_mechanism_list_mics() {
    // NEGOEX (1.3.6.1.4.1.311.2.2.30), which the server does not speak, first.
    let negoex: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e];
    let mechs = [negoex, OID_KRB5];
    let mech_types = spnego::mech_types_der(&mechs);
    let token = spnego::encode_init(&mechs, b"a NEGOEX message");

    // Each run on a fresh server: the same authenticator twice would be a replay.
    let run = |client_mic: Option<Vec<u8>>| -> Step {
        let realm = Realm::new();
        let mut acceptor = Acceptor::default();
        let Step::Continue(first) = realm.step(&mut acceptor, &token) else { panic!("no mechanism selected") };
        let first = spnego::parse_server_token(&first).unwrap();
        assert_eq!(first.supported_mech.as_deref(), Some(OID_KRB5));
        assert_eq!(first.response_token, None);
        let reply = realm.step(&mut acceptor, &spnego::encode_client_resp(&ap_req(), None));
        let reply = match reply {
            Step::Continue(reply) => reply,
            Step::Failed(failure) => panic!("refused: {}", failure.reason()),
            Step::Done(_) => panic!("finished without the client's MIC"),
        };
        let reply = spnego::parse_server_token(&reply).unwrap();
        assert_eq!(reply.neg_state, Some(NegState::AcceptIncomplete));
        // Our MIC is under the acceptor subkey (32 bytes of 0x11) with the acceptor's flags.
        let subkey = Key::new(Enctype::Aes256CtsHmacSha1, &[0x11; 32]).unwrap();
        let ours = reply.mech_list_mic.expect("the server's mechListMIC");
        assert_eq!(&ours[..3], &[0x04, 0x04, 0x05], "MIC token, sent by the acceptor, acceptor subkey");
        // Its sequence number is the AP-REP's (0x11111111 with the top two bits clear).
        assert_eq!(ours, mic::acceptor_mic(&subkey, true, 0x1111_1111, &mech_types).unwrap());
        let last = spnego::encode_resp(&NegTokenResp { mech_list_mic: client_mic, ..NegTokenResp::default() });
        realm.step(&mut acceptor, &last)
    };
    // The client's MIC: as the acceptor's, with the direction flag clear and usage 25.
    let subkey = Key::new(Enctype::Aes256CtsHmacSha1, &[0x11; 32]).unwrap();
    let mut header = vec![0x04, 0x04, 0x04, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    header.extend(7_u64.to_be_bytes());
    let mut signed = mech_types.clone();
    signed.extend(&header);
    let mut client_mic = header;
    client_mic.extend(crate::auth::kerberos::crypto::checksum(&subkey, 25, &signed));

    let Step::Done(done) = run(Some(client_mic.clone())) else { panic!("the right MIC was refused") };
    assert_eq!(spnego::parse_server_token(&done.response_token).unwrap().neg_state, Some(NegState::AcceptCompleted));
    let mut altered = client_mic;
    *altered.last_mut().unwrap() ^= 1;
    for mic in [None, Some(altered)] {
        let Step::Failed(failure) = run(mic) else { panic!("a missing or wrong MIC was accepted") };
        assert!(failure.reason().contains("mechanism list"), "{}", failure.reason());
    }
}

#[test]
fn with_ntlm_refused_ntlm_alone_is_refused_and_kerberos_still_signs_in() {
    let mut realm = Realm::new();
    realm.ntlm = false;
    let negotiate = ntlm::Negotiate { flags: ntlm::flags::CLIENT }.encode();
    for token in [spnego::encode_init(&[OID_NTLMSSP], &negotiate), negotiate.clone()] {
        let Step::Failed(failure) = realm.step(&mut Acceptor::default(), &token) else { panic!("NTLM accepted") };
        assert_eq!(failure, Failure::NtlmRefused);
    }
    // A client offering both with an NTLM token first is asked for Kerberos instead.
    let both = spnego::encode_init(&[OID_NTLMSSP, OID_KRB5], &negotiate);
    let Step::Continue(reply) = realm.step(&mut Acceptor::default(), &both) else { panic!("no selection") };
    assert_eq!(spnego::parse_server_token(&reply).unwrap().supported_mech.as_deref(), Some(OID_KRB5));
    let token = spnego::encode_init(&[OID_KRB5, OID_NTLMSSP], &ap_req());
    kerberos_client(&realm.step(&mut Acceptor::default(), &token));
}

#[test]
fn a_ticket_for_a_service_the_keytab_does_not_hold_is_a_logon_failure() {
    let mut realm = Realm::new();
    realm.keytab = Keytab::parse(
        &std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kerberos-ad/service.keytab"))
            .unwrap(),
    )
    .unwrap();
    let token = spnego::encode_init(&[OID_KRB5], &ap_req());
    let Step::Failed(failure) = realm.step(&mut Acceptor::default(), &token) else { panic!("accepted") };
    assert_eq!(failure.status(), NtStatus::LOGON_FAILURE);
    assert!(failure.reason().contains("not in the keytab"), "{}", failure.reason());
}

#[test]
fn the_negotiate_hint_lists_kerberos_only_with_a_keytab_and_ntlm_only_when_allowed() {
    let mechs = |kerberos, ntlm| {
        let ClientToken::Init(init) = spnego::parse_client_token(&negotiate_hint(kerberos, ntlm)).unwrap() else {
            panic!("not a NegTokenInit2")
        };
        init.mech_types
    };
    assert_eq!(mechs(false, true), [OID_NTLMSSP]);
    assert_eq!(mechs(true, true), [OID_MS_KRB5, OID_KRB5, OID_NTLMSSP]);
    assert_eq!(mechs(true, false), [OID_MS_KRB5, OID_KRB5]);
}
