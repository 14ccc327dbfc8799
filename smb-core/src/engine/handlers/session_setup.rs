//! SESSION_SETUP (MS-SMB2 3.3.5.5): authentication legs, account lockout, key derivation and
//! the session's signing and encryption requirements.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::auth::kerberos::acceptor::Policy;
use crate::auth::kerberos::pac::{SidAndAttributes, group_attributes};
use crate::auth::{self, Step};
use crate::crypto::{Encryptor, SessionKeys, Signer};
use crate::engine::channels::{Bind, Channel};
use crate::engine::config::same_name;
use crate::engine::connection::Connection;
use crate::engine::dispatch::{Done, Error, Outcome, Preauth, Request};
use crate::engine::events::Event;
use crate::engine::ids::SessionId;
use crate::engine::session::{Identity, Session, SessionCrypto, SessionState};
use crate::engine::shared::{Control, Counter, Refusal, Runtime, Users, lock};
use crate::proto::negotiate::{Dialect, SigningAlgorithm, capabilities, security_mode};
use crate::proto::session_setup::{SESSION_BINDING, SessionSetupRequest, SessionSetupResponse, session_flags};
use crate::proto::{NtStatus, Writer};

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = SessionSetupRequest::decode(req.message)?;
    if request.flags & SESSION_BINDING != 0 && req.session_id() != SessionId(0) {
        return bind(conn, req, &request, out);
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
        conn.sessions.insert(id, Session::new(id, negotiated.preauth.clone(), conn.info.id, conn.now.instant));
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
    let context = AuthContext::of(conn);
    let now = context.now;
    let session = conn.sessions.get_mut(&session_id).expect("created or found above");
    if let Some(preauth) = session.preauth_mut() {
        preauth.update(req.message);
    }
    let acceptor = match &mut session.state {
        SessionState::InProgress { acceptor, .. } | SessionState::Reauthenticating { acceptor, .. } => acceptor,
        SessionState::Valid { .. } => unreachable!("valid sessions were switched to re-authentication"),
    };
    let step = context.step(acceptor, &request.security_buffer);
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
            let status = if counted && (locked || user.as_deref().is_some_and(|u| conn.shared.locked_out(u, now))) {
                NtStatus::ACCOUNT_LOCKED_OUT
            } else {
                failure.status()
            };
            fail(conn, session_id, user, failure.reason(), status)
        }
        Step::Done(authenticated) => {
            let identity = match identity_of(&runtime, &authenticated.client) {
                Ok(identity) => identity,
                Err((user, reason)) => return fail(conn, session_id, Some(user), reason, NtStatus::LOGON_FAILURE),
            };
            let user = identity.user.clone();
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
                    let signing_algorithm = signing_algorithm(dialect, negotiated.signing_algorithm);
                    (
                        Box::new(SessionCrypto {
                            signer: std::sync::Arc::new(signer),
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
            session.state = SessionState::Valid { identity, crypto };
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

/// A session of another connection joins this one as a channel (MS-SMB2 3.3.5.5 step 4 and
/// 3.3.5.5.3): the checks Windows makes, in its order, then an authentication of its own by
/// the session's user, whose key makes the channel's signing key.
fn bind(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &SessionSetupRequest,
    out: &mut Writer,
) -> Result<Outcome, Error> {
    let session_id = req.session_id();
    let negotiated = conn.negotiated.as_ref().ok_or(NtStatus::INVALID_PARAMETER)?;
    let dialect = negotiated.dialect;
    let algorithm = signing_algorithm(dialect, negotiated.signing_algorithm);
    if !conn.binds.contains_key(&session_id) {
        let slot = lock(&conn.shared.sessions).get(session_id);
        let Some(slot) = slot else { return Err(NtStatus::USER_SESSION_DELETED.into()) };
        // A session still signing in cannot take channels.
        let facts = slot.facts().ok_or(NtStatus::REQUEST_NOT_ACCEPTED)?;
        let gmac = SigningAlgorithm::AES_GMAC;
        let status = if facts.signing_algorithm == gmac && algorithm != gmac {
            Some(NtStatus::REQUEST_OUT_OF_SEQUENCE)
        } else if algorithm == gmac && facts.signing_algorithm != gmac {
            Some(NtStatus::NOT_SUPPORTED)
        } else if !dialect.is_smb3() || negotiated.server_capabilities & capabilities::MULTI_CHANNEL == 0 {
            Some(NtStatus::REQUEST_NOT_ACCEPTED)
        } else if facts.dialect != dialect || facts.cipher != negotiated.cipher || !req.header.is_signed() {
            // One session has one dialect and one cipher key on all its channels.
            Some(NtStatus::INVALID_PARAMETER)
        } else if conn.channels.contains_key(&session_id) {
            Some(NtStatus::REQUEST_NOT_ACCEPTED)
        } else {
            None
        };
        if let Some(status) = status {
            tracing::info!(connection = %conn.info.id, session = session_id.0, ?status, "session binding refused");
            return Err(status.into());
        }
        let preauth = negotiated.preauth.clone();
        conn.binds.insert(session_id, Bind { slot, facts, acceptor: auth::Acceptor::default(), preauth });
    }
    // Signed with the session's key (MS-SMB2 3.3.5.2.4), every leg.
    let bind = conn.binds.get(&session_id).expect("present");
    if !verifies(&bind.facts.signer, req) {
        conn.binds.remove(&session_id);
        tracing::info!(connection = %conn.info.id, session = session_id.0, "session binding with a bad signature");
        return Err(NtStatus::ACCESS_DENIED.into());
    }
    let context = AuthContext::of(conn);
    let bind = conn.binds.get_mut(&session_id).expect("present");
    bind.preauth.update(req.message);
    match context.step(&mut bind.acceptor, &request.security_buffer) {
        Step::Continue(token) => {
            SessionSetupResponse { session_flags: 0, security_buffer: token }.encode(out);
            Ok(Outcome::Done(Done {
                status: NtStatus::MORE_PROCESSING_REQUIRED,
                session_id: Some(session_id),
                ..Done::default()
            }))
        }
        Step::Failed(failure) => {
            conn.binds.remove(&session_id);
            let user = failure.user().map(str::to_owned);
            // The session goes on over its other channels.
            refuse_bind(conn, user, failure.reason(), failure.status())
        }
        Step::Done(authenticated) => {
            let bind = conn.binds.remove(&session_id).expect("present");
            let identity = match identity_of(&context.runtime, &authenticated.client) {
                Ok(identity) => identity,
                Err((user, reason)) => return refuse_bind(conn, Some(user), reason, NtStatus::LOGON_FAILURE),
            };
            if !same_name(&identity.user, &bind.facts.user) {
                // Windows' answer when another user binds (smbtorture bind_different_user).
                let reason = format!("binding a session of {} as another user", bind.facts.user);
                return refuse_bind(conn, Some(identity.user), reason, NtStatus::ACCESS_DENIED);
            }
            let cipher = conn.negotiated.as_ref().and_then(|n| n.cipher);
            let keys = SessionKeys::derive(dialect, authenticated.session_key.as_ref(), &bind.preauth.0, cipher);
            let signer = Signer::new(dialect, algorithm, &keys.signing).ok_or(NtStatus::INTERNAL_ERROR)?;
            if !bind.slot.bind(conn.info.id) {
                conn.shared.refuse_client(Refusal::Sessions, conn.info.client.ip(), conn.last_activity);
                return Err(NtStatus::INSUFFICIENT_RESOURCES.into());
            }
            conn.channels.insert(session_id, Channel { slot: bind.slot, signer: Some(Arc::new(signer)) });
            SessionSetupResponse { session_flags: 0, security_buffer: authenticated.response_token.clone() }
                .encode(out);
            tracing::info!(connection = %conn.info.id, client = %conn.info.client, session = session_id.0, user = %identity.user, "a new channel of the session");
            conn.shared.emit(Event::ChannelBound {
                connection: conn.info.id.0,
                client: conn.info.client,
                user: identity.user,
                session_id: session_id.0,
            });
            Ok(Outcome::Done(Done { session_id: Some(session_id), ..Done::default() }))
        }
    }
}

/// The signing algorithm a dialect uses (3.1.1 negotiates one; 3.0 and 3.0.2 AES-CMAC; 2.x
/// HMAC-SHA256).
fn signing_algorithm(dialect: Dialect, negotiated: SigningAlgorithm) -> SigningAlgorithm {
    match dialect {
        Dialect::SMB3_1_1 => negotiated,
        d if d.is_smb3() => SigningAlgorithm::AES_CMAC,
        _ => SigningAlgorithm::HMAC_SHA256,
    }
}

/// Whether a request's signature is `signer`'s (MS-SMB2 3.3.5.2.4).
fn verifies(signer: &Signer, req: &Request<'_>) -> bool {
    let mut message = req.message.to_vec();
    message[crate::proto::header::SIGNATURE_OFFSET..crate::proto::header::HEADER_SIZE].fill(0);
    signer.sign(&message, req.header.message_id, false, false) == req.header.signature
}

/// A failed binding: told and counted like a failed logon; the session is untouched.
fn refuse_bind(
    conn: &mut Connection,
    user: Option<String>,
    reason: String,
    status: NtStatus,
) -> Result<Outcome, Error> {
    tracing::info!(connection = %conn.info.id, client = %conn.info.client, user = user.as_deref().unwrap_or("-"), %reason, ?status, "session binding failed");
    conn.shared.count(Counter::LogonFailures, 1);
    conn.shared.emit(Event::LogonFailed { connection: conn.info.id.0, client: conn.info.client, user, reason, status });
    Err(status.into())
}

/// What one authentication leg needs from the connection, taken before the acceptor (kept in a
/// session or a binding of the connection) is borrowed.
struct AuthContext {
    runtime: Arc<Runtime>,
    shared: Arc<crate::engine::shared::Shared>,
    now: crate::engine::clock::Now,
    server_challenge: [u8; 8],
    seed: [u8; 32],
}

impl AuthContext {
    fn of(conn: &mut Connection) -> AuthContext {
        AuthContext {
            runtime: conn.shared.runtime(),
            shared: conn.shared.clone(),
            now: conn.now,
            server_challenge: conn.random(),
            seed: conn.random(),
        }
    }

    /// One leg: NTLM or Kerberos through SPNEGO, or the mechanism list for an empty token.
    fn step(&self, acceptor: &mut auth::Acceptor, security_buffer: &[u8]) -> Step {
        let runtime = &self.runtime;
        if security_buffer.is_empty() {
            return Step::Continue(runtime.negotiate_hint());
        }
        let settings = &runtime.config.server;
        let identity = auth::ServerIdentity {
            computer: settings.computer_name.to_uppercase(),
            domain: settings.workgroup.to_uppercase(),
            dns_computer: settings.dns_name.clone(),
            dns_domain: settings.dns_name.split_once('.').map_or("", |(_, d)| d).to_owned(),
        };
        let mut rng = StdRng::from_seed(self.seed);
        let mut random = |buffer: &mut [u8]| rng.fill_bytes(buffer);
        let tgts = self.shared.service_tickets();
        let mut inputs = auth::Inputs {
            identity: &identity,
            users: &Users(runtime),
            now: self.now,
            server_challenge: self.server_challenge,
            ntlm: runtime.ntlm_allowed(),
            kerberos: runtime.kerberos_enabled().then(|| auth::KerberosInputs {
                keytab: &runtime.keytab,
                tgts: &tgts,
                policy: Policy { skew: runtime.config.kerberos.max_skew },
                replay: &self.shared.replay,
            }),
            random: &mut random,
        };
        acceptor.step(security_buffer, &mut inputs)
    }
}

/// The identity a session is for. A local user by NTLM is the account as configured, whatever
/// case the client typed: sessions, permissions and the audit log then see one spelling. A
/// Kerberos principal is the local user it is mapped to; else, with a PAC that has logon
/// information (Active Directory), `DOMAIN\user` with its SIDs; else `user@REALM`. A refusal
/// names the user and why.
fn identity_of(runtime: &Runtime, client: &auth::Client) -> Result<Identity, (String, String)> {
    let local =
        |name: &str| runtime.user(name).filter(|user| user.enabled).map(|user| Identity::local(user.name.clone()));
    match client {
        auth::Client::Local(name) => local(name).ok_or_else(|| (name.clone(), "the account is gone".to_owned())),
        auth::Client::Kerberos(accepted) => {
            let principal = accepted.client.to_string();
            if let Some(mapped) = runtime.mapped_user(&principal) {
                let mut identity = local(mapped).ok_or_else(|| {
                    (principal.clone(), format!("mapped to the local user {mapped}, which is missing or disabled"))
                })?;
                identity.aliases.push(principal);
                return Ok(identity);
            }
            // MIT's KDC puts a PAC without logon information in every ticket: no SIDs.
            let Some(pac) = accepted.pac.as_ref().filter(|pac| pac.logon_info.is_some()) else {
                return Ok(Identity::local(principal));
            };
            let mut aliases = vec![principal];
            aliases.extend(pac.upn().filter(|upn| !upn.is_empty()).map(str::to_owned));
            let (deny_only, groups): (Vec<_>, Vec<_>) = pac
                .group_sids()
                .into_iter()
                .partition(|group| group.attributes & group_attributes::USE_FOR_DENY_ONLY != 0);
            let text = |sids: Vec<SidAndAttributes>| sids.into_iter().map(|g| g.sid.to_string()).collect::<Vec<_>>();
            let mut sids: Vec<String> = pac.user_sid().map(|sid| sid.to_string()).into_iter().collect();
            sids.extend(text(groups));
            let domain = pac.domain().unwrap_or(&accepted.client.realm);
            Ok(Identity {
                user: format!("{domain}\\{}", pac.user_name()),
                aliases,
                sids,
                deny_only_sids: text(deny_only),
            })
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
        conn.shared.control(connection, Control::ExpireSession { session_id: previous });
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
    use crate::engine::clock::Now;
    use crate::engine::config::{Access, EngineConfig, LockoutPolicy, UserConfig};
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
        now: Now,
    }

    impl Client {
        fn new(shared: Arc<Shared>) -> Client {
            Client::at(shared, Now::read())
        }

        /// A client whose requests arrive at `now` (Kerberos fixtures are valid on their day).
        fn at(shared: Arc<Shared>, now: Now) -> Client {
            let info = ConnectionInfo::tcp(
                crate::engine::ids::ConnectionId(1),
                "127.0.0.1:50000".parse().unwrap(),
                "127.0.0.1:445".parse().unwrap(),
                now.instant,
            );
            let mut client = Client { conn: Connection::new(shared, info, now), message_id: 0, now };
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
            let output = self.conn.receive(&mut out.into_vec(), self.now);
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
        let identity = client.conn.identity_of(SessionId(session_id)).expect("authenticated");
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

    // Kerberos, with the fixtures of tests/data/kerberos (MIT) and tests/data/kerberos-ad
    // (Samba AD); their README.txt gives the values used here.

    fn fixture(realm: &str, name: &str) -> Vec<u8> {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(realm).join(name))
            .unwrap()
    }

    /// A server with the realm's keytab and the shares given as (name, permissions).
    fn kerberos_engine(realm: &str, shares: &[(&str, &[(&str, Access)])]) -> Arc<Shared> {
        let mut config = EngineConfig::default();
        config.kerberos.keys = crate::auth::kerberos::read_keytab(&fixture(realm, "service.keytab")).unwrap().keys;
        config.kerberos.domain_names = vec![
            ("CORP\\Sales".into(), "S-1-5-21-178014959-1686488388-858414969-1103".into()),
            ("CORP\\Finance".into(), "S-1-5-21-178014959-1686488388-858414969-1104".into()),
        ];
        config.shares = shares
            .iter()
            .map(|(name, permissions)| crate::engine::config::ShareConfig {
                name: (*name).into(),
                path: std::env::temp_dir(),
                description: String::new(),
                permissions: permissions.iter().map(|(who, access)| ((*who).to_owned(), *access)).collect(),
                encrypt_data: false,
                access_based_enumeration: false,
                max_users: None,
                continuous_availability: false,
            })
            .collect();
        Shared::new(config)
    }

    impl Client {
        /// Signs in with a Kerberos AP-REQ in SPNEGO, as Windows offers it (the Microsoft OID
        /// first): the status and the session's identity.
        fn kerberos(&mut self, ap_req: &[u8]) -> (NtStatus, Option<Identity>) {
            use crate::auth::kerberos::messages::gss::{OID_KRB5, OID_MS_KRB5};
            let token = spnego::encode_init(&[OID_MS_KRB5, OID_KRB5, OID_NTLMSSP], ap_req);
            let request = SessionSetupRequest { security_mode: 1, security_buffer: token, ..Default::default() };
            let (status, session_id, _) = self.send(Command::SESSION_SETUP, 0, |out| request.encode(out));
            let identity = self.conn.identity_of(SessionId(session_id));
            (status, identity)
        }
    }

    fn at(unix: u64) -> Now {
        Now { instant: std::time::Instant::now(), system: std::time::UNIX_EPOCH + Duration::from_secs(unix) }
    }

    #[test]
    fn an_mit_principal_without_logon_information_is_user_at_realm_and_permissions_name_it_so() {
        let shared = kerberos_engine(
            "kerberos",
            &[("docs", &[("alice@EXAMPLE.COM", Access::Change)]), ("other", &[("alice", Access::Full)])],
        );
        let mut client = Client::at(shared.clone(), at(1_796_616_257));
        let (status, identity) = client.kerberos(&fixture("kerberos", "ap-req-aes256-cts-hmac-sha1-96.bin"));
        assert_eq!(status, NtStatus::SUCCESS);
        let identity = identity.unwrap();
        assert_eq!(identity.user, "alice@EXAMPLE.COM");
        assert!(identity.sids.is_empty());
        let runtime = shared.runtime();
        let access = |share: &str| runtime.access(&runtime.share(share).unwrap().config, &identity);
        assert_eq!(access("docs"), Access::Change);
        assert_eq!(access("other"), Access::Deny, "the local user alice is someone else");
    }

    #[test]
    fn a_principal_mapped_to_a_local_user_is_that_user() {
        let mut config = kerberos_engine("kerberos", &[]).runtime().config.clone();
        config.users = vec![UserConfig { name: "Alice".into(), nt_hash: [1; 16], enabled: true, locked_until: None }];
        config.kerberos.principal_map = vec![("alice@EXAMPLE.COM".into(), "alice".into())];
        let mut client = Client::at(Shared::new(config.clone()), at(1_796_616_257));
        let (status, identity) = client.kerberos(&fixture("kerberos", "ap-req-aes256-cts-hmac-sha1-96.bin"));
        assert_eq!(status, NtStatus::SUCCESS);
        assert_eq!(identity.unwrap().user, "Alice");
        // Mapped to a disabled account: refused.
        config.users[0].enabled = false;
        let mut client = Client::at(Shared::new(config), at(1_796_616_257));
        assert_eq!(
            client.kerberos(&fixture("kerberos", "ap-req-aes128-cts-hmac-sha1-96.bin")).0,
            NtStatus::LOGON_FAILURE
        );
    }

    #[test]
    fn an_active_directory_user_is_domain_backslash_user_and_its_pac_groups_decide_access() {
        let shared = kerberos_engine(
            "kerberos-ad",
            &[
                ("sales", &[("CORP\\Sales", Access::Change)]),
                ("finance", &[("CORP\\Finance", Access::Read)]),
                ("by-sid", &[("S-1-5-21-178014959-1686488388-858414969-513", Access::Read)]),
                ("bobs", &[("CORP\\bob", Access::Full)]),
                ("denied", &[("Everyone", Access::Full), ("CORP\\Sales", Access::Deny)]),
                ("by-upn", &[("alice@corp.example.test", Access::Full)]),
            ],
        );
        let mut client = Client::at(shared.clone(), at(1_796_620_948));
        let (status, identity) = client.kerberos(&fixture("kerberos-ad", "ap-req-aes256-cts-hmac-sha1-96.bin"));
        assert_eq!(status, NtStatus::SUCCESS);
        let identity = identity.unwrap();
        assert_eq!(identity.user, "CORP\\alice");
        assert_eq!(identity.sids[0], "S-1-5-21-178014959-1686488388-858414969-1102");
        let runtime = shared.runtime();
        let access = |share: &str| runtime.access(&runtime.share(share).unwrap().config, &identity);
        assert_eq!(access("sales"), Access::Change);
        assert_eq!(access("finance"), Access::Read, "a group the PAC lists through nesting");
        assert_eq!(access("by-sid"), Access::Read, "Domain Users by its SID");
        assert_eq!(access("bobs"), Access::Deny);
        assert_eq!(access("denied"), Access::Deny, "a Deny for a group wins over Everyone");
        assert_eq!(access("by-upn"), Access::Full);
    }

    #[test]
    fn a_refused_ticket_fails_with_logon_failure_and_is_audited_with_the_reason() {
        let shared = kerberos_engine("kerberos", &[]);
        let mut events = shared.subscribe();
        // A day after the tickets ended.
        let mut client = Client::at(shared, at(1_796_616_257 + 2 * 86_400));
        let (status, identity) = client.kerberos(&fixture("kerberos", "ap-req-aes256-cts-hmac-sha1-96.bin"));
        assert_eq!((status, identity), (NtStatus::TIME_DIFFERENCE_AT_DC, None));
        let failed = std::iter::from_fn(|| events.try_recv().ok())
            .find_map(|event| match event {
                Event::LogonFailed { reason, status, .. } => Some((reason, status)),
                _ => None,
            })
            .expect("a LogonFailed event");
        assert_eq!(failed.1, NtStatus::TIME_DIFFERENCE_AT_DC);
        assert!(failed.0.starts_with("Kerberos: "), "{}", failed.0);
    }
}
