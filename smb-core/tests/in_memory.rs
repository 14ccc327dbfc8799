//! The engine driven in memory: clients (the project's own client side of MS-SMB2 and MS-NLMP)
//! and their connections exchange messages through `Connection::receive`, with no socket, no
//! runtime and no sleep, on virtual time: the test owns the clock and the server's random seed,
//! delivers what one connection asks of another (lease breaks, wake-ups) and fires the timers the
//! engine returns. Each test walks one path a real client takes: negotiate, session setup,
//! signing, encryption, compounds, credits, async requests and lease breaks.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use smb_core::auth::ntlm::client::SpnegoSignIn;
use smb_core::auth::ntlm::nt_hash;
use smb_core::crypto::{Encryptor, PreauthHash, SessionKeys, Signer};
use smb_core::engine::clock::Now;
use smb_core::engine::connection::{Connection, ConnectionInfo, Output, Timer};
use smb_core::engine::ids::ConnectionId;
use smb_core::engine::shared::{Control, Shared};
use smb_core::proto::change_notify::{ChangeNotifyRequest, FileNotifyInformation, action, filter};
use smb_core::proto::close::CloseRequest;
use smb_core::proto::create::{
    CreateContext, CreateRequest, CreateResponse, DURABLE_PERSISTENT, DurableContext, LeaseContext, context_name,
    disposition, options,
};
use smb_core::proto::framing;
use smb_core::proto::header::{Command, HEADER_SIZE, Header, SIGNATURE_OFFSET, flags};
use smb_core::proto::lock::{LockElement, LockRequest, lock_flags};
use smb_core::proto::logoff::LogoffRequest;
use smb_core::proto::negotiate::{
    Cipher, Dialect, HASH_SHA512, NegotiateContext, NegotiateRequest, NegotiateResponse, SigningAlgorithm,
    capabilities, security_mode,
};
use smb_core::proto::oplock_break::OplockBreakAcknowledgment;
use smb_core::proto::read::ReadRequest;
use smb_core::proto::session_setup::{SESSION_BINDING, SessionSetupRequest, SessionSetupResponse};
use smb_core::proto::status::NtStatus;
use smb_core::proto::transform::{self, TransformHeader};
use smb_core::proto::tree_connect::TreeConnectRequest;
use smb_core::proto::write::{WriteRequest, WriteResponse};
use smb_core::proto::{FileId, Reader, Writer};
use smb_core::{
    Access, EngineConfig, OpenJournal, PersistedCaching, PersistedLock, PersistentOpen, ShareConfig, UserConfig,
};

const USER: &str = "alice";
const PASSWORD: &str = "Alice-pass-1";
/// A second account, with no permission on any share.
const OTHER_USER: &str = "bob";
const OTHER_PASSWORD: &str = "Bob-pass-2";
/// FILE_READ_DATA | FILE_WRITE_DATA | FILE_READ_ATTRIBUTES | DELETE (MS-SMB2 2.2.13.1.1).
const READ_WRITE: u32 = 0x0001_0083;

/// A server with one user and three shares on a temporary directory: `docs`, `secret`, whose
/// data must be encrypted, and `ca`, continuously available.
struct Server {
    dir: tempfile::TempDir,
    shared: std::sync::Arc<Shared>,
    /// The virtual clock every connection of this server is handed.
    clock: Rc<Cell<Now>>,
    next_connection: Cell<u64>,
}

impl Server {
    fn new() -> Server {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let share = |name: &str, encrypt_data: bool| ShareConfig {
            name: name.into(),
            path: dir.path().to_owned(),
            description: String::new(),
            permissions: vec![(USER.into(), Access::Full)],
            encrypt_data,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: name == "ca",
        };
        let config = EngineConfig {
            users: [(USER, PASSWORD), (OTHER_USER, OTHER_PASSWORD)]
                .map(|(name, password)| UserConfig {
                    name: name.into(),
                    nt_hash: nt_hash(password),
                    enabled: true,
                    locked_until: None,
                })
                .into(),
            shares: vec![share("docs", false), share("secret", true), share("ca", false)],
            ..EngineConfig::default()
        };
        let start = Now::read();
        Server {
            shared: Shared::seeded(config, 0x5EED),
            dir,
            clock: Rc::new(Cell::new(start)),
            next_connection: Cell::new(1),
        }
    }

    /// The server process ends (nothing of it is left but its files and `journal`) and starts
    /// again with the same configuration, reading its persistent opens back from the journal.
    fn restart(self, journal: std::sync::Arc<MemoryJournal>) -> Server {
        let config = self.shared.runtime().config.clone();
        let shared = Shared::seeded(config, 0x5EED + 1);
        let restored = shared.restore(journal.opens(), self.clock.get());
        assert!(restored.iter().all(|(_, outcome)| outcome.is_ok()), "{restored:?}");
        shared.set_journal(journal);
        Server { shared, dir: self.dir, clock: self.clock, next_connection: self.next_connection }
    }

    /// Moves the virtual clock on.
    fn advance(&self, by: Duration) {
        self.clock.set(self.clock.get().later(by));
    }

    fn connect(&self) -> Client {
        let id = self.next_connection.get();
        self.next_connection.set(id + 1);
        let now = self.clock.get();
        let client = format!("127.0.0.1:{}", 50_000 + id).parse().unwrap();
        let info = ConnectionInfo::tcp(ConnectionId(id), client, "127.0.0.1:445".parse().unwrap(), now.instant);
        Client {
            controls: self.shared.attach(&info),
            connection: Connection::new(self.shared.clone(), info, now),
            clock: self.clock.clone(),
            timers: Vec::new(),
            signer: None,
            seal: None,
            open: None,
            session_id: 0,
            tree_id: 0,
            next_message_id: 0,
            credits: 1,
            encrypt: false,
            closed: false,
        }
    }
}

/// A response: its header and the whole message from the SMB2 header on.
struct Response {
    header: Header,
    message: Vec<u8>,
}

struct Client {
    connection: Connection,
    /// What other connections and the server ask of this one (as a transport receives them).
    controls: tokio::sync::mpsc::UnboundedReceiver<Control>,
    clock: Rc<Cell<Now>>,
    /// Timers the engine asked for and that have not fired yet.
    timers: Vec<Timer>,
    signer: Option<Signer>,
    /// Client to server, and server to client.
    seal: Option<Encryptor>,
    open: Option<Encryptor>,
    session_id: u64,
    tree_id: u32,
    next_message_id: u64,
    /// Credits granted and not yet spent.
    credits: u64,
    /// Send every request encrypted.
    encrypt: bool,
    /// The engine asked for the connection to end.
    closed: bool,
}

impl Client {
    /// A request header for `command` charging `charge` credits, encoded; returns it and the
    /// message id.
    fn request(&mut self, command: Command, charge: u16) -> (Writer, u64) {
        let message_id = self.next_message_id;
        let used = u64::from(charge.max(1));
        self.next_message_id += used;
        self.credits = self.credits.saturating_sub(used);
        let header = Header {
            credit_charge: charge,
            command,
            credits: 64,
            flags: if self.signer.is_some() && !self.encrypt { flags::SIGNED } else { 0 },
            message_id,
            tree_id: self.tree_id,
            session_id: self.session_id,
            ..Default::default()
        };
        let mut out = Writer::new();
        header.encode(&mut out);
        (out, message_id)
    }

    /// Signs or encrypts `message` as the session asks, hands it to the engine and returns the
    /// responses, decrypted and with their signatures checked.
    fn exchange(&mut self, mut message: Vec<u8>) -> Vec<Response> {
        let mut wire = if self.encrypt {
            self.seal_message(&message)
        } else {
            if let Some(signer) = &self.signer {
                sign_chain(signer, &mut message);
            }
            message
        };
        let output = self.connection.receive(&mut wire, self.clock.get());
        self.responses_of(output)
    }

    /// The responses in what the engine sent; its timers are kept for [`Client::fire_timers`].
    fn responses_of(&mut self, mut output: Output) -> Vec<Response> {
        self.closed |= output.close;
        self.timers.append(&mut output.timers);
        let mut responses = Vec::new();
        for frame in output.frames {
            let bytes = frame.as_slice();
            let length = framing::frame_length(bytes[..framing::HEADER_LENGTH].try_into().unwrap()).unwrap();
            let mut message = bytes[framing::HEADER_LENGTH..].to_vec();
            assert_eq!(message.len(), length, "a frame states its message's length");
            if message.starts_with(&transform::PROTOCOL_ID) {
                message = self.open_message(message);
            }
            responses.extend(self.split(message));
        }
        responses
    }

    /// Handles what other connections asked of this one meanwhile, as a transport does between
    /// messages: lease and oplock breaks to send, async requests to wake; what the engine sent.
    fn deliver(&mut self) -> Vec<Response> {
        let mut responses = Vec::new();
        while let Ok(control) = self.controls.try_recv() {
            let output = match control {
                Control::Wake { async_id } => self.connection.wake(async_id, self.clock.get()),
                Control::Break(notification) => self.connection.send_break(notification),
                Control::Publish => {
                    self.connection.publish();
                    Output::default()
                }
                other => panic!("unexpected {other:?}"),
            };
            responses.extend(self.responses_of(output));
        }
        responses
    }

    /// Wakes the async requests whose timers are due on the virtual clock; what the engine sent.
    fn fire_timers(&mut self) -> Vec<Response> {
        let now = self.clock.get();
        let (due, later): (Vec<Timer>, Vec<Timer>) = self.timers.drain(..).partition(|t| t.at <= now.instant);
        self.timers = later;
        let mut responses = Vec::new();
        for timer in due {
            let output = self.connection.wake(timer.async_id, now);
            responses.extend(self.responses_of(output));
        }
        responses
    }

    /// The responses of a (possibly compound) message, each signature checked once signed in.
    fn split(&mut self, message: Vec<u8>) -> Vec<Response> {
        let mut responses = Vec::new();
        let mut offset = 0;
        loop {
            let header = Header::decode(&mut Reader::new(&message[offset..])).expect("a response header");
            let end = if header.next_command == 0 { message.len() } else { offset + header.next_command as usize };
            let mut one = message[offset..end].to_vec();
            self.credits += u64::from(header.credits);
            if header.flags & flags::SIGNED != 0
                && let Some(signer) = &self.signer
            {
                one[SIGNATURE_OFFSET..HEADER_SIZE].fill(0);
                let expected = signer.sign(&one, header.message_id, true, false);
                assert_eq!(expected, header.signature, "response {} is signed right", header.message_id);
            }
            let next = header.next_command;
            responses.push(Response { header, message: one });
            if next == 0 {
                return responses;
            }
            offset = end;
        }
    }

    fn seal_message(&self, message: &[u8]) -> Vec<u8> {
        let encryptor = self.seal.as_ref().expect("encryption keys");
        let mut nonce = [0_u8; 16];
        nonce[..encryptor.nonce_len()].copy_from_slice(&rand::random::<[u8; 16]>()[..encryptor.nonce_len()]);
        let header = TransformHeader {
            signature: [0; 16],
            nonce,
            original_message_size: message.len() as u32,
            flags: transform::FLAGS_ENCRYPTED,
            session_id: self.session_id,
        };
        let mut out = Writer::new();
        header.encode(&mut out);
        let mut wire = out.into_vec();
        let mut body = message.to_vec();
        let tag = encryptor.seal(&nonce, &wire[transform::AAD_RANGE], &mut body);
        wire[4..20].copy_from_slice(&tag);
        wire.extend_from_slice(&body);
        wire
    }

    fn open_message(&self, mut message: Vec<u8>) -> Vec<u8> {
        let header = TransformHeader::decode(&message).expect("a transform header");
        let head: [u8; transform::SIZE] = message[..transform::SIZE].try_into().unwrap();
        let decryptor = self.open.as_ref().expect("decryption keys");
        decryptor
            .open(&head[20..36], &head[transform::AAD_RANGE], &mut message, transform::SIZE, &header.signature)
            .expect("a response decrypts");
        message.split_off(transform::SIZE)
    }

    /// The one response to a one-request message.
    fn call(&mut self, message: Vec<u8>) -> Response {
        let mut responses = self.exchange(message);
        assert_eq!(responses.len(), 1, "one response");
        responses.remove(0)
    }

    /// NEGOTIATE 3.1.1 with preauthentication integrity, AES-128-GCM and AES-GMAC offered.
    fn negotiate(&mut self) -> (NegotiateResponse, PreauthHash) {
        let (mut out, _) = self.request(Command::NEGOTIATE, 0);
        NegotiateRequest {
            security_mode: security_mode::SIGNING_ENABLED,
            capabilities: capabilities::LARGE_MTU
                | capabilities::ENCRYPTION
                | capabilities::PERSISTENT_HANDLES
                | capabilities::MULTI_CHANNEL,
            client_guid: [7; 16],
            dialects: vec![Dialect::SMB3_0_2, Dialect::SMB3_1_1],
            contexts: vec![
                NegotiateContext::PreauthIntegrity { hash_algorithms: vec![HASH_SHA512], salt: vec![3; 32] },
                NegotiateContext::Encryption { ciphers: vec![Cipher::AES_128_GCM] },
                NegotiateContext::Signing { algorithms: vec![SigningAlgorithm::AES_GMAC] },
            ],
        }
        .encode(&mut out);
        let mut preauth = PreauthHash::default();
        preauth.update(out.as_slice());
        let response = self.call(out.into_vec());
        assert_eq!(response.header.status, NtStatus::SUCCESS);
        preauth.update(&response.message);
        (NegotiateResponse::decode(&response.message).expect("a NEGOTIATE response"), preauth)
    }

    fn session_setup_leg(&mut self, preauth: &mut PreauthHash, token: Vec<u8>) -> (Response, Vec<u8>) {
        let (mut out, _) = self.request(Command::SESSION_SETUP, 0);
        SessionSetupRequest {
            security_mode: security_mode::SIGNING_ENABLED as u8,
            security_buffer: token,
            ..Default::default()
        }
        .encode(&mut out);
        preauth.update(out.as_slice());
        let response = self.call(out.into_vec());
        if response.header.status == NtStatus::MORE_PROCESSING_REQUIRED {
            preauth.update(&response.message);
        }
        let token = SessionSetupResponse::decode(&response.message).map(|r| r.security_buffer).unwrap_or_default();
        (response, token)
    }

    /// Signs in with NTLMv2 in SPNEGO; returns the final status. On success the session's
    /// signing and encryption keys are the client's too.
    fn sign_in(&mut self, preauth: &mut PreauthHash, password: &str) -> NtStatus {
        let (sign_in, first) = SpnegoSignIn::start();
        let (challenge, token) = self.session_setup_leg(preauth, first);
        assert_eq!(challenge.header.status, NtStatus::MORE_PROCESSING_REQUIRED);
        self.session_id = challenge.header.session_id;
        let (second, session_key) = sign_in.answer(&token, USER, "", password).expect("an NTLM answer");
        let (done, _) = self.session_setup_leg(preauth, second);
        if done.header.status == NtStatus::SUCCESS {
            let keys = SessionKeys::derive(Dialect::SMB3_1_1, &session_key, &preauth.0, Some(Cipher::AES_128_GCM));
            self.signer = Signer::new(Dialect::SMB3_1_1, SigningAlgorithm::AES_GMAC, &keys.signing);
            self.seal = Some(Encryptor::new(Cipher::AES_128_GCM, &keys.decryption).unwrap());
            self.open = Some(Encryptor::new(Cipher::AES_128_GCM, &keys.encryption).unwrap());
            // The final response is signed with the new session's key (MS-SMB2 3.3.5.5.3).
            let mut message = done.message.clone();
            message[SIGNATURE_OFFSET..HEADER_SIZE].fill(0);
            let expected = self.signer.as_ref().unwrap().sign(&message, done.header.message_id, true, false);
            assert_eq!(expected, done.header.signature, "the last SESSION_SETUP response is signed");
        }
        done.header.status
    }

    fn tree_connect(&mut self, share: &str) -> Response {
        let (mut out, _) = self.request(Command::TREE_CONNECT, 0);
        TreeConnectRequest { flags: 0, path: format!("\\\\edgeshare\\{share}") }.encode(&mut out);
        let response = self.call(out.into_vec());
        if response.header.status == NtStatus::SUCCESS {
            self.tree_id = response.header.tree_id;
        }
        response
    }

    /// A signed-in session with `share` connected.
    fn ready(server: &Server, share: &str) -> Client {
        let mut client = server.connect();
        let (_, mut preauth) = client.negotiate();
        assert_eq!(client.sign_in(&mut preauth, PASSWORD), NtStatus::SUCCESS);
        let response = client.tree_connect(share);
        assert_eq!(response.header.status, NtStatus::SUCCESS);
        client
    }

    /// A request of a related compound (it names "the open of the request before").
    fn related(&mut self, command: Command, body: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let (mut out, _) = self.request(command, 1);
        body(&mut out);
        let mut message = out.into_vec();
        let flags_value = u32::from_le_bytes(message[16..20].try_into().unwrap()) | flags::RELATED_OPERATIONS;
        message[16..20].copy_from_slice(&flags_value.to_le_bytes());
        message
    }

    fn create(&mut self, name: &str) -> FileId {
        let (mut out, _) = self.request(Command::CREATE, 0);
        create_request(name).encode(&mut out);
        let response = self.call(out.into_vec());
        assert_eq!(response.header.status, NtStatus::SUCCESS, "CREATE {name}");
        CreateResponse::decode(&response.message).unwrap().file_id
    }

    fn write(&mut self, file_id: FileId, data: &[u8]) -> u32 {
        let (mut out, _) = self.request(Command::WRITE, 1);
        WriteRequest { offset: 0, file_id, data, ..Default::default() }.encode(&mut out);
        let response = self.call(out.into_vec());
        assert_eq!(response.header.status, NtStatus::SUCCESS, "WRITE");
        WriteResponse::decode(&response.message).unwrap().count
    }

    fn read(&mut self, file_id: FileId, length: u32) -> Vec<u8> {
        let (mut out, _) = self.request(Command::READ, 1);
        ReadRequest { length, offset: 0, file_id, ..Default::default() }.encode(&mut out);
        let response = self.call(out.into_vec());
        assert_eq!(response.header.status, NtStatus::SUCCESS, "READ");
        read_data(&response.message)
    }
}

impl Client {
    /// Sends one request whose answer may be an interim STATUS_PENDING; that response.
    fn send_create(&mut self, request: CreateRequest) -> Response {
        let (mut out, _) = self.request(Command::CREATE, 0);
        request.encode(&mut out);
        self.call(out.into_vec())
    }

    /// Opens `name` asking for a lease with key `key` in state `state`; the response.
    fn create_leased(&mut self, name: &str, key: [u8; 16], state: u32) -> Response {
        let lease = LeaseContext { key, state, v2: true, ..Default::default() };
        self.send_create(CreateRequest {
            requested_oplock_level: LEASE,
            contexts: vec![CreateContext::new(context_name::REQUEST_LEASE, lease.encode())],
            ..create_request(name)
        })
    }
}

/// MS-SMB2 2.2.13 RequestedOplockLevel SMB2_OPLOCK_LEVEL_LEASE.
const LEASE: u8 = 0xFF;
/// MS-SMB2 2.2.13.2.8 lease states.
const READ_CACHING: u32 = 0x01;
const HANDLE_CACHING: u32 = 0x02;
const WRITE_CACHING: u32 = 0x04;

/// The lease state a CREATE response grants.
fn granted_lease(response: &Response) -> u32 {
    let create = CreateResponse::decode(&response.message).expect("a CREATE response");
    let context = create.contexts.iter().find(|c| c.name == context_name::REQUEST_LEASE).expect("a lease context");
    LeaseContext::decode(&context.data).expect("a lease").state
}

/// MS-SMB2 2.2.23.2 Lease Break Notification: (lease key, current state, new state).
fn lease_break(response: &Response) -> ([u8; 16], u32, u32) {
    assert_eq!(response.header.command, Command::OPLOCK_BREAK);
    let body = &response.message[HEADER_SIZE..];
    assert_eq!(u16::from_le_bytes([body[0], body[1]]), 44, "a lease break notification");
    let word = |at: usize| u32::from_le_bytes(body[at..at + 4].try_into().unwrap());
    (body[8..24].try_into().unwrap(), word(24), word(28))
}

/// A client with a read-write-handle lease on `leased.txt`, and another client whose open of
/// that file (for writing) must wait for the lease to give up write caching: the holder, the
/// other client, and the other's interim answer.
fn lease_break_under_way(server: &Server) -> (Client, Client, Response) {
    let mut holder = Client::ready(server, "docs");
    let leased = holder.create_leased("leased.txt", [1; 16], READ_CACHING | HANDLE_CACHING | WRITE_CACHING);
    assert_eq!(leased.header.status, NtStatus::SUCCESS);
    assert_eq!(granted_lease(&leased), READ_CACHING | HANDLE_CACHING | WRITE_CACHING);
    let mut other = Client::ready(server, "docs");
    let interim =
        other.send_create(CreateRequest { create_disposition: disposition::OPEN, ..create_request("leased.txt") });
    assert_eq!(interim.header.status, NtStatus::PENDING, "the open waits for the break");
    assert_ne!(interim.header.flags & flags::ASYNC_COMMAND, 0, "an interim answer carries an async id");
    (holder, other, interim)
}

fn create_request(name: &str) -> CreateRequest {
    CreateRequest {
        impersonation_level: 2,
        desired_access: READ_WRITE,
        share_access: 7,
        create_disposition: disposition::OVERWRITE_IF,
        name: name.into(),
        ..Default::default()
    }
}

/// Signs each request of a (possibly compound) message in place.
fn sign_chain(signer: &Signer, message: &mut [u8]) {
    let mut offset = 0;
    loop {
        let header = Header::decode(&mut Reader::new(&message[offset..])).unwrap();
        let end = if header.next_command == 0 { message.len() } else { offset + header.next_command as usize };
        let one = &mut message[offset..end];
        let signature = signer.sign(one, header.message_id, false, false);
        one[SIGNATURE_OFFSET..HEADER_SIZE].copy_from_slice(&signature);
        if header.next_command == 0 {
            return;
        }
        offset = end;
    }
}

/// The data of a READ response (MS-SMB2 2.2.20).
fn read_data(message: &[u8]) -> Vec<u8> {
    let mut r = Reader::new(message);
    r.skip(HEADER_SIZE + 2, "header and StructureSize").unwrap();
    let offset = usize::from(r.u8("DataOffset").unwrap());
    r.skip(1, "Reserved").unwrap();
    let length = r.u32("DataLength").unwrap() as usize;
    r.slice_at(offset, length, "Data").unwrap().to_vec()
}

/// Appends `next` to a compound, 8-byte aligned, setting NextCommand of the request before it.
fn chain(compound: &mut Vec<u8>, last_start: &mut usize, next: &[u8]) {
    while !compound.len().is_multiple_of(8) {
        compound.push(0);
    }
    let offset = (compound.len() - *last_start) as u32;
    compound[*last_start + 20..*last_start + 24].copy_from_slice(&offset.to_le_bytes());
    *last_start = compound.len();
    compound.extend_from_slice(next);
}

#[test]
fn a_client_negotiates_3_1_1_signs_in_and_every_answer_after_is_signed() {
    let server = Server::new();
    let mut client = server.connect();
    let (negotiated, mut preauth) = client.negotiate();
    assert_eq!(negotiated.dialect, Dialect::SMB3_1_1);
    assert_eq!(client.sign_in(&mut preauth, PASSWORD), NtStatus::SUCCESS);
    let tree = client.tree_connect("docs");
    assert_eq!(tree.header.status, NtStatus::SUCCESS);
    assert_ne!(tree.header.flags & flags::SIGNED, 0, "TREE_CONNECT is answered signed");
    let file = client.create("notes.txt");
    assert_eq!(client.write(file, b"signed and sealed"), 17);
    assert_eq!(client.read(file, 100), b"signed and sealed");
    assert!(!client.closed);
}

#[test]
fn a_wrong_password_is_refused_with_logon_failure_and_no_session_remains() {
    let server = Server::new();
    let mut client = server.connect();
    let (_, mut preauth) = client.negotiate();
    assert_eq!(client.sign_in(&mut preauth, "not the password"), NtStatus::LOGON_FAILURE);
    let tree = client.tree_connect("docs");
    assert_eq!(tree.header.status, NtStatus::USER_SESSION_DELETED);
}

#[test]
fn an_encrypted_share_refuses_plain_requests_and_answers_encrypted_ones_encrypted() {
    let server = Server::new();
    let mut client = Client::ready(&server, "secret");
    let (mut out, _) = client.request(Command::CREATE, 0);
    create_request("plain.txt").encode(&mut out);
    let refused = client.call(out.into_vec());
    assert_eq!(refused.header.status, NtStatus::ACCESS_DENIED, "a signed but plain CREATE on an encrypted share");

    client.encrypt = true;
    let file = client.create("sealed.txt");
    assert_eq!(client.write(file, b"only ciphertext on the wire"), 27);
    assert_eq!(client.read(file, 64), b"only ciphertext on the wire");
}

#[test]
fn a_related_compound_of_create_write_read_close_is_answered_in_one_chain() {
    let server = Server::new();
    let mut client = Client::ready(&server, "docs");
    let related = FileId { persistent: u64::MAX, volatile: u64::MAX };
    let (mut out, _) = client.request(Command::CREATE, 0);
    create_request("compound.txt").encode(&mut out);
    let mut compound = out.into_vec();
    let mut last = 0;
    let write = client.related(Command::WRITE, |out| {
        WriteRequest { file_id: related, data: b"chained", ..Default::default() }.encode(out)
    });
    chain(&mut compound, &mut last, &write);
    let read = client
        .related(Command::READ, |out| ReadRequest { length: 16, file_id: related, ..Default::default() }.encode(out));
    chain(&mut compound, &mut last, &read);
    let close =
        client.related(Command::CLOSE, |out| CloseRequest { flags: 0, reserved: 0, file_id: related }.encode(out));
    chain(&mut compound, &mut last, &close);
    let responses = client.exchange(compound);
    let commands: Vec<Command> = responses.iter().map(|r| r.header.command).collect();
    assert_eq!(commands, [Command::CREATE, Command::WRITE, Command::READ, Command::CLOSE]);
    assert!(responses.iter().all(|r| r.header.status == NtStatus::SUCCESS));
    assert_eq!(read_data(&responses[2].message), b"chained");
}

#[test]
fn a_request_beyond_the_granted_credits_ends_the_connection() {
    let server = Server::new();
    let mut client = Client::ready(&server, "docs");
    // Skip far past the window of message ids the server granted (MS-SMB2 3.3.5.2.3).
    client.next_message_id += 100_000;
    let (mut out, _) = client.request(Command::ECHO, 0);
    out.u16(4).u16(0);
    let responses = client.exchange(out.into_vec());
    assert!(responses.is_empty(), "no answer to a message id outside the window");
    assert!(client.closed, "the engine ends the connection");
}

#[test]
fn credits_are_granted_up_to_what_the_client_asks() {
    let server = Server::new();
    let mut client = Client::ready(&server, "docs");
    let before = client.credits;
    let (mut out, _) = client.request(Command::ECHO, 0);
    out.u16(4).u16(0);
    let echo = client.call(out.into_vec());
    assert_eq!(echo.header.status, NtStatus::SUCCESS);
    assert!(echo.header.credits >= 1, "each answer grants at least the credit it cost");
    assert!(client.credits >= before, "the client never runs dry by asking");
}

#[test]
fn a_request_with_a_bad_signature_is_refused_and_the_refusal_carries_no_signature() {
    let server = Server::new();
    let mut client = Client::ready(&server, "docs");
    let (mut out, _) = client.request(Command::ECHO, 0);
    out.u16(4).u16(0);
    let mut message = out.into_vec();
    sign_chain(client.signer.as_ref().unwrap(), &mut message);
    message[SIGNATURE_OFFSET] ^= 1;
    let output = client.connection.receive(&mut message, server.clock.get());
    assert_eq!(output.frames.len(), 1);
    let answer = &output.frames[0].as_slice()[framing::HEADER_LENGTH..];
    let header = Header::decode(&mut Reader::new(answer)).unwrap();
    assert_eq!(header.status, NtStatus::ACCESS_DENIED);
    assert_ne!(header.flags & flags::SIGNED, 0, "flagged signed, as the request was");
    assert_eq!(header.signature, [0; 16], "but not signed with a key the request did not prove");
}

#[test]
fn an_open_that_breaks_a_lease_waits_for_the_holder_and_goes_on_at_the_break_timeout_on_virtual_time() {
    let server = Server::new();
    let (mut holder, mut other, interim) = lease_break_under_way(&server);
    let notices = holder.deliver();
    assert_eq!(notices.len(), 1, "the holder is told");
    let (key, from, to) = lease_break(&notices[0]);
    assert_eq!(
        (key, from, to),
        ([1; 16], READ_CACHING | HANDLE_CACHING | WRITE_CACHING, READ_CACHING | HANDLE_CACHING)
    );
    // The holder never acknowledges: nothing happens until the break times out (35 s).
    server.advance(Duration::from_secs(34));
    assert!(other.fire_timers().is_empty() && other.deliver().is_empty(), "the open still waits at 34 s");
    server.advance(Duration::from_secs(1));
    let done = other.fire_timers();
    assert_eq!(done.len(), 1, "the open goes on at the timeout");
    assert_eq!((done[0].header.command, done[0].header.status), (Command::CREATE, NtStatus::SUCCESS));
    assert_eq!(done[0].header.async_id, interim.header.async_id, "the final answer names the interim's async id");
}

#[test]
fn an_acknowledged_lease_break_lets_the_waiting_open_go_on_at_once() {
    let server = Server::new();
    let (mut holder, mut other, interim) = lease_break_under_way(&server);
    let (key, _, to) = lease_break(&holder.deliver()[0]);
    let (mut out, _) = holder.request(Command::OPLOCK_BREAK, 0);
    OplockBreakAcknowledgment::Lease { flags: 0, lease_key: key, lease_state: to, lease_duration: 0 }.encode(&mut out);
    let acknowledged = holder.call(out.into_vec());
    assert_eq!(acknowledged.header.status, NtStatus::SUCCESS);
    // No time passes: the acknowledgment wakes the waiting open.
    let done = other.deliver();
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].header.status, done[0].header.async_id), (NtStatus::SUCCESS, interim.header.async_id));
    assert!(other.fire_timers().is_empty(), "its timer, due later, finds nothing to do");
}

#[test]
fn a_change_notification_waits_and_is_answered_when_another_client_adds_a_file() {
    let server = Server::new();
    std::fs::create_dir(server.dir.path().join("watched")).unwrap();
    let mut watcher = Client::ready(&server, "docs");
    let directory = watcher.send_create(CreateRequest {
        desired_access: 0x0010_0081,
        create_disposition: disposition::OPEN,
        create_options: options::DIRECTORY_FILE,
        ..create_request("watched")
    });
    assert_eq!(directory.header.status, NtStatus::SUCCESS);
    let file_id = CreateResponse::decode(&directory.message).unwrap().file_id;
    let (mut out, _) = watcher.request(Command::CHANGE_NOTIFY, 1);
    ChangeNotifyRequest {
        flags: 0,
        output_buffer_length: 4096,
        file_id,
        completion_filter: filter::FILE_NAME,
        reserved: 0,
    }
    .encode(&mut out);
    let interim = watcher.call(out.into_vec());
    assert_eq!(interim.header.status, NtStatus::PENDING);
    assert!(watcher.deliver().is_empty(), "nothing has changed yet");

    let mut writer = Client::ready(&server, "docs");
    writer.create("watched\\new.txt");
    let answered = watcher.deliver();
    assert_eq!(answered.len(), 1, "the change wakes the watcher");
    let notification = &answered[0];
    assert_eq!(
        (notification.header.status, notification.header.async_id),
        (NtStatus::SUCCESS, interim.header.async_id)
    );
    // MS-SMB2 2.2.36: OutputBufferOffset and OutputBufferLength, then the FILE_NOTIFY_INFORMATION list.
    let body = &notification.message[HEADER_SIZE..];
    let offset = usize::from(u16::from_le_bytes([body[2], body[3]]));
    let length = u32::from_le_bytes(body[4..8].try_into().unwrap()) as usize;
    let changes = FileNotifyInformation::decode_all(&notification.message[offset..offset + length]).unwrap();
    assert_eq!(changes, [FileNotifyInformation { action: action::ADDED, name: "new.txt".into() }]);
}

#[test]
fn the_same_seed_and_clock_give_the_same_negotiate_answer() {
    let answer = || {
        let server = Server::new();
        let start = server.clock.get();
        let mut client = server.connect();
        let (response, _) = client.negotiate();
        (response, start)
    };
    let (first, first_start) = answer();
    let (second, second_start) = answer();
    // The salt comes from the seeded generator; the time is the virtual clock's.
    assert_eq!(first.contexts, second.contexts, "the same preauthentication salt");
    let shift = second_start.filetime() - first_start.filetime();
    assert_eq!(second.system_time - first.system_time, shift, "the server's time is the clock it was handed");
}

/// MS-SMB2 2.2.13 RequestedOplockLevel SMB2_OPLOCK_LEVEL_BATCH.
const BATCH: u8 = 0x09;

impl Client {
    /// Opens `name` with a batch oplock and a durable handle v2 request (`timeout_ms`, CreateGuid
    /// `guid`): the open's FileId, after checking durability was granted with that timeout.
    fn create_durable(&mut self, name: &str, guid: [u8; 16], timeout_ms: u32) -> FileId {
        let response = self.send_create(CreateRequest {
            requested_oplock_level: BATCH,
            contexts: vec![DurableContext::RequestV2 { timeout_ms, flags: 0, create_guid: guid }.encode()],
            ..create_request(name)
        });
        assert_eq!(response.header.status, NtStatus::SUCCESS);
        let create = CreateResponse::decode(&response.message).unwrap();
        let granted = create.contexts.iter().find(|c| c.name == context_name::DURABLE_HANDLE_REQUEST_V2);
        assert_eq!(granted.map(|c| c.data[..4].to_vec()), Some(timeout_ms.to_le_bytes().to_vec()), "durable");
        create.file_id
    }

    /// Reclaims a durable open (DH2C): the response's status.
    fn reconnect(&mut self, name: &str, file_id: FileId, guid: [u8; 16]) -> NtStatus {
        self.send_create(CreateRequest {
            requested_oplock_level: BATCH,
            contexts: vec![DurableContext::ReconnectV2 { file_id, create_guid: guid, flags: 0 }.encode()],
            ..create_request(name)
        })
        .header
        .status
    }

    /// The transport is gone (as when the client's network drops).
    fn lose_connection(&mut self) {
        self.connection.shutdown(self.clock.get());
    }
}

#[test]
fn a_durable_open_outlives_its_connection_and_is_reclaimed_with_its_data_on_a_new_one() {
    let server = Server::new();
    let mut first = Client::ready(&server, "docs");
    let file_id = first.create_durable("report.txt", [7; 16], 60_000);
    assert_eq!(first.write(file_id, b"before the drop"), 15);
    first.lose_connection();
    let mut second = Client::ready(&server, "docs");
    assert_eq!(second.reconnect("report.txt", file_id, [9; 16]), NtStatus::OBJECT_NAME_NOT_FOUND, "another guid");
    assert_eq!(second.reconnect("report.txt", file_id, [7; 16]), NtStatus::SUCCESS);
    assert_eq!(second.read(file_id, 64), b"before the drop", "the same open, through the same FileId");
    assert_eq!(second.reconnect("report.txt", file_id, [7; 16]), NtStatus::OBJECT_NAME_NOT_FOUND, "held again");
}

#[test]
fn a_durable_open_whose_client_does_not_come_back_is_closed_at_its_timeout_on_virtual_time() {
    let server = Server::new();
    let mut first = Client::ready(&server, "docs");
    let file_id = first.create_durable("lost.txt", [3; 16], 5_000);
    first.lose_connection();
    server.advance(Duration::from_secs(4));
    assert_eq!(server.shared.scavenge(server.clock.get()), 0, "still waiting at 4 s");
    server.advance(Duration::from_secs(2));
    assert_eq!(server.shared.scavenge(server.clock.get()), 1, "closed after its 5 s");
    let mut second = Client::ready(&server, "docs");
    assert_eq!(second.reconnect("lost.txt", file_id, [3; 16]), NtStatus::OBJECT_NAME_NOT_FOUND);
}

#[test]
fn another_clients_open_closes_a_durable_open_waiting_for_its_client_without_waiting_for_a_break() {
    let server = Server::new();
    let mut first = Client::ready(&server, "docs");
    let file_id = first.create_durable("shared.txt", [5; 16], 60_000);
    first.lose_connection();
    let mut other = Client::ready(&server, "docs");
    let opened = other.send_create(CreateRequest {
        requested_oplock_level: BATCH,
        create_disposition: disposition::OPEN,
        ..create_request("shared.txt")
    });
    assert_eq!(opened.header.status, NtStatus::SUCCESS, "at once: nobody is left to acknowledge a break");
    assert_eq!(CreateResponse::decode(&opened.message).unwrap().oplock_level, BATCH, "and with the whole oplock");
    let mut back = Client::ready(&server, "docs");
    assert_eq!(back.reconnect("shared.txt", file_id, [5; 16]), NtStatus::OBJECT_NAME_NOT_FOUND);
}

#[test]
fn durable_opens_waiting_for_their_client_count_against_the_open_budget_until_their_timeout() {
    let server = Server::new();
    let mut config = server.shared.runtime().config.clone();
    config.server.limits.max_opens = 3;
    server.shared.apply(config);
    // A client holds three durable opens and vanishes, again and again: what it leaves behind is
    // bounded by the budget, and a legitimate client gets its opens back at the timeout.
    let mut first = Client::ready(&server, "docs");
    for (i, guid) in [[1; 16], [2; 16], [3; 16]].into_iter().enumerate() {
        first.create_durable(&format!("held-{i}.txt"), guid, 10_000);
    }
    first.lose_connection();
    let mut other = Client::ready(&server, "docs");
    let refused = other.send_create(create_request("mine.txt"));
    assert_eq!(refused.header.status, NtStatus::TOO_MANY_OPENED_FILES, "the waiting opens hold the budget");
    server.advance(Duration::from_secs(11));
    assert_eq!(server.shared.scavenge(server.clock.get()), 3);
    other.create("mine.txt");
}

/// A journal of persistent opens kept in memory (the server keeps it in its database).
#[derive(Default)]
struct MemoryJournal(std::sync::Mutex<std::collections::BTreeMap<u64, PersistentOpen>>);

impl MemoryJournal {
    fn opens(&self) -> Vec<PersistentOpen> {
        self.0.lock().unwrap().values().cloned().collect()
    }
}

impl OpenJournal for MemoryJournal {
    fn record(&self, open: &PersistentOpen) -> Result<(), String> {
        self.0.lock().unwrap().insert(open.persistent_id, open.clone());
        Ok(())
    }

    fn forget(&self, persistent_id: u64) {
        self.0.lock().unwrap().remove(&persistent_id);
    }
}

impl Client {
    /// Byte-range lock (exclusive, fail immediately) of `length` bytes at `offset`: the status.
    fn lock(&mut self, file_id: FileId, offset: u64, length: u64) -> NtStatus {
        self.lock_with(file_id, offset, length, lock_flags::EXCLUSIVE_LOCK | lock_flags::FAIL_IMMEDIATELY, 0)
    }

    /// A LOCK of one element with `flags`, naming `lock_sequence` (MS-SMB2 2.2.26).
    fn lock_with(&mut self, file_id: FileId, offset: u64, length: u64, flags: u32, lock_sequence: u32) -> NtStatus {
        let (mut out, _) = self.request(Command::LOCK, 1);
        LockRequest { lock_sequence, file_id, locks: vec![LockElement { offset, length, flags }] }.encode(&mut out);
        self.call(out.into_vec()).header.status
    }
}

#[test]
fn a_persistent_open_with_its_lock_and_data_survives_a_restart_of_the_server() {
    let server = Server::new();
    let journal = std::sync::Arc::new(MemoryJournal::default());
    server.shared.set_journal(journal.clone());
    let mut first = Client::ready(&server, "ca");
    // Persistent: granted on a continuously available share without any caching.
    let response = first.send_create(CreateRequest {
        contexts: vec![
            DurableContext::RequestV2 { timeout_ms: 30_000, flags: DURABLE_PERSISTENT, create_guid: [4; 16] }.encode(),
        ],
        ..create_request("ledger.txt")
    });
    assert_eq!(response.header.status, NtStatus::SUCCESS);
    let create = CreateResponse::decode(&response.message).unwrap();
    let granted = create.contexts.iter().find(|c| c.name == context_name::DURABLE_HANDLE_REQUEST_V2).expect("durable");
    assert_eq!(u32::from_le_bytes(granted.data[4..8].try_into().unwrap()), DURABLE_PERSISTENT, "persistent");
    let file_id = create.file_id;
    assert_eq!(first.write(file_id, b"entry 1"), 7);
    assert_eq!(first.lock(file_id, 0, 1), NtStatus::SUCCESS);
    let stored = journal.opens();
    assert_eq!(stored.len(), 1, "journaled before the client heard of it");
    assert_eq!(stored[0].locks, [PersistedLock { offset: 0, length: 1, exclusive: true }], "with its lock");
    // The server dies with the client's connection: nothing is closed, the journal stays.
    drop(first);
    let server = server.restart(journal.clone());
    let mut other = Client::ready(&server, "ca");
    let contending =
        other.send_create(CreateRequest { create_disposition: disposition::OPEN, ..create_request("ledger.txt") });
    assert_eq!(contending.header.status, NtStatus::SUCCESS, "another client opens the file meanwhile");
    let contending = CreateResponse::decode(&contending.message).unwrap().file_id;
    assert_eq!(other.lock(contending, 0, 1), NtStatus::LOCK_NOT_GRANTED, "the restored lock still holds");
    let mut back = Client::ready(&server, "ca");
    let reclaimed = back.send_create(CreateRequest {
        contexts: vec![
            DurableContext::ReconnectV2 { file_id, create_guid: [4; 16], flags: DURABLE_PERSISTENT }.encode(),
        ],
        ..create_request("ledger.txt")
    });
    assert_eq!(reclaimed.header.status, NtStatus::SUCCESS, "reclaimed after the restart");
    assert_eq!(back.read(file_id, 64), b"entry 1", "through the same FileId");
    assert_eq!(back.lock(file_id, 0, 1), NtStatus::LOCK_NOT_GRANTED, "its own lock, still held");
    let (mut out, _) = back.request(Command::CLOSE, 1);
    CloseRequest { flags: 0, file_id, ..Default::default() }.encode(&mut out);
    assert_eq!(back.call(out.into_vec()).header.status, NtStatus::SUCCESS);
    assert!(journal.opens().is_empty(), "a closed open leaves the journal");
    assert_eq!(other.lock(contending, 0, 1), NtStatus::SUCCESS, "and its lock with it");
}

#[test]
fn without_a_journal_or_on_a_plain_share_no_open_is_persistent() {
    let server = Server::new();
    let mut client = Client::ready(&server, "ca");
    let persistent_flag = |client: &mut Client, name: &str| {
        let response = client.send_create(CreateRequest {
            requested_oplock_level: BATCH,
            contexts: vec![
                DurableContext::RequestV2 {
                    timeout_ms: 0,
                    flags: DURABLE_PERSISTENT,
                    create_guid: [name.len() as u8; 16],
                }
                .encode(),
            ],
            ..create_request(name)
        });
        assert_eq!(response.header.status, NtStatus::SUCCESS);
        let create = CreateResponse::decode(&response.message).unwrap();
        let granted = create
            .contexts
            .iter()
            .find(|c| c.name == context_name::DURABLE_HANDLE_REQUEST_V2)
            .expect("durable (batch)");
        u32::from_le_bytes(granted.data[4..8].try_into().unwrap())
    };
    assert_eq!(persistent_flag(&mut client, "a.txt"), 0, "no journal: durable only");
    server.shared.set_journal(std::sync::Arc::new(MemoryJournal::default()));
    let mut plain = Client::ready(&server, "docs");
    assert_eq!(persistent_flag(&mut plain, "bb.txt"), 0, "a share that is not continuously available");
    let mut ca = Client::ready(&server, "ca");
    assert_eq!(persistent_flag(&mut ca, "ccc.txt"), DURABLE_PERSISTENT);
}

#[test]
fn an_acknowledged_lease_break_of_a_persistent_open_is_journaled_with_the_state_the_client_keeps() {
    let server = Server::new();
    let journal = std::sync::Arc::new(MemoryJournal::default());
    server.shared.set_journal(journal.clone());
    let mut holder = Client::ready(&server, "ca");
    let lease = LeaseContext {
        key: [2; 16],
        state: READ_CACHING | HANDLE_CACHING | WRITE_CACHING,
        v2: true,
        ..Default::default()
    };
    let leased = holder.send_create(CreateRequest {
        requested_oplock_level: LEASE,
        contexts: vec![
            CreateContext::new(context_name::REQUEST_LEASE, lease.encode()),
            DurableContext::RequestV2 { timeout_ms: 30_000, flags: DURABLE_PERSISTENT, create_guid: [8; 16] }.encode(),
        ],
        ..create_request("shared.txt")
    });
    assert_eq!(leased.header.status, NtStatus::SUCCESS);
    let state = |journal: &MemoryJournal| match journal.opens()[0].caching {
        PersistedCaching::Lease { state, .. } => state,
        other => panic!("{other:?}"),
    };
    assert_eq!(state(&journal), READ_CACHING | HANDLE_CACHING | WRITE_CACHING);
    let mut other = Client::ready(&server, "ca");
    let interim =
        other.send_create(CreateRequest { create_disposition: disposition::OPEN, ..create_request("shared.txt") });
    assert_eq!(interim.header.status, NtStatus::PENDING);
    let (key, _, to) = lease_break(&holder.deliver()[0]);
    let (mut out, _) = holder.request(Command::OPLOCK_BREAK, 0);
    OplockBreakAcknowledgment::Lease { flags: 0, lease_key: key, lease_state: to, lease_duration: 0 }.encode(&mut out);
    assert_eq!(holder.call(out.into_vec()).header.status, NtStatus::SUCCESS);
    assert_eq!(state(&journal), to, "journaled as acknowledged");
    assert_eq!(to, READ_CACHING | HANDLE_CACHING);
}

// Multichannel: a session bound to a second connection (MS-SMB2 3.3.5.5, 3.3.7.1).

impl Client {
    /// One leg of a binding SESSION_SETUP for `owner`'s session, signed with the session's key;
    /// an interim answer is checked against that key.
    fn bind_leg(&mut self, session_signer: &Signer, preauth: &mut PreauthHash, token: Vec<u8>) -> (Response, Vec<u8>) {
        let (mut out, _) = self.request(Command::SESSION_SETUP, 0);
        SessionSetupRequest {
            flags: SESSION_BINDING,
            security_mode: security_mode::SIGNING_ENABLED as u8,
            security_buffer: token,
            ..Default::default()
        }
        .encode(&mut out);
        let mut message = out.into_vec();
        let flags_value = u32::from_le_bytes(message[16..20].try_into().unwrap()) | flags::SIGNED;
        message[16..20].copy_from_slice(&flags_value.to_le_bytes());
        sign_chain(session_signer, &mut message);
        preauth.update(&message);
        let response = self.call(message);
        if response.header.status == NtStatus::MORE_PROCESSING_REQUIRED {
            let mut unsigned = response.message.clone();
            unsigned[SIGNATURE_OFFSET..HEADER_SIZE].fill(0);
            let expected = session_signer.sign(&unsigned, response.header.message_id, true, false);
            assert_eq!(
                expected, response.header.signature,
                "an interim binding answer is signed with the session's key"
            );
            preauth.update(&response.message);
        }
        let token = SessionSetupResponse::decode(&response.message).map(|r| r.security_buffer).unwrap_or_default();
        (response, token)
    }

    /// Binds `owner`'s session to this new connection, signing in as `user`. On success this
    /// client signs with the channel's own key, derived from this binding's authentication.
    fn bind(&mut self, owner: &Client, user: &str, password: &str) -> NtStatus {
        let (_, mut preauth) = self.negotiate();
        self.session_id = owner.session_id;
        self.tree_id = owner.tree_id;
        let session_signer = owner.signer.as_ref().expect("the owner is signed in");
        let (sign_in, first) = SpnegoSignIn::start();
        let (challenge, token) = self.bind_leg(session_signer, &mut preauth, first);
        if challenge.header.status != NtStatus::MORE_PROCESSING_REQUIRED {
            return challenge.header.status;
        }
        let (second, session_key) = sign_in.answer(&token, user, "", password).expect("an NTLM answer");
        let (done, _) = self.bind_leg(session_signer, &mut preauth, second);
        if done.header.status == NtStatus::SUCCESS {
            let keys = SessionKeys::derive(Dialect::SMB3_1_1, &session_key, &preauth.0, Some(Cipher::AES_128_GCM));
            self.signer = Signer::new(Dialect::SMB3_1_1, SigningAlgorithm::AES_GMAC, &keys.signing);
            let mut message = done.message.clone();
            message[SIGNATURE_OFFSET..HEADER_SIZE].fill(0);
            let expected = self.signer.as_ref().unwrap().sign(&message, done.header.message_id, true, false);
            assert_eq!(expected, done.header.signature, "the binding's success is signed with the channel's key");
            let by_session = session_signer.sign(&message, done.header.message_id, true, false);
            assert_ne!(by_session, expected, "the channel has a key of its own");
        }
        done.header.status
    }

    fn logoff(&mut self) -> NtStatus {
        let (mut out, _) = self.request(Command::LOGOFF, 0);
        LogoffRequest::default().encode(&mut out);
        self.call(out.into_vec()).header.status
    }
}

#[test]
fn a_second_connection_binds_the_session_and_serves_its_tree_and_open_with_its_own_signing_key() {
    let server = Server::new();
    let mut first = Client::ready(&server, "docs");
    let file = first.create("both.txt");
    first.write(file, b"written over the first channel");
    let mut second = server.connect();
    assert_eq!(second.bind(&first, USER, PASSWORD), NtStatus::SUCCESS);
    // The tree and the open of the session, through the other connection (smbtorture bind1).
    assert_eq!(second.read(file, 64), b"written over the first channel");
    second.write(file, b"WRITTEN");
    assert_eq!(first.read(file, 7), b"WRITTEN");
    // Each connection answers with its own key (the responses' signatures are checked).
    let opened = second.create("second.txt");
    second.write(opened, b"second");
    assert_eq!(first.read(opened, 6), b"second");
}

#[test]
fn a_binding_by_another_user_a_stranger_or_without_multichannel_is_refused_and_the_session_goes_on() {
    let server = Server::new();
    let mut first = Client::ready(&server, "docs");
    let file = first.create("kept.txt");
    first.write(file, b"kept");
    let mut other_user = server.connect();
    assert_eq!(other_user.bind(&first, OTHER_USER, OTHER_PASSWORD), NtStatus::ACCESS_DENIED);
    let mut wrong_password = server.connect();
    assert_eq!(wrong_password.bind(&first, USER, "not the password"), NtStatus::LOGON_FAILURE);
    // A session that does not exist.
    let mut stranger = server.connect();
    let mut ghost = Client::ready(&server, "docs");
    ghost.session_id += 0x1_0000;
    assert_eq!(stranger.bind(&ghost, USER, PASSWORD), NtStatus::USER_SESSION_DELETED);
    // A refused binding leaves no channel: the connection cannot use the session.
    other_user.signer = None;
    let (mut out, _) = other_user.request(Command::READ, 1);
    ReadRequest { length: 4, offset: 0, file_id: file, ..Default::default() }.encode(&mut out);
    assert_eq!(other_user.call(out.into_vec()).header.status, NtStatus::USER_SESSION_DELETED);
    assert_eq!(first.read(file, 4), b"kept", "the session is untouched");
    // A connection that did not negotiate multichannel cannot bind.
    let mut config = server.shared.runtime().config.clone();
    config.server.multichannel = false;
    server.shared.apply(config);
    let mut without = server.connect();
    assert_eq!(without.bind(&first, USER, PASSWORD), NtStatus::REQUEST_NOT_ACCEPTED);
}

#[test]
fn when_a_channel_is_lost_the_session_goes_on_over_the_other_and_breaks_reach_it_there() {
    let server = Server::new();
    let mut first = Client::ready(&server, "docs");
    let leased = first.create_leased("leased.txt", [9; 16], READ_CACHING | HANDLE_CACHING | WRITE_CACHING);
    assert_eq!(granted_lease(&leased), READ_CACHING | HANDLE_CACHING | WRITE_CACHING);
    let file = CreateResponse::decode(&leased.message).unwrap().file_id;
    first.write(file, b"before the loss");
    let mut second = server.connect();
    assert_eq!(second.bind(&first, USER, PASSWORD), NtStatus::SUCCESS);
    first.lose_connection();
    assert_eq!(second.read(file, 64), b"before the loss", "the open outlives the channel that made it");
    // Another client's open breaks the lease: the break goes to the channel left.
    let mut other = Client::ready(&server, "docs");
    let interim =
        other.send_create(CreateRequest { create_disposition: disposition::OPEN, ..create_request("leased.txt") });
    assert_eq!(interim.header.status, NtStatus::PENDING);
    let breaks = second.deliver();
    assert_eq!(breaks.len(), 1, "the lease break arrives over the remaining channel");
    let (key, _, _) = lease_break(&breaks[0]);
    assert_eq!(key, [9; 16]);
}

#[test]
fn a_logoff_on_one_channel_ends_the_session_on_every_channel() {
    let server = Server::new();
    let mut first = Client::ready(&server, "docs");
    let file = first.create("gone.txt");
    let mut second = server.connect();
    assert_eq!(second.bind(&first, USER, PASSWORD), NtStatus::SUCCESS);
    assert_eq!(second.logoff(), NtStatus::SUCCESS);
    // (The refusal is flagged signed with no signature: the session and its key are gone.)
    first.signer = None;
    let (mut out, _) = first.request(Command::READ, 1);
    ReadRequest { length: 4, offset: 0, file_id: file, ..Default::default() }.encode(&mut out);
    assert_eq!(first.call(out.into_vec()).header.status, NtStatus::USER_SESSION_DELETED);
    // Its open closed with it: an exclusive open of the file succeeds.
    let mut other = Client::ready(&server, "docs");
    other.create("gone.txt");
}

#[test]
fn a_replayed_lock_with_its_lock_sequence_is_answered_as_done_and_taken_once() {
    let server = Server::new();
    let mut client = Client::ready(&server, "docs");
    let file = client.create("sequenced.txt");
    let exclusive = lock_flags::EXCLUSIVE_LOCK | lock_flags::FAIL_IMMEDIATELY;
    // LockSequenceIndex 1, number 1: taken; the same again is a replay, answered as done.
    assert_eq!(client.lock_with(file, 0, 10, exclusive, 0x11), NtStatus::SUCCESS);
    assert_eq!(client.lock_with(file, 0, 10, exclusive, 0x11), NtStatus::SUCCESS);
    // Taken once: one unlock frees it, a second finds nothing.
    assert_eq!(client.lock_with(file, 0, 10, lock_flags::UNLOCK, 0x12), NtStatus::SUCCESS);
    assert_eq!(client.lock_with(file, 0, 10, lock_flags::UNLOCK, 0x13), NtStatus::RANGE_NOT_LOCKED);
    // Index 0 names no entry: no replay detection.
    assert_eq!(client.lock_with(file, 0, 10, exclusive, 0x01), NtStatus::SUCCESS);
    assert_eq!(client.lock_with(file, 0, 10, exclusive, 0x01), NtStatus::LOCK_NOT_GRANTED);
}
