//! SESSION_SETUP (MS-SMB2 3.3.5.5): authentication legs, account lockout, key derivation and
//! the session's signing and encryption requirements.

use crate::auth::{self, Step};
use crate::crypto::{Encryptor, SessionKeys, Signer};
use crate::engine::config::same_name;
use crate::engine::connection::Connection;
use crate::engine::dispatch::{Done, Error, Outcome, Preauth, Request};
use crate::engine::events::Event;
use crate::engine::ids::SessionId;
use crate::engine::session::{Identity, Session, SessionCrypto, SessionState};
use crate::engine::shared::{Control, Counter, Refusal, Users, lock};
use crate::proto::negotiate::{Dialect, security_mode};
use crate::proto::session_setup::{SESSION_BINDING, SessionSetupRequest, SessionSetupResponse, session_flags};
use crate::proto::{NtStatus, Writer};

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = SessionSetupRequest::decode(req.message)?;
    if request.flags & SESSION_BINDING != 0 {
        // Multichannel is not offered, so there is no session to bind to.
        return Err(NtStatus::REQUEST_NOT_ACCEPTED.into());
    }
    let negotiated = conn.negotiated.as_ref().ok_or(NtStatus::INVALID_PARAMETER)?;
    let dialect = negotiated.dialect;
    let session_id = if req.session_id() == SessionId(0) {
        // The budget: sessions per connection, and of those, sessions still authenticating.
        let limits = conn.shared.runtime().config.server.limits;
        let in_progress = conn.sessions.values().filter(|s| s.identity().is_none()).count();
        if conn.sessions.len() >= limits.max_sessions_per_connection as usize
            || in_progress >= limits.max_sessions_in_progress as usize
        {
            conn.shared.refuse_client(Refusal::Sessions, conn.info.client.ip(), conn.last_activity);
            return Err(NtStatus::INSUFFICIENT_RESOURCES.into());
        }
        let id = conn.shared.next_session_id();
        conn.sessions.insert(id, Session::new(id, negotiated.preauth.clone(), conn.now.instant));
        id
    } else {
        let session = conn.sessions.get_mut(&req.session_id()).ok_or(NtStatus::USER_SESSION_DELETED)?;
        if let SessionState::Valid { .. } = session.state {
            // Re-authentication: the session keeps serving (and its keys) meanwhile.
            let SessionState::Valid { identity, crypto } = std::mem::replace(
                &mut session.state,
                SessionState::InProgress { acceptor: auth::Acceptor::default(), preauth: Default::default() },
            ) else {
                unreachable!("matched above")
            };
            session.state = SessionState::Reauthenticating {
                identity,
                crypto,
                acceptor: auth::Acceptor::default(),
                preauth: negotiated.preauth.clone(),
            };
        }
        req.session_id()
    };
    let runtime = conn.shared.runtime();
    let settings = &runtime.config.server;
    let identity = auth::ServerIdentity {
        computer: settings.computer_name.to_uppercase(),
        domain: settings.workgroup.to_uppercase(),
        dns_computer: settings.dns_name.clone(),
        dns_domain: settings.dns_name.split_once('.').map_or("", |(_, d)| d).to_owned(),
    };
    let (now, server_challenge) = (conn.now, conn.random());
    let session = conn.sessions.get_mut(&session_id).expect("created or found above");
    if let Some(preauth) = session.preauth_mut() {
        preauth.update(req.message);
    }
    let acceptor = match &mut session.state {
        SessionState::InProgress { acceptor, .. } | SessionState::Reauthenticating { acceptor, .. } => acceptor,
        SessionState::Valid { .. } => unreachable!("valid sessions were switched to re-authentication"),
    };
    let step = if request.security_buffer.is_empty() {
        Step::Continue(auth::negotiate_hint())
    } else {
        acceptor.step(&request.security_buffer, &identity, &Users(&runtime), now.filetime(), server_challenge)
    };
    match step {
        Step::Continue(token) => {
            SessionSetupResponse { session_flags: 0, security_buffer: token }.encode(out);
            Ok(Outcome::Done(Done {
                status: NtStatus::MORE_PROCESSING_REQUIRED,
                session_id: Some(session_id),
                preauth: Some(Preauth::Session(session_id)),
                ..Done::default()
            }))
        }
        Step::Failed(failure) => {
            // An account by its configured spelling: the lockout event stores the lock with it.
            let user = failure.user().map(|typed| runtime.user(typed).map_or(typed, |u| u.name.as_str()).to_owned());
            let locked = user.as_deref().is_some_and(|u| conn.shared.locked_out(u, now));
            // A name that is no account fails and locks as a wrong password does, so that the
            // lockout does not tell which names are accounts.
            let counted = matches!(failure, auth::Failure::WrongPassword { .. } | auth::Failure::UnknownUser { .. });
            if let (Some(user), true, false) = (&user, counted, locked)
                && let Some((until, failures)) = conn.shared.logon_failed(user, now)
            {
                conn.shared.emit(Event::AccountLockedOut { user: user.clone(), until, failures });
            }
            let status = if locked || user.as_deref().is_some_and(|u| conn.shared.locked_out(u, now)) {
                NtStatus::ACCOUNT_LOCKED_OUT
            } else if matches!(failure, auth::Failure::Malformed(_)) {
                NtStatus::INVALID_PARAMETER
            } else {
                NtStatus::LOGON_FAILURE
            };
            fail(conn, session_id, user, failure.reason(), status)
        }
        Step::Done(authenticated) => {
            // The session is the account as configured, whatever case the client typed: sessions,
            // permissions and the audit log then see one spelling.
            let Some(user) = runtime.user(&authenticated.user).map(|u| u.name.clone()) else {
                let reason = "the account is gone".to_owned();
                return fail(conn, session_id, Some(authenticated.user.clone()), reason, NtStatus::LOGON_FAILURE);
            };
            if conn.shared.locked_out(&user, now) {
                let reason = "account locked out".to_owned();
                return fail(conn, session_id, Some(user), reason, NtStatus::ACCOUNT_LOCKED_OUT);
            }
            let negotiated = conn.negotiated.as_ref().expect("negotiated above");
            let transport_protects = conn.transport_protects();
            let can_encrypt = dialect.is_smb3() && negotiated.cipher.is_some();
            if settings.encryption_required && !can_encrypt && !transport_protects {
                let reason = "the server requires encryption and the client cannot encrypt".to_owned();
                return fail(conn, session_id, Some(user), reason, NtStatus::ACCESS_DENIED);
            }
            let session = conn.sessions.get_mut(&session_id).expect("present");
            let previous = std::mem::replace(
                &mut session.state,
                SessionState::InProgress { acceptor: auth::Acceptor::default(), preauth: Default::default() },
            );
            let (crypto, reauthenticated) = match previous {
                SessionState::Reauthenticating { crypto, .. } => (crypto, true),
                SessionState::InProgress { preauth, .. } => {
                    let keys =
                        SessionKeys::derive(dialect, authenticated.session_key.as_ref(), &preauth.0, negotiated.cipher);
                    let signer = Signer::new(dialect, negotiated.signing_algorithm, &keys.signing)
                        .ok_or(NtStatus::INTERNAL_ERROR)?;
                    let (decryptor, encryptor) = match negotiated.cipher.filter(|_| dialect.is_smb3()) {
                        Some(cipher) => (
                            Some(Encryptor::new(cipher, &keys.decryption).map_err(|_| NtStatus::INTERNAL_ERROR)?),
                            Some(Encryptor::new(cipher, &keys.encryption).map_err(|_| NtStatus::INTERNAL_ERROR)?),
                        ),
                        None => (None, None),
                    };
                    let signing_algorithm = match dialect {
                        Dialect::SMB3_1_1 => negotiated.signing_algorithm,
                        d if d.is_smb3() => crate::proto::negotiate::SigningAlgorithm::AES_CMAC,
                        _ => crate::proto::negotiate::SigningAlgorithm::HMAC_SHA256,
                    };
                    (
                        Box::new(SessionCrypto {
                            signer,
                            signing_algorithm,
                            decryptor,
                            encryptor,
                            cipher: negotiated.cipher,
                        }),
                        false,
                    )
                }
                SessionState::Valid { crypto, .. } => (crypto, true),
            };
            session.signing_required = settings.signing_required
                || u16::from(request.security_mode) & security_mode::SIGNING_REQUIRED != 0
                || session.signing_required;
            session.encrypt_data = settings.encryption_required && can_encrypt && !transport_protects;
            session.state = SessionState::Valid { identity: Identity { user: user.clone() }, crypto };
            let flags = if session.encrypt_data { session_flags::ENCRYPT_DATA } else { 0 };
            let signing = if session.signing_required {
                session.crypto().map_or("", |c| c.signing_algorithm.name()).to_owned()
            } else {
                "off".to_owned()
            };
            let encryption = if session.encrypt_data {
                negotiated.cipher.map_or("AES-128-CCM", |c| c.name()).to_owned()
            } else if transport_protects {
                "QUIC (TLS 1.3)".to_owned()
            } else {
                "off".to_owned()
            };
            SessionSetupResponse { session_flags: flags, security_buffer: authenticated.response_token.clone() }
                .encode(out);
            conn.shared.logon_succeeded(&user);
            conn.shared.count(Counter::Logons, 1);
            let previous = SessionId(request.previous_session_id);
            if !reauthenticated && previous != SessionId(0) && previous != session_id {
                end_previous_session(conn, previous, &user);
            }
            if !reauthenticated {
                conn.shared.emit(Event::LogonSucceeded {
                    connection: conn.info.id.0,
                    client: conn.info.client,
                    user,
                    dialect: dialect.name(),
                    signing,
                    encryption,
                });
            }
            Ok(Outcome::Done(Done { session_id: Some(session_id), ..Done::default() }))
        }
    }
}

/// A client reconnecting names the session it had (MS-SMB2 3.3.5.5.3, PreviousSessionId): that
/// session ends, with its opens, when it belongs to the same user, wherever it is.
fn end_previous_session(conn: &mut Connection, previous: SessionId, user: &str) {
    if conn.sessions.get(&previous).and_then(|s| s.identity()).is_some_and(|i| same_name(&i.user, user)) {
        conn.ending_sessions.push(previous);
        return;
    }
    let holder = lock(&conn.shared.connections).iter().find_map(|(id, entry)| {
        entry.sessions.iter().any(|s| s.session_id == previous.0 && same_name(&s.user, user)).then_some(*id)
    });
    if let Some(connection) = holder.filter(|c| *c != conn.info.id) {
        conn.shared.control(connection, Control::CloseSession { session_id: previous });
    }
}

/// Ends a failed session setup: the session goes, the failure is counted and told.
fn fail(
    conn: &mut Connection,
    session_id: SessionId,
    user: Option<String>,
    reason: String,
    status: NtStatus,
) -> Result<Outcome, Error> {
    match conn.sessions.get(&session_id).map(|s| &s.state) {
        // A failed re-authentication ends the session too (MS-SMB2 3.3.5.5.3), once its error
        // reply is signed with the session's key, as the client expects.
        Some(SessionState::Reauthenticating { .. }) => conn.ending_sessions.push(session_id),
        Some(SessionState::InProgress { .. }) => crate::engine::handlers::logoff::end_session(conn, session_id),
        _ => {}
    }
    tracing::info!(connection = %conn.info.id, client = %conn.info.client, user = user.as_deref().unwrap_or("-"), %reason, ?status, "logon failed");
    conn.shared.count(Counter::LogonFailures, 1);
    conn.shared.emit(Event::LogonFailed { connection: conn.info.id.0, client: conn.info.client, user, reason, status });
    Err(status.into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::auth::ntlm::{self, client};
    use crate::auth::spnego::{self, OID_NTLMSSP};
    use crate::engine::config::{EngineConfig, LockoutPolicy, UserConfig};
    use crate::engine::connection::ConnectionInfo;
    use crate::engine::shared::Shared;
    use crate::proto::Reader;
    use crate::proto::header::{Command, Header};
    use crate::proto::negotiate::NegotiateRequest;
    use crate::proto::session_setup::SessionSetupRequest;

    /// Émile (configured with an acute capital) and alice, locked after three failures.
    fn engine() -> Arc<Shared> {
        let mut config = EngineConfig::default();
        config.server.lockout =
            LockoutPolicy { threshold: 3, window: Duration::from_secs(60), duration: Duration::from_secs(600) };
        config.users = ["Émile", "alice"]
            .map(|name| UserConfig {
                name: name.into(),
                nt_hash: ntlm::nt_hash("correct horse"),
                enabled: true,
                locked_until: None,
            })
            .into();
        Shared::new(config)
    }

    /// A client on an in-memory connection, negotiated (SMB 3.0.2).
    struct Client {
        conn: Connection,
        message_id: u64,
    }

    impl Client {
        fn new(shared: Arc<Shared>) -> Client {
            let now = crate::engine::clock::Now::read();
            let info = ConnectionInfo::tcp(
                crate::engine::ids::ConnectionId(1),
                "127.0.0.1:50000".parse().unwrap(),
                "127.0.0.1:445".parse().unwrap(),
                now.instant,
            );
            let mut client = Client { conn: Connection::new(shared, info, now), message_id: 0 };
            let negotiate = NegotiateRequest {
                security_mode: 1,
                capabilities: 0x7F,
                client_guid: [9; 16],
                dialects: vec![Dialect::SMB3_0_2],
                contexts: Vec::new(),
            };
            let (status, ..) = client.send(Command::NEGOTIATE, 0, |out| negotiate.encode(out));
            assert_eq!(status, NtStatus::SUCCESS);
            client
        }

        /// One request; the response's status, session id and SESSION_SETUP security buffer.
        fn send(
            &mut self,
            command: Command,
            session_id: u64,
            body: impl FnOnce(&mut Writer),
        ) -> (NtStatus, u64, Vec<u8>) {
            let mut out = Writer::new();
            Header { command, credits: 64, message_id: self.message_id, session_id, ..Header::default() }
                .encode(&mut out);
            body(&mut out);
            self.message_id += 1;
            let output = self.conn.receive(&mut out.into_vec(), crate::engine::clock::Now::read());
            let frame = output.frames.last().expect("a response");
            let message = &frame.as_slice()[crate::proto::framing::HEADER_LENGTH..];
            let header = Header::decode(&mut Reader::new(message)).unwrap();
            let token = if command == Command::SESSION_SETUP {
                SessionSetupResponse::decode(message).map(|r| r.security_buffer).unwrap_or_default()
            } else {
                Vec::new()
            };
            (header.status, header.session_id, token)
        }

        /// Signs in as `user` (SPNEGO, NTLMv2 with MIC and mechListMIC): the final status and
        /// the session id.
        fn sign_in(&mut self, user: &str, password: &str) -> (NtStatus, u64) {
            let negotiate = ntlm::Negotiate { flags: ntlm::flags::CLIENT }.encode();
            let request =
                |token: Vec<u8>| SessionSetupRequest { security_mode: 1, security_buffer: token, ..Default::default() };
            let first = request(spnego::encode_init(&[OID_NTLMSSP], &negotiate));
            let (status, session_id, reply) = self.send(Command::SESSION_SETUP, 0, |out| first.encode(out));
            assert_eq!(status, NtStatus::MORE_PROCESSING_REQUIRED);
            let challenge = spnego::parse_server_token(&reply).unwrap().response_token.unwrap();
            let outcome =
                client::authenticate(&negotiate, &challenge, user, "WORKGROUP", password, [8; 8], [0x42; 16]).unwrap();
            let mech_types = spnego::mech_types_der(&[OID_NTLMSSP]);
            let mic = ntlm::SealingKeys::client_to_server(&outcome.session_key, outcome.flags).sign(&mech_types);
            let second = request(spnego::encode_client_resp(&outcome.authenticate, Some(&mic)));
            let (status, ..) = self.send(Command::SESSION_SETUP, session_id, |out| second.encode(out));
            (status, session_id)
        }
    }

    #[test]
    fn a_logon_in_another_case_is_a_session_of_the_account_as_configured() {
        let mut client = Client::new(engine());
        let (status, session_id) = client.sign_in("ÉMILE", "correct horse");
        assert_eq!(status, NtStatus::SUCCESS);
        let identity = client.conn.sessions[&SessionId(session_id)].identity().expect("authenticated").clone();
        assert_eq!(identity.user, "Émile");
    }

    #[test]
    fn a_name_that_is_no_account_answers_as_an_account_does_through_lockout() {
        let shared = engine();
        let mut client = Client::new(shared.clone());
        let statuses = |client: &mut Client, user: &str| -> Vec<NtStatus> {
            (0..5).map(|_| client.sign_in(user, "wrong password").0).collect()
        };
        let account = statuses(&mut client, "émile");
        let made_up = statuses(&mut client, "émilie");
        assert_eq!(account, made_up);
        // The third failure locks (the threshold), and says so.
        assert_eq!(account[..2], [NtStatus::LOGON_FAILURE; 2]);
        assert_eq!(account[2..], [NtStatus::ACCOUNT_LOCKED_OUT; 3]);
        // Once locked, the right password does not tell either: the account is locked too.
        assert_eq!(client.sign_in("Émile", "correct horse").0, NtStatus::ACCOUNT_LOCKED_OUT);
    }
}
