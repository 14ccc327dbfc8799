//! One client connection: the pipeline every message goes through. Decryption, compound
//! splitting, credits, the dispatch table's checks, signing and encryption all happen here, once,
//! over whole messages; handlers only see parsed requests and write response bodies.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::crypto::PreauthHash;
use crate::engine::clock::Now;
use crate::engine::credits::Credits;
use crate::engine::dispatch::{self, Outcome, Request};
use crate::engine::events::{SessionStatus, Transport};
use crate::engine::files::OpenRef;
use crate::engine::ids::{AsyncId, ConnectionId, SessionId, TreeId};
use crate::engine::session::{Session, SessionState};
use crate::engine::shared::{Refusal, Shared, lock};
use crate::proto::error::ErrorResponse;
use crate::proto::framing;
use crate::proto::header::{self, Command, HEADER_SIZE, Header, flags};
use crate::proto::negotiate::{Cipher, Dialect, SigningAlgorithm};
use crate::proto::transform::{self, TransformHeader};
use crate::proto::{FileId, NtStatus, Reader, Writer};

/// Room reserved before every response: the Direct-TCP length and a transform header.
pub const PREFIX: usize = framing::HEADER_LENGTH + transform::SIZE;

/// What NEGOTIATE settled for the connection (MS-SMB2 3.3.1.7).
#[derive(Debug)]
pub struct Negotiated {
    pub dialect: Dialect,
    pub client_guid: [u8; 16],
    pub client_capabilities: u32,
    pub client_security_mode: u16,
    pub client_dialects: Vec<Dialect>,
    pub server_security_mode: u16,
    pub server_capabilities: u32,
    pub cipher: Option<Cipher>,
    pub signing_algorithm: SigningAlgorithm,
    /// Connection.PreauthIntegrityHashValue (3.1.1): seeds each new session's hash.
    pub preauth: PreauthHash,
    /// Both sides agreed to rely on the transport's protection (QUIC) instead of SMB encryption.
    pub transport_security: bool,
    pub max_io: u32,
}

impl Negotiated {
    pub fn large_mtu(&self) -> bool {
        self.dialect != Dialect::SMB2_0_2
    }
}

/// Facts about the transport, fixed for the connection's life.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub id: ConnectionId,
    pub client: SocketAddr,
    /// The server's address the client reached.
    pub local: SocketAddr,
    pub transport: Transport,
    /// Whether the transport itself authenticates and encrypts (QUIC with TLS 1.3).
    pub transport_secure: bool,
    /// For QUIC: whether the certificate mapping allows named pipes (IPC$).
    pub allow_named_pipes: bool,
    pub connected: Instant,
}

impl ConnectionInfo {
    /// A TCP connection from `client` to `local`, opened at `connected`.
    pub fn tcp(id: ConnectionId, client: SocketAddr, local: SocketAddr, connected: Instant) -> ConnectionInfo {
        ConnectionInfo {
            id,
            client,
            local,
            transport: Transport::Tcp,
            transport_secure: false,
            allow_named_pipes: true,
            connected,
        }
    }
}

/// An async operation waiting to complete (MS-SMB2 3.3.4.2).
#[derive(Debug)]
pub struct Pending {
    pub async_id: AsyncId,
    pub message_id: u64,
    pub session_id: SessionId,
    pub tree_id: TreeId,
    pub command: Command,
    pub kind: PendingKind,
    pub encrypted: bool,
    pub signed: bool,
}

#[derive(Debug)]
pub enum PendingKind {
    Notify {
        volatile: u64,
        output_buffer_length: u32,
    },
    Lock {
        volatile: u64,
        request: Vec<u8>,
        deadline: Option<Instant>,
    },
    /// A CREATE waiting for lease or oplock breaks on `key` to be acknowledged; it runs again
    /// when they are (or when they time out). `rest`: the requests of its chain that follow it.
    Create {
        request: Vec<u8>,
        key: crate::engine::files::FileKey,
        rest: Option<Box<Continuation>>,
    },
}

/// The rest of a compound chain whose CREATE went asynchronous: processed when it completes,
/// related to the file it opened (MS-SMB2 3.3.5.2.7.2, as Windows and Samba split a chain).
#[derive(Debug)]
pub struct Continuation {
    chain: Vec<u8>,
    related: Related,
    encrypted: Option<SessionId>,
}

/// A frame to send: `bytes[start..]`, Direct-TCP header included. Kept as the buffer the
/// response was built in, so that large reads are not copied to drop the reserved prefix.
#[derive(Debug)]
pub struct Frame {
    pub bytes: Vec<u8>,
    pub start: usize,
}

impl Frame {
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

/// What one incoming message produced.
#[derive(Debug, Default)]
pub struct Output {
    /// Whole frames, in order.
    pub frames: Vec<Frame>,
    /// The connection must end after these frames are sent.
    pub close: bool,
    /// Deadlines of async requests: at each, the caller calls [`Connection::wake`] (which does
    /// nothing if the request completed meanwhile).
    pub timers: Vec<Timer>,
}

/// An async request to wake at a deadline (e.g. a CREATE waiting for a lease break that the
/// holder does not acknowledge, MS-SMB2 3.3.2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    pub at: Instant,
    pub async_id: AsyncId,
}

pub struct Connection {
    pub(crate) shared: Arc<Shared>,
    pub(crate) info: ConnectionInfo,
    pub(crate) negotiated: Option<Negotiated>,
    pub(crate) credits: Credits,
    /// The sessions bound to this connection, taken from their slots while a message (or a
    /// wake-up, a break, a control) is handled ([`Connection::enter`]); empty in between.
    pub(crate) sessions: HashMap<SessionId, Session>,
    /// Connection.SessionTable: the sessions bound to this connection (its channels).
    pub(crate) channels: HashMap<SessionId, crate::engine::channels::Channel>,
    /// Bindings of other connections' sessions still authenticating here.
    pub(crate) binds: HashMap<SessionId, crate::engine::channels::Bind>,
    /// The sessions taken from their slots by the current entry, and how deep entries nest.
    held: Vec<SessionId>,
    entered: u32,
    /// Of the bound sessions, those authenticated, as of the last entry.
    valid_sessions: usize,
    pub(crate) pending: HashMap<AsyncId, Pending>,
    pub(crate) close: bool,
    /// The moment of the message or wake-up being handled, as the caller gave it.
    pub(crate) now: Now,
    /// When the client last sent a message.
    pub(crate) last_activity: Instant,
    /// Random bytes for the connection (salts, nonces, challenges), seeded from the server's.
    rng: StdRng,
    /// Timers set while handling the current message, handed to the caller with its output.
    timers: Vec<Timer>,
    /// Responses to async requests that completed while another request was handled (e.g. a
    /// CLOSE ending a pending CHANGE_NOTIFY): sent before that request's own response.
    pub(crate) deferred: Vec<Frame>,
    /// Sessions a LOGOFF ends once its (signed) response is on its way.
    pub(crate) ending_sessions: Vec<SessionId>,
    /// Set when a CREATE in the middle of a chain went asynchronous: the chain stops there.
    split: Option<AsyncId>,
}

/// How a response is signed.
#[derive(Clone)]
enum Sign {
    No,
    /// With this session's key on this connection (its channel's signing key).
    Key(SessionId),
    /// With a session's own signing key: the answers to a binding that is not done
    /// (MS-SMB2 3.3.4.1.1).
    With(Arc<crate::crypto::Signer>),
    /// Flagged as signed with a zero signature: the answer to a signed request that failed before
    /// its session could be found or trusted (what Windows sends, and what clients accept for
    /// USER_SESSION_DELETED and the like instead of dropping the connection).
    FlagOnly,
}

/// A response message being built, and how to protect it.
struct Reply {
    writer: Writer,
    sign: Sign,
}

fn sign_of(session: Option<SessionId>) -> Sign {
    session.map_or(Sign::No, Sign::Key)
}

/// What related compound requests inherit (MS-SMB2 3.3.5.2.7.2): the session, tree and open the
/// previous request found (zero / none when its lookup failed), and a failed CREATE's status,
/// which later related requests on "the same file" answer with.
#[derive(Clone, Debug)]
pub struct Related {
    session_id: SessionId,
    tree_id: TreeId,
    file_id: Option<FileId>,
    create_error: Option<NtStatus>,
    /// The request's signature did not verify: its refusal is not signed with the session's key.
    bad_signature: bool,
}

impl Default for Related {
    fn default() -> Related {
        Related {
            session_id: SessionId(0),
            tree_id: TreeId(0),
            file_id: None,
            create_error: None,
            bad_signature: false,
        }
    }
}

impl Connection {
    pub fn new(shared: Arc<Shared>, info: ConnectionInfo, now: Now) -> Connection {
        let rng = StdRng::from_rng(&mut *lock(&shared.rng));
        Connection {
            shared,
            info,
            negotiated: None,
            credits: Credits::default(),
            sessions: HashMap::new(),
            channels: HashMap::new(),
            binds: HashMap::new(),
            held: Vec::new(),
            entered: 0,
            valid_sessions: 0,
            pending: HashMap::new(),
            close: false,
            now,
            last_activity: now.instant,
            rng,
            timers: Vec::new(),
            deferred: Vec::new(),
            ending_sessions: Vec::new(),
            split: None,
        }
    }

    /// Sessions on the connection, signed in or still signing in.
    pub fn session_count(&self) -> usize {
        self.channels.len()
    }

    /// Whether some session of the connection has authenticated (and not logged off).
    pub fn has_valid_session(&self) -> bool {
        self.valid_sessions > 0
    }

    /// Takes this connection's sessions from their slots for the work that follows (nested
    /// calls take nothing more). Sessions another channel has ended are forgotten.
    pub(crate) fn enter(&mut self) {
        self.entered += 1;
        if self.entered > 1 {
            return;
        }
        let mut ids: Vec<SessionId> = self.channels.keys().copied().collect();
        // One order for every connection: two connections sharing two sessions never wait for
        // each other in a circle.
        ids.sort_unstable();
        for id in ids {
            match self.channels[&id].slot.take() {
                Some(session) => {
                    self.sessions.insert(id, session);
                    self.held.push(id);
                }
                None if self.channels[&id].slot.ended() => {
                    self.channels.remove(&id);
                }
                None => {
                    tracing::warn!(connection = %self.info.id, session = id.0, "a session stayed busy on another channel")
                }
            }
        }
    }

    /// Puts the sessions back where other channels find them: new sessions get a slot in the
    /// GlobalSessionTable, sessions that ended leave it.
    pub(crate) fn leave(&mut self) {
        self.entered = self.entered.saturating_sub(1);
        if self.entered > 0 {
            return;
        }
        let mut valid = self.channels.keys().filter(|id| !self.held.contains(id)).count();
        let mut held = std::mem::take(&mut self.held);
        for (id, session) in self.sessions.drain() {
            held.retain(|h| *h != id);
            valid += usize::from(session.identity().is_some());
            let channel = self.channels.entry(id).or_insert_with(|| {
                let slot = Arc::new(crate::engine::channels::SessionSlot::new(self.info.id));
                lock(&self.shared.sessions).insert(id, slot.clone());
                crate::engine::channels::Channel { slot, signer: None }
            });
            let negotiated = self.negotiated.as_ref();
            channel.slot.put(session, |session| {
                let (negotiated, crypto) = (negotiated?, session.crypto()?);
                Some(crate::engine::channels::Facts {
                    dialect: negotiated.dialect,
                    signing_algorithm: crypto.signing_algorithm,
                    cipher: crypto.cipher,
                    signer: crypto.signer.clone(),
                    user: session.user().to_owned(),
                })
            });
        }
        for id in held {
            // Taken and not put back: the session ended here, on every channel.
            if let Some(channel) = self.channels.remove(&id) {
                channel.slot.end();
                lock(&self.shared.sessions).remove(id, &channel.slot);
            }
        }
        self.valid_sessions = valid;
    }

    /// Handles one message the transport received (without its Direct-TCP header).
    /// One framed message from the client (decrypted in place when it is encrypted: the caller
    /// may reuse the buffer for the next message).
    pub fn receive(&mut self, message: &mut Vec<u8>, now: Now) -> Output {
        self.enter();
        self.now = now;
        self.last_activity = now.instant;
        let mut output = Output::default();
        match message.get(..4) {
            Some(id) if id == header::PROTOCOL_ID => self.process_chain(message, None, &mut output),
            Some(id) if id == transform::PROTOCOL_ID => match self.decrypt(message) {
                Ok(session_id) => {
                    let plaintext = &mut message[transform::SIZE..];
                    self.process_chain(plaintext, Some(session_id), &mut output);
                }
                Err(reason) => {
                    tracing::info!(connection = %self.info.id, client = %self.info.client, reason, "dropping the connection");
                    self.close = true;
                }
            },
            Some(id) if id == crate::proto::smb1::PROTOCOL_ID => self.smb1_negotiate(message, &mut output),
            _ => {
                tracing::info!(connection = %self.info.id, client = %self.info.client, "not an SMB message: dropping the connection");
                self.close = true;
            }
        }
        if !self.deferred.is_empty() {
            let mut frames = std::mem::take(&mut self.deferred);
            frames.append(&mut output.frames);
            output.frames = frames;
        }
        output.close = self.close;
        output.timers.append(&mut self.timers);
        self.publish_sessions();
        self.leave();
        output
    }

    /// Decrypts a transformed message in place (MS-SMB2 3.3.5.2.1.1); returns its session.
    fn decrypt(&mut self, message: &mut Vec<u8>) -> Result<SessionId, &'static str> {
        let header = TransformHeader::decode(message).map_err(|_| "malformed transform header")?;
        if header.flags != transform::FLAGS_ENCRYPTED {
            return Err("transform header without the encrypted flag");
        }
        if header.original_message_size as usize != message.len() - transform::SIZE
            || (header.original_message_size as usize) < HEADER_SIZE
        {
            return Err("transform header states a wrong message size");
        }
        let session_id = SessionId(header.session_id);
        let session = self.sessions.get(&session_id).ok_or("encrypted message for an unknown session")?;
        let decryptor = session
            .crypto()
            .and_then(|c| c.decryptor.as_ref())
            .ok_or("encrypted message for a session without encryption keys")?;
        let head: [u8; transform::SIZE] = message[..transform::SIZE].try_into().expect("length checked");
        decryptor
            .open(&head[20..36], &head[transform::AAD_RANGE], message, transform::SIZE, &header.signature)
            .map_err(|_| "a message failed decryption")?;
        Ok(session_id)
    }

    /// MS-SMB2 3.3.5.3.1: an SMB1 NEGOTIATE offering SMB2 gets an SMB2 NEGOTIATE response.
    fn smb1_negotiate(&mut self, message: &[u8], output: &mut Output) {
        if self.negotiated.is_some() {
            self.close = true;
            return;
        }
        let Ok(dialects) = crate::proto::smb1::negotiate_dialects(message) else {
            self.close = true;
            return;
        };
        let Some(dialect) = crate::engine::handlers::negotiate::smb1_dialect(self, &dialects) else {
            tracing::info!(connection = %self.info.id, ?dialects, "SMB1 negotiate without an SMB2 dialect: dropping");
            self.close = true;
            return;
        };
        let mut writer = Writer::with_prefix(PREFIX, 256);
        writer.zeros(HEADER_SIZE);
        crate::engine::handlers::negotiate::respond_to_smb1(self, dialect, &mut writer);
        let credits = self.credits.grant(1);
        // The response to an SMB1 negotiate is message 0; the window now starts at 1.
        self.credits.consume(0, 1);
        let header =
            Header { command: Command::NEGOTIATE, credits, flags: flags::SERVER_TO_REDIR, ..Header::default() };
        write_header(&mut writer, &header);
        output.frames.extend(frame(writer));
    }

    fn process_chain(&mut self, chain: &mut [u8], encrypted: Option<SessionId>, output: &mut Output) {
        self.process_chain_from(chain, encrypted, output, Related::default(), 0);
    }

    /// The requests of a chain, in order. The chain is mutable so that a signature is checked
    /// without copying the request (its signature field is zeroed and restored in place).
    fn process_chain_from(
        &mut self,
        chain: &mut [u8],
        encrypted: Option<SessionId>,
        output: &mut Output,
        mut related: Related,
        first_index: usize,
    ) {
        let mut offset = 0;
        let mut replies: Vec<Reply> = Vec::new();
        let mut index = first_index;
        let response_limit = self.shared.runtime().config.server.max_message();
        let mut response_bytes = 0;
        loop {
            let element_start = offset;
            let mut reader = Reader::new(&chain[element_start..]);
            let header = match Header::decode(&mut reader) {
                Ok(header) => header,
                Err(error) => {
                    tracing::info!(connection = %self.info.id, %error, "malformed SMB2 header: dropping the connection");
                    self.close = true;
                    break;
                }
            };
            if header.is_response() {
                self.close = true;
                break;
            }
            let rest = chain.len() - element_start;
            let next = header.next_command as usize;
            let (length, bad_next) = match next {
                0 => (rest, false),
                n if n < HEADER_SIZE || n > rest => (rest, true),
                n => (n, n % 8 != 0),
            };
            let element = &mut chain[element_start..element_start + length];
            tracing::trace!(
                connection = %self.info.id,
                command = ?header.command,
                message_id = header.message_id,
                session_id = header.session_id,
                flags = header.flags,
                length,
                "request"
            );
            let reply = if bad_next {
                // MS-SMB2 3.3.5.2.7: a chain whose NextCommand is misaligned or out of range.
                self.consume_credits(&header);
                let credits = self.grant(&header);
                Some(self.error_reply(&header, NtStatus::INVALID_PARAMETER, credits))
            } else {
                let last = next == 0;
                self.process_one(element, &header, &mut related, (index, last), encrypted, output)
            };
            if let Some(mut reply) = reply {
                if response_bytes + reply.writer.len() > response_limit {
                    // The responses of one compound go out as one message, which may not exceed
                    // the largest message: a request whose response does not fit fails instead.
                    self.shared.refuse(Refusal::CompoundResponse);
                    reply.writer.truncate(HEADER_SIZE);
                    ErrorResponse::default().encode(&mut reply.writer);
                    reply.writer.patch_u32(header::STATUS_OFFSET, NtStatus::INSUFFICIENT_RESOURCES.0);
                }
                response_bytes += reply.writer.len() + 8;
                replies.push(reply);
            }
            if let Some(async_id) = self.split.take() {
                // The rest waits for the CREATE that went asynchronous.
                if let Some(pending) = self.pending.get_mut(&async_id)
                    && let PendingKind::Create { rest, .. } = &mut pending.kind
                {
                    *rest = Some(Box::new(Continuation {
                        chain: chain[offset + next..].to_vec(),
                        related: related.clone(),
                        encrypted,
                    }));
                }
                break;
            }
            if self.close || next == 0 || bad_next {
                break;
            }
            offset += next;
            index += 1;
        }
        if !replies.is_empty() {
            self.send_replies(replies, encrypted, output);
        }
        for session_id in std::mem::take(&mut self.ending_sessions) {
            // A session that ends keeps its durable opens for their client (MS-SMB2 3.3.5.6).
            let now = self.now;
            crate::engine::durable::keep_opens(self, session_id, now);
            crate::engine::handlers::logoff::end_session(self, session_id);
        }
    }

    fn consume_credits(&mut self, header: &Header) -> bool {
        if header.command == Command::CANCEL {
            return true;
        }
        if !self.credits.consume(header.message_id, header.credit_charge) {
            tracing::info!(
                connection = %self.info.id,
                client = %self.info.client,
                message_id = header.message_id,
                charge = header.credit_charge,
                "request beyond the granted credits: dropping the connection"
            );
            self.close = true;
            return false;
        }
        true
    }

    fn grant(&mut self, header: &Header) -> u16 {
        self.credits.grant(header.credits)
    }

    /// One request of a chain: the checks of the dispatch table, then its handler.
    fn process_one(
        &mut self,
        element: &mut [u8],
        raw_header: &Header,
        related: &mut Related,
        position: (usize, bool),
        encrypted: Option<SessionId>,
        output: &mut Output,
    ) -> Option<Reply> {
        let session_id = SessionId(raw_header.session_id);
        // A SESSION_SETUP naming a session this connection does not have: a binding, or a
        // mistake answered USER_SESSION_DELETED.
        let binding = raw_header.command == Command::SESSION_SETUP
            && session_id != SessionId(0)
            && !self.sessions.contains_key(&session_id);
        let mut reply = self.process_request(element, raw_header, related, position, encrypted, output)?;
        if binding {
            reply.sign = self.binding_sign(raw_header, &reply);
            // An interim answer goes into the binding's preauthentication hash as sent: signed
            // with the session's key (MS-SMB2 3.3.5.5.3).
            if let Some(bind) = self.binds.get_mut(&session_id)
                && let Sign::With(signer) = &reply.sign
            {
                sign(&mut reply.writer, signer);
                bind.preauth.update(reply.writer.as_slice());
                reply.sign = Sign::No;
            }
        }
        Some(reply)
    }

    /// How the answer to a binding SESSION_SETUP is signed (MS-SMB2 3.3.4.1.1): the final
    /// success with the new channel's key, the rest with the session's own key.
    fn binding_sign(&self, request: &Header, reply: &Reply) -> Sign {
        let session_id = SessionId(request.session_id);
        let status = NtStatus(u32::from_le_bytes(reply.writer.as_slice()[8..12].try_into().expect("status")));
        if status == NtStatus::SUCCESS && self.channels.contains_key(&session_id) {
            return Sign::Key(session_id);
        }
        if !request.is_signed() || status == NtStatus::USER_SESSION_DELETED {
            return if request.is_signed() { Sign::FlagOnly } else { Sign::No };
        }
        let facts = match self.binds.get(&session_id) {
            Some(bind) => Some(bind.facts.clone()),
            None => lock(&self.shared.sessions).get(session_id).and_then(|slot| slot.facts()),
        };
        facts.map_or(Sign::FlagOnly, |facts| Sign::With(facts.signer.clone()))
    }

    /// One request of a chain: the checks of the dispatch table, then its handler.
    fn process_request(
        &mut self,
        element: &mut [u8],
        raw_header: &Header,
        related: &mut Related,
        (index, last): (usize, bool),
        encrypted: Option<SessionId>,
        output: &mut Output,
    ) -> Option<Reply> {
        let mut header = raw_header.clone();
        if !self.consume_credits(&header) {
            return None;
        }
        if self.negotiated.is_none() && !dispatch::spec(header.command).is_some_and(|spec| spec.before_negotiate) {
            self.close = true;
            return None;
        }
        if header.command == Command::CANCEL {
            if let Some(cancelled) = crate::engine::handlers::cancel::handle(self, &header) {
                output.frames.extend(cancelled.frames);
            }
            return None;
        }
        let credits = self.grant(&header);
        if header.is_related() {
            if index == 0 {
                related.session_id = SessionId(0);
                related.tree_id = TreeId(0);
                return Some(self.error_reply(&header, NtStatus::INVALID_PARAMETER, credits));
            }
            header.session_id = related.session_id.0;
            header.tree_id = related.tree_id.0;
        } else {
            related.file_id = None;
        }
        let spec = dispatch::spec(header.command);
        let Some(spec) = spec else {
            return Some(self.error_reply(&header, NtStatus::INVALID_PARAMETER, credits));
        };
        if let Some(session_id) = encrypted
            && session_id != SessionId(header.session_id)
            && header.command != Command::NEGOTIATE
        {
            return Some(self.error_reply(&header, NtStatus::ACCESS_DENIED, credits));
        }
        // Body checks: the structure size at least (handlers decode the rest).
        if element.len() < HEADER_SIZE + 2 {
            return Some(self.error_reply(&header, NtStatus::INVALID_PARAMETER, credits));
        }
        let checks = self.check(&header, spec, element, encrypted.is_some(), related);
        let (sign_with, file_id) = match checks {
            Ok(ok) => ok,
            Err(status) => {
                let mut reply = self.error_reply(&header, status, credits);
                // A request whose signature failed is not answered with that session's key;
                // other refusals (encryption required, say) are signed as usual.
                if related.bad_signature {
                    reply.sign = Sign::FlagOnly;
                }
                return Some(reply);
            }
        };
        if spec.needs_session
            && let Some(session) = self.sessions.get_mut(&SessionId(header.session_id))
        {
            session.last_activity = self.now.instant;
        }
        let mut writer = Writer::with_prefix(PREFIX, 512);
        writer.zeros(HEADER_SIZE);
        let request = Request { header: &header, message: element, file_id, encrypted: encrypted.is_some() };
        let result = (spec.handler)(self, &request, &mut writer);
        let mut response = Header {
            credit_charge: header.credit_charge,
            command: header.command,
            credits,
            flags: flags::SERVER_TO_REDIR | (header.flags & (flags::RELATED_OPERATIONS | flags::PRIORITY_MASK)),
            message_id: header.message_id,
            tree_id: header.tree_id,
            session_id: header.session_id,
            ..Header::default()
        };
        match result {
            Ok(Outcome::Done(done)) => {
                if let Some(id) = done.session_id {
                    response.session_id = id.0;
                }
                if let Some(id) = done.tree_id {
                    response.tree_id = id.0;
                }
                response.status = done.status;
                let new_file = done.new_file;
                if let Some(file) = new_file {
                    related.file_id = Some(file);
                }
                if let Some(id) = done.session_id {
                    related.session_id = id;
                }
                if let Some(id) = done.tree_id {
                    related.tree_id = id;
                }
                write_header(&mut writer, &response);
                match done.preauth {
                    Some(dispatch::Preauth::Connection) => {
                        if let Some(negotiated) = &mut self.negotiated {
                            negotiated.preauth.update(writer.as_slice());
                        }
                    }
                    Some(dispatch::Preauth::Session(id)) => {
                        if let Some(hash) = self.sessions.get_mut(&id).and_then(Session::preauth_mut) {
                            hash.update(writer.as_slice());
                        }
                    }
                    None => {}
                }
                let sign = sign_of(self.response_signer(&header, &response, sign_with));
                Some(Reply { writer, sign })
            }
            Ok(Outcome::Pending(_))
                if spec.goes_async == dispatch::Async::Never
                    || !last && spec.goes_async != dispatch::Async::SplitsChain =>
            {
                // Only the last request of a chain may go asynchronous (MS-SMB2 3.3.5.2.7, note
                // on Windows behaviour): one in the middle fails and the chain goes on. A command
                // the table says never goes async fails the same way.
                debug_assert_ne!(spec.goes_async, dispatch::Async::Never, "{:?} went async", header.command);
                writer.truncate(HEADER_SIZE);
                ErrorResponse::default().encode(&mut writer);
                response.status = NtStatus::INTERNAL_ERROR;
                write_header(&mut writer, &response);
                let sign = sign_of(self.response_signer(&header, &response, sign_with));
                Some(Reply { writer, sign })
            }
            Ok(Outcome::Pending(_))
                if self.pending.len()
                    >= self.shared.runtime().config.server.limits.max_pending_per_connection as usize =>
            {
                // The budget of requests waiting asynchronously on one connection.
                self.shared.refuse(Refusal::PendingRequests);
                writer.truncate(HEADER_SIZE);
                ErrorResponse::default().encode(&mut writer);
                response.status = NtStatus::INSUFFICIENT_RESOURCES;
                write_header(&mut writer, &response);
                let sign = sign_of(self.response_signer(&header, &response, sign_with));
                Some(Reply { writer, sign })
            }
            Ok(Outcome::Pending(kind)) => {
                let async_id = self.shared.next_async_id();
                response.flags |= flags::ASYNC_COMMAND;
                response.async_id = async_id.0;
                response.status = NtStatus::PENDING;
                self.pending.insert(
                    async_id,
                    Pending {
                        async_id,
                        message_id: header.message_id,
                        session_id: SessionId(header.session_id),
                        tree_id: TreeId(header.tree_id),
                        command: header.command,
                        kind,
                        encrypted: encrypted.is_some(),
                        signed: sign_with.is_some(),
                    },
                );
                writer.truncate(HEADER_SIZE);
                ErrorResponse::default().encode(&mut writer);
                write_header(&mut writer, &response);
                self.note_waiting_create(async_id);
                self.register_pending(async_id);
                if !last {
                    self.split = Some(async_id);
                }
                // Interim responses are signed like any other (MS-SMB2 3.3.4.2).
                Some(Reply { writer, sign: sign_of(sign_with) })
            }
            Ok(Outcome::NoResponse) => None,
            Err(error) => {
                if header.command == Command::CREATE {
                    related.create_error = Some(error.status);
                }
                writer.truncate(HEADER_SIZE);
                ErrorResponse { data: error.data }.encode(&mut writer);
                response.status = error.status;
                write_header(&mut writer, &response);
                let sign = sign_of(self.response_signer(&header, &response, sign_with));
                Some(Reply { writer, sign })
            }
        }
    }

    /// The table's checks for one request (MS-SMB2 3.3.5.2.4 - 3.3.5.2.11). Returns the session
    /// whose key verifies and signs, and the file id (with related substitution).
    fn check(
        &mut self,
        header: &Header,
        spec: &dispatch::Spec,
        element: &mut [u8],
        encrypted: bool,
        related: &mut Related,
    ) -> Result<(Option<SessionId>, Option<FileId>), NtStatus> {
        let mut signer_session = None;
        related.bad_signature = false;
        let (session_id, tree_id) = (SessionId(header.session_id), TreeId(header.tree_id));
        // Samba's rule, which smbtorture pins down: a related request whose predecessor found no
        // session is invalid; each lookup re-arms what the next related request inherits.
        let chained_session_missing = header.is_related() && related.session_id == SessionId(0);
        related.session_id = SessionId(0);
        related.tree_id = TreeId(0);
        if chained_session_missing && (spec.needs_session || session_id != SessionId(0)) {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if session_id != SessionId(0) || spec.needs_session {
            match self.sessions.get(&session_id) {
                Some(session) => {
                    if session.crypto().is_some() {
                        related.session_id = session_id;
                    }
                    if let Some(crypto) = session.crypto() {
                        if header.is_signed() && !encrypted {
                            // The signature covers the request with its signature field zeroed:
                            // zeroed in place for the check and put back (MS-SMB2 3.3.5.2.4).
                            // Each channel has its own key.
                            let signer = self.signer_for(session_id).unwrap_or(&crypto.signer);
                            let field = header::SIGNATURE_OFFSET..HEADER_SIZE;
                            element[field.clone()].fill(0);
                            let expected =
                                signer.sign(element, header.message_id, false, header.command == Command::CANCEL);
                            element[field].copy_from_slice(&header.signature);
                            if expected != header.signature {
                                tracing::info!(connection = %self.info.id, session = header.session_id, command = ?header.command, "bad signature");
                                related.bad_signature = true;
                                return Err(NtStatus::ACCESS_DENIED);
                            }
                            signer_session = Some(session_id);
                        } else if session.signing_required
                            && !encrypted
                            && (header.command != Command::SESSION_SETUP
                                || self.channels.get(&session_id).is_some_and(|c| c.signer.is_some()))
                        {
                            // A re-authentication may come unsigned on the session's first
                            // channel, never on one bound to it later (what Samba enforces).
                            return Err(NtStatus::ACCESS_DENIED);
                        } else if session.signing_required || encrypted {
                            signer_session = Some(session_id);
                        }
                        if session.encrypt_data
                            && !encrypted
                            && !self.transport_protects()
                            && header.command != Command::SESSION_SETUP
                        {
                            return Err(NtStatus::ACCESS_DENIED);
                        }
                    } else if spec.needs_session {
                        return Err(NtStatus::USER_SESSION_DELETED);
                    }
                }
                None if spec.needs_session
                    || header.command != Command::SESSION_SETUP
                        && header.command != Command::NEGOTIATE
                        && header.command != Command::ECHO =>
                {
                    return Err(NtStatus::USER_SESSION_DELETED);
                }
                None => {}
            }
        }
        if spec.needs_tree {
            let session = self.sessions.get(&session_id).ok_or(NtStatus::USER_SESSION_DELETED)?;
            let tree = session.trees.get(&tree_id).ok_or(NtStatus::NETWORK_NAME_DELETED)?;
            related.tree_id = tree_id;
            if tree.encrypt_data && !encrypted && !self.transport_protects() {
                return Err(NtStatus::ACCESS_DENIED);
            }
            if let crate::engine::session::TreeKind::Disk(share) = &tree.kind {
                // A share removed (or re-pointed) since the tree connect is gone for this tree.
                let current = self.shared.runtime();
                if current.share(&share.config.name).is_none_or(|s| s.config.path != share.config.path) {
                    return Err(NtStatus::NETWORK_NAME_DELETED);
                }
            }
        }
        let mut file_id = None;
        if spec.needs_file() {
            let id = dispatch::file_id_of(header.command, element).map_err(|_| NtStatus::INVALID_PARAMETER)?;
            let id = match id {
                // "The file of the previous request" only means something in a related request.
                Some(id) if id == FileId::RELATED && header.is_related() => related.file_id.unwrap_or(id),
                Some(id) => id,
                None => FileId::default(),
            };
            let session = self.sessions.get_mut(&session_id).ok_or(NtStatus::USER_SESSION_DELETED)?;
            match session.opens.get_mut(&id.volatile) {
                Some(open) if open.file_id.persistent == id.persistent && open.tree_id == tree_id => {
                    related.file_id = Some(id);
                    if open.replayable {
                        // Used: a replay of its CREATE now opens anew (Open.IsReplayEligible).
                        open.replayable = false;
                        lock(&self.shared.durable).settle(id.persistent);
                    }
                    // MS-SMB2 3.3.5.2.10: a request from a channel older than the open's latest
                    // must not change the file (a failover client's late duplicate).
                    if self.negotiated.as_ref().is_some_and(|n| n.dialect.is_smb3()) {
                        let sequence = header.channel_sequence();
                        match sequence.wrapping_sub(open.channel_sequence) {
                            0 => {}
                            1..=0x7FFF => open.channel_sequence = sequence,
                            _ if matches!(header.command, Command::WRITE | Command::SET_INFO | Command::IOCTL) => {
                                return Err(NtStatus::FILE_NOT_AVAILABLE);
                            }
                            _ => {}
                        }
                    }
                }
                _ if header.is_related() && related.create_error.is_some() => {
                    return Err(related.create_error.unwrap_or(NtStatus::FILE_CLOSED));
                }
                // Some FSCTLs name no open (validate negotiate, DFS referrals): the handler decides.
                _ if header.command == Command::IOCTL => {}
                _ => return Err(NtStatus::FILE_CLOSED),
            }
            file_id = Some(id);
        }
        Ok((signer_session, file_id))
    }

    /// Whether the transport's own protection replaces SMB encryption (QUIC, agreed in NEGOTIATE).
    pub fn transport_protects(&self) -> bool {
        self.negotiated.as_ref().is_some_and(|n| n.transport_security)
            && self.shared.runtime().config.server.skip_encryption_on_secure_transport
    }

    /// Which session signs a response (MS-SMB2 3.3.4.1.1).
    fn response_signer(&self, request: &Header, response: &Header, verified: Option<SessionId>) -> Option<SessionId> {
        if let Some(id) = verified {
            return Some(id);
        }
        let session_id = SessionId(response.session_id);
        let session = self.sessions.get(&session_id)?;
        let valid = matches!(session.state, SessionState::Valid { .. } | SessionState::Reauthenticating { .. });
        if !valid {
            return None;
        }
        // The final SESSION_SETUP response of 3.1.1 is always signed; others when required.
        let final_setup = request.command == Command::SESSION_SETUP && response.status == NtStatus::SUCCESS;
        let dialect = self.negotiated.as_ref().map(|n| n.dialect);
        if session.signing_required || request.is_signed() || (final_setup && dialect == Some(Dialect::SMB3_1_1)) {
            Some(session_id)
        } else {
            None
        }
    }

    fn error_reply(&mut self, request: &Header, status: NtStatus, credits: u16) -> Reply {
        let mut writer = Writer::with_prefix(PREFIX, 128);
        writer.zeros(HEADER_SIZE);
        ErrorResponse::default().encode(&mut writer);
        let response = Header {
            credit_charge: request.credit_charge,
            status,
            command: request.command,
            credits,
            flags: flags::SERVER_TO_REDIR | (request.flags & flags::RELATED_OPERATIONS),
            message_id: request.message_id,
            tree_id: request.tree_id,
            session_id: request.session_id,
            ..Header::default()
        };
        write_header(&mut writer, &response);
        let sign = match self.response_signer(request, &response, None) {
            Some(id) if status != NtStatus::USER_SESSION_DELETED => Sign::Key(id),
            _ if request.is_signed() => Sign::FlagOnly,
            _ => Sign::No,
        };
        Reply { writer, sign }
    }

    /// Signs each reply, chains them, encrypts the chain when the request was encrypted or the
    /// session requires it, and frames the result.
    fn send_replies(&mut self, mut replies: Vec<Reply>, encrypted: Option<SessionId>, output: &mut Output) {
        let count = replies.len();
        for (index, reply) in replies.iter_mut().enumerate() {
            if index + 1 < count {
                reply.writer.align(8);
                let next = reply.writer.len() as u32;
                reply.writer.patch_u32(20, next);
            }
            match &reply.sign {
                Sign::Key(session_id) => {
                    if let Some(signer) = self.signer_for(*session_id) {
                        sign(&mut reply.writer, signer);
                    }
                }
                Sign::With(signer) => sign(&mut reply.writer, signer),
                Sign::FlagOnly => {
                    let message = reply.writer.as_mut_slice();
                    let flags_value = u32::from_le_bytes(message[16..20].try_into().expect("flags")) | flags::SIGNED;
                    message[16..20].copy_from_slice(&flags_value.to_le_bytes());
                    message[header::SIGNATURE_OFFSET..HEADER_SIZE].fill(0);
                }
                Sign::No => {}
            }
        }
        let encrypt_with = encrypted.or_else(|| {
            let session_id =
                SessionId(u64::from_le_bytes(replies[0].writer.as_slice()[40..48].try_into().expect("session id")));
            let session = self.sessions.get(&session_id)?;
            let command = u16::from_le_bytes(replies[0].writer.as_slice()[12..14].try_into().expect("command"));
            (session.encrypt_data && !self.transport_protects() && command != Command::SESSION_SETUP.0)
                .then_some(session_id)
        });
        let writer = if count == 1 {
            replies.pop().expect("one reply").writer
        } else {
            let total = replies.iter().map(|r| r.writer.len()).sum();
            let mut chained = Writer::with_prefix(PREFIX, total);
            for reply in &replies {
                chained.bytes(reply.writer.as_slice());
            }
            chained
        };
        if let Some(session_id) = encrypt_with {
            match self.encrypt(writer, session_id) {
                Some(frame) => output.frames.push(frame),
                None => self.close = true,
            }
            return;
        }
        match frame(writer) {
            Some(frame) => output.frames.push(frame),
            None => self.close = true,
        }
    }

    /// Channel.SigningKey of a session on this connection: a bound channel's own key, or the
    /// session's on the connection that established it.
    fn signer_for(&self, session_id: SessionId) -> Option<&crate::crypto::Signer> {
        if let Some(signer) = self.channels.get(&session_id).and_then(|c| c.signer.as_ref()) {
            return Some(signer);
        }
        self.sessions.get(&session_id).and_then(|s| s.crypto()).map(|c| &*c.signer)
    }

    /// Wraps a response chain in a transform header and encrypts it (MS-SMB2 3.3.4.1.4).
    fn encrypt(&mut self, writer: Writer, session_id: SessionId) -> Option<Frame> {
        let crypto = self.sessions.get(&session_id).and_then(|s| s.crypto())?;
        let encryptor = crypto.encryptor.as_ref()?;
        let length = writer.len();
        let (mut bytes, base) = writer.into_parts();
        debug_assert_eq!(base, PREFIX);
        let mut nonce = [0_u8; 16];
        let random: [u8; 16] = self.rng.random();
        nonce[..encryptor.nonce_len()].copy_from_slice(&random[..encryptor.nonce_len()]);
        let header = TransformHeader {
            signature: [0; 16],
            nonce,
            original_message_size: length as u32,
            flags: transform::FLAGS_ENCRYPTED,
            session_id: session_id.0,
        };
        let mut head = Writer::with_capacity(transform::SIZE);
        header.encode(&mut head);
        let transform_start = framing::HEADER_LENGTH;
        bytes[transform_start..transform_start + transform::SIZE].copy_from_slice(head.as_slice());
        let (front, body) = bytes.split_at_mut(PREFIX);
        let aad = &front[transform_start + 20..transform_start + 52];
        let tag = encryptor.seal(&nonce, aad, body);
        bytes[transform_start + 4..transform_start + 20].copy_from_slice(&tag);
        let frame_length = transform::SIZE + length;
        bytes[..4].copy_from_slice(&framing::frame_header(frame_length).ok()?);
        Some(Frame { bytes, start: 0 })
    }

    /// A CREATE with a CreateGuid went asynchronous: its session knows, so that a replay on
    /// any channel finds it.
    fn note_waiting_create(&mut self, async_id: AsyncId) {
        let Some(pending) = self.pending.get(&async_id) else { return };
        let (PendingKind::Create { key, .. }, Some(create_guid)) =
            (&pending.kind, crate::engine::durable::pending_create_guid(pending))
        else {
            return;
        };
        let waiting =
            crate::engine::session::WaitingCreate { create_guid, key: *key, connection: self.info.id, async_id };
        if let Some(session) = self.sessions.get_mut(&pending.session_id) {
            session.waiting_creates.push(waiting);
        }
    }

    /// Lets the waiting operation's source know who waits (a watch, a lock queue).
    fn register_pending(&mut self, async_id: AsyncId) {
        match self.pending.get(&async_id).map(|p| &p.kind) {
            Some(PendingKind::Notify { .. }) => crate::engine::handlers::change_notify::register(self, async_id),
            Some(PendingKind::Lock { .. }) => crate::engine::handlers::lock::register(self, async_id),
            Some(PendingKind::Create { .. }) => crate::engine::handlers::create::register(self, async_id),
            None => {}
        }
    }

    /// Something a pending operation waits for happened: complete it if it can.
    pub fn wake(&mut self, async_id: AsyncId, now: Now) -> Output {
        self.enter();
        self.now = now;
        let output = match self.pending.get(&async_id).map(|p| &p.kind) {
            Some(PendingKind::Notify { .. }) => crate::engine::handlers::change_notify::deliver(self, async_id),
            Some(PendingKind::Lock { .. }) => crate::engine::handlers::lock::retry(self, async_id),
            Some(PendingKind::Create { .. }) => crate::engine::handlers::create::retry(self, async_id),
            None => None,
        };
        let mut output = output.unwrap_or_default();
        if !self.deferred.is_empty() {
            let mut frames = std::mem::take(&mut self.deferred);
            frames.append(&mut output.frames);
            output.frames = frames;
        }
        output.close = self.close;
        output.timers.append(&mut self.timers);
        self.publish_sessions();
        self.leave();
        output
    }

    /// Random bytes (or any value the generator makes) for the protocol: salts, nonces, challenges.
    pub fn random<T>(&mut self) -> T
    where
        rand::distr::StandardUniform: rand::distr::Distribution<T>,
    {
        self.rng.random()
    }

    /// Asks the caller to wake `async_id` at `at` (see [`Output::timers`]).
    pub fn wake_at(&mut self, async_id: AsyncId, at: Instant) {
        self.timers.push(Timer { at, async_id });
    }

    /// Sends the final response of an async operation (after its interim STATUS_PENDING).
    pub fn complete(
        &mut self,
        async_id: AsyncId,
        result: Result<NtStatus, dispatch::Error>,
        body: impl FnOnce(&mut Writer),
    ) -> Output {
        let mut output = Output::default();
        let Some(pending) = self.pending.remove(&async_id) else { return output };
        if let Some(session) = self.sessions.get_mut(&pending.session_id) {
            session.waiting_creates.retain(|w| w.async_id != async_id);
        }
        let mut writer = Writer::with_prefix(PREFIX, 256);
        writer.zeros(HEADER_SIZE);
        let status = match result {
            Ok(status) => {
                body(&mut writer);
                status
            }
            Err(error) => {
                ErrorResponse { data: error.data }.encode(&mut writer);
                error.status
            }
        };
        let header = Header {
            credit_charge: 0,
            status,
            command: pending.command,
            credits: 0,
            flags: flags::SERVER_TO_REDIR | flags::ASYNC_COMMAND,
            message_id: pending.message_id,
            async_id: async_id.0,
            session_id: pending.session_id.0,
            ..Header::default()
        };
        write_header(&mut writer, &header);
        let sign = (pending.signed || self.sessions.get(&pending.session_id).is_some_and(|s| s.signing_required))
            .then_some(pending.session_id)
            .filter(|id| self.sessions.contains_key(id));
        let reply = Reply { writer, sign: sign_of(sign) };
        let encrypted = pending.encrypted.then_some(pending.session_id).filter(|id| self.sessions.contains_key(id));
        self.send_replies(vec![reply], encrypted, &mut output);
        output.close = self.close;
        output
    }

    /// Processes the rest of a chain after its asynchronous CREATE completed: related requests
    /// use the file it opened, or fail as it did.
    pub fn continue_chain(
        &mut self,
        continuation: Continuation,
        opened: Option<FileId>,
        create_error: Option<NtStatus>,
        output: &mut Output,
    ) {
        let Continuation { mut chain, mut related, encrypted } = continuation;
        related.file_id = opened;
        related.create_error = create_error;
        if !chain.is_empty() {
            self.process_chain_from(&mut chain, encrypted, output, related, 1);
        }
    }

    /// Sends a lease or oplock break notification (MS-SMB2 3.3.4.6, 3.3.4.7) for an open of this
    /// connection: unsigned, with no session in its header, encrypted when the open's session
    /// or share encrypts. Nothing is sent when the open has gone meanwhile.
    pub fn send_break(&mut self, notification: crate::engine::leases::Break) -> Output {
        self.enter();
        let output = self.break_notification(notification);
        self.leave();
        output
    }

    fn break_notification(&mut self, notification: crate::engine::leases::Break) -> Output {
        use crate::engine::leases::Break;
        use crate::proto::oplock_break::{LeaseBreakNotification, OplockBreakAcknowledgment};
        let mut output = Output::default();
        let volatile = match notification {
            Break::Lease { via, .. } => via.volatile,
            Break::Oplock { owner, .. } => owner.volatile,
        };
        let Some((session_id, session)) = self.sessions.iter().find(|(_, s)| s.opens.contains_key(&volatile)) else {
            return output;
        };
        let open = &session.opens[&volatile];
        let encrypts = session.encrypt_data || session.trees.get(&open.tree_id).is_some_and(|t| t.encrypt_data);
        let session_id = *session_id;
        let mut writer = Writer::with_prefix(PREFIX, 128);
        writer.zeros(HEADER_SIZE);
        match notification {
            Break::Lease { key, from, to, ack_required, epoch, version, .. } => LeaseBreakNotification {
                new_epoch: if version >= 2 { epoch } else { 0 },
                ack_required,
                lease_key: key,
                current_state: from,
                new_state: to,
            }
            .encode(&mut writer),
            Break::Oplock { level, .. } => {
                OplockBreakAcknowledgment::Oplock { oplock_level: level, file_id: open.file_id }.encode(&mut writer)
            }
        }
        let header = Header {
            command: Command::OPLOCK_BREAK,
            flags: flags::SERVER_TO_REDIR,
            message_id: u64::MAX,
            ..Header::default()
        };
        write_header(&mut writer, &header);
        let encrypt_with = (encrypts && !self.transport_protects()).then_some(session_id);
        self.send_replies(vec![Reply { writer, sign: Sign::No }], encrypt_with, &mut output);
        output.close = self.close;
        output
    }

    /// Keeps the registry's view of this connection's sessions current.
    pub fn publish(&mut self) {
        self.enter();
        self.publish_sessions();
        self.leave();
    }

    fn publish_sessions(&self) {
        let sessions: Vec<SessionStatus> = self
            .sessions
            .values()
            // A session bound to several connections is listed by the one its opens belong to.
            .filter(|session| session.home == self.info.id)
            .filter_map(|session| {
                let identity = session.identity()?;
                let crypto = session.crypto()?;
                let negotiated = self.negotiated.as_ref()?;
                let opens = session.opens.len();
                let channels = self.channels.get(&session.id).map_or(1, |c| c.slot.channel_count());
                Some(SessionStatus {
                    channels,
                    connection: self.info.id.0,
                    session_id: session.id.0,
                    user: identity.user.clone(),
                    client: self.info.client,
                    transport: self.info.transport,
                    dialect: negotiated.dialect.name(),
                    signing: (session.signing_required).then(|| crypto.signing_algorithm.name().to_owned()),
                    encryption: (session.encrypt_data && !self.transport_protects())
                        .then(|| crypto.cipher.map_or("AES-128-CCM", Cipher::name).to_owned()),
                    shares: session.trees.values().map(|t| t.share_name.clone()).collect(),
                    opens,
                    connected_seconds: session.created.elapsed().as_secs(),
                    idle_seconds: session.last_activity.elapsed().as_secs(),
                })
            })
            .collect();
        if let Some(entry) = lock(&self.shared.connections).get_mut(&self.info.id) {
            entry.sessions = sessions;
        }
    }

    /// Closes everything this connection holds (the transport is gone), except the durable
    /// opens, which wait for their client, and the sessions bound to other connections too,
    /// which go on there (MS-SMB2 3.3.7.1).
    pub fn shutdown(&mut self, now: Now) {
        self.enter();
        self.now = now;
        let ids: Vec<SessionId> = self.sessions.keys().copied().collect();
        for id in ids {
            let others = self.channels.get(&id).map(|c| c.slot.unbind(self.info.id)).unwrap_or_default();
            match others.first() {
                Some(next) => self.hand_over(id, *next),
                None => {
                    crate::engine::durable::keep_opens(self, id, now);
                    crate::engine::handlers::logoff::end_session(self, id);
                }
            }
        }
        self.pending.clear();
        self.binds.clear();
        self.leave();
    }

    /// Gives a session this connection is leaving to the channel `next`: its opens move there
    /// in the file table (breaks go to `next`) when this was their home.
    fn hand_over(&mut self, id: SessionId, next: ConnectionId) {
        let Some(mut session) = self.sessions.remove(&id) else { return };
        if session.home == self.info.id {
            let mut files = lock(&self.shared.files);
            for (volatile, open) in &session.opens {
                let from = OpenRef { connection: self.info.id, volatile: *volatile };
                if let Some(key) = open.key {
                    files.rehome(&key, from, OpenRef { connection: next, volatile: *volatile }, id);
                }
            }
            drop(files);
            let mut watches = lock(&self.shared.watches);
            for volatile in session.opens.keys() {
                watches.remove(OpenRef { connection: self.info.id, volatile: *volatile });
            }
            drop(watches);
            lock(&self.shared.durable).move_session(id, self.info.id, next);
            session.home = next;
        }
        tracing::info!(connection = %self.info.id, session = id.0, next = %next, "a channel of the session is gone; it goes on over another");
        if let Some(channel) = self.channels.remove(&id) {
            channel.slot.put(session, |_| None);
        }
        self.shared.control(next, crate::engine::shared::Control::Publish);
    }

    /// Who a session of this connection is signed in as.
    #[cfg(test)]
    pub(crate) fn identity_of(&mut self, session_id: SessionId) -> Option<crate::engine::session::Identity> {
        self.enter();
        let identity = self.sessions.get(&session_id).and_then(|s| s.identity().cloned());
        self.leave();
        identity
    }

    /// The connection a session's opens belong to (Session.Connection): its home channel.
    pub(crate) fn home_of(&self, session_id: SessionId) -> ConnectionId {
        self.sessions.get(&session_id).map_or(self.info.id, |s| s.home)
    }

    /// The owner of a session's open in the file table: the session's home connection.
    pub fn open_ref(&self, session_id: SessionId, volatile: u64) -> OpenRef {
        OpenRef { connection: self.home_of(session_id), volatile }
    }

    /// An administrator (or a reconnecting client's PreviousSessionId) ends a session here.
    pub fn close_session(&mut self, session_id: SessionId, keep_durable: bool, now: Now) {
        self.enter();
        self.now = now;
        if keep_durable {
            crate::engine::durable::keep_opens(self, session_id, now);
        }
        crate::engine::handlers::logoff::end_session(self, session_id);
        self.publish_sessions();
        self.leave();
    }

    /// Another connection's request closes an open of this one (an administrator, or an
    /// application instance opening again).
    pub fn close_file(&mut self, volatile: u64, now: Now) -> Output {
        self.enter();
        self.now = now;
        let session = self.sessions.iter().find(|(_, s)| s.opens.contains_key(&volatile)).map(|(id, _)| *id);
        if let Some(session_id) = session {
            crate::engine::handlers::close::close_open(self, session_id, volatile);
        }
        let mut output = Output::default();
        output.frames.append(&mut self.deferred);
        self.publish_sessions();
        self.leave();
        output
    }
}

impl Drop for Connection {
    /// A connection dropped in the middle of its work (a handler panicked) ends the sessions it
    /// held, so that other channels stop waiting for them; its other channels are let go.
    fn drop(&mut self) {
        for id in std::mem::take(&mut self.held) {
            if let Some(channel) = self.channels.remove(&id) {
                channel.slot.end();
                lock(&self.shared.sessions).remove(id, &channel.slot);
            }
        }
        for (id, channel) in self.channels.drain() {
            if channel.slot.unbind(self.info.id).is_empty() {
                channel.slot.end();
                lock(&self.shared.sessions).remove(id, &channel.slot);
            }
        }
    }
}

/// Signs a response with `signer` (MS-SMB2 3.3.4.1.1).
fn sign(writer: &mut Writer, signer: &crate::crypto::Signer) {
    let message = writer.as_mut_slice();
    let flags_value = u32::from_le_bytes(message[16..20].try_into().expect("flags")) | flags::SIGNED;
    message[16..20].copy_from_slice(&flags_value.to_le_bytes());
    message[header::SIGNATURE_OFFSET..HEADER_SIZE].fill(0);
    let message_id = u64::from_le_bytes(message[24..32].try_into().expect("message id"));
    let signature = signer.sign(message, message_id, true, false);
    message[header::SIGNATURE_OFFSET..HEADER_SIZE].copy_from_slice(&signature);
}

/// Writes `header` into the first 64 bytes of a response.
pub fn write_header(writer: &mut Writer, header: &Header) {
    let mut encoded = Writer::with_capacity(HEADER_SIZE);
    header.encode(&mut encoded);
    writer.as_mut_slice()[..HEADER_SIZE].copy_from_slice(encoded.as_slice());
}

/// The frame for a plain (unencrypted) message chain: the length goes in just before it.
/// `None` for a chain too long for one Direct-TCP frame (MS-SMB2 2.1: 24-bit length), which the
/// compound budget keeps from happening: never a frame with a wrong length.
fn frame(writer: Writer) -> Option<Frame> {
    let length = writer.len();
    let header = framing::frame_header(length).ok()?;
    let (mut bytes, base) = writer.into_parts();
    let start = base - framing::HEADER_LENGTH;
    bytes[start..base].copy_from_slice(&header);
    Some(Frame { bytes, start })
}
