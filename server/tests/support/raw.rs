//! A raw SMB 3.1.1 client for tests and the abuse benchmark, which must do what no well-behaved
//! client does: connect from a chosen loopback address, sign in (NTLMv2 in SPNEGO, every request
//! signed), then send requests without reading their answers, chain them into oversized
//! compounds, or never finish a sign-in. Over TCP, or over any byte stream (a QUIC stream).
//! Built on smb-core's wire codec and its client side of NTLM.

use std::net::{IpAddr, SocketAddr};

use smb_core::auth::ntlm::client::SpnegoSignIn;
use smb_core::crypto::{PreauthHash, SessionKeys, Signer};
use smb_core::proto::create::{CreateRequest, CreateResponse};
use smb_core::proto::framing;
use smb_core::proto::header::{Command, HEADER_SIZE, Header, SIGNATURE_OFFSET, flags};
use smb_core::proto::negotiate::{
    Cipher, Dialect, HASH_SHA512, NegotiateContext, NegotiateRequest, SigningAlgorithm, capabilities, security_mode,
};
use smb_core::proto::session_setup::{SessionSetupRequest, SessionSetupResponse};
use smb_core::proto::status::NtStatus;
use smb_core::proto::tree_connect::TreeConnectRequest;
use smb_core::proto::{FileId, Reader, Writer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub type Result<T> = std::result::Result<T, String>;

/// Credits asked for with every request.
const CREDIT_REQUEST: u16 = 512;

/// Opens a TCP connection to `server` from the loopback address `from` (127.0.0.0/8 has many:
/// an attacker's connections and a legitimate client's can come from different ones).
pub async fn connect_from(from: IpAddr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = if from.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(server).await
}

/// One connection, signed in once [`Raw::sign_in`] succeeded.
pub struct Raw<S = TcpStream> {
    pub stream: S,
    signer: Option<Signer>,
    pub session_id: u64,
    pub tree_id: u32,
    next_message_id: u64,
    /// Credits granted and not yet spent.
    pub credits: u64,
    /// The connection's preauthentication hash after NEGOTIATE, and the session's.
    negotiated: PreauthHash,
    preauth: PreauthHash,
}

/// A response: its header and the whole message.
pub struct Response {
    pub header: Header,
    pub message: Vec<u8>,
}

impl Raw {
    /// Connects from `from`, negotiates 3.1.1, signs in and connects `share` (`\\host\share`).
    pub async fn signed_in(from: IpAddr, server: SocketAddr, user: &str, password: &str, share: &str) -> Result<Raw> {
        let stream = connect_from(from, server).await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let mut raw = Raw::new(stream);
        raw.negotiate().await?;
        raw.sign_in(user, password).await?;
        raw.tree_connect(share).await?;
        Ok(raw)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Raw<S> {
    pub fn new(stream: S) -> Raw<S> {
        Raw {
            stream,
            signer: None,
            session_id: 0,
            tree_id: 0,
            next_message_id: 0,
            credits: 1,
            negotiated: PreauthHash::default(),
            preauth: PreauthHash::default(),
        }
    }

    pub async fn negotiate(&mut self) -> Result<()> {
        let request = NegotiateRequest {
            security_mode: security_mode::SIGNING_ENABLED,
            capabilities: capabilities::LARGE_MTU,
            client_guid: rand::random(),
            dialects: vec![Dialect::SMB3_1_1],
            contexts: vec![
                NegotiateContext::PreauthIntegrity { hash_algorithms: vec![HASH_SHA512], salt: vec![7; 32] },
                NegotiateContext::Encryption { ciphers: vec![Cipher::AES_128_GCM] },
                NegotiateContext::Signing { algorithms: vec![SigningAlgorithm::AES_GMAC] },
            ],
        };
        let mut out = self.request(Command::NEGOTIATE, 0);
        request.encode(&mut out);
        self.preauth.update(out.as_slice());
        self.send(out).await?;
        let response = self.receive().await?;
        if response.header.status != NtStatus::SUCCESS {
            return Err(format!("NEGOTIATE answered {:?}", response.header.status));
        }
        self.preauth.update(&response.message);
        self.negotiated = self.preauth.clone();
        Ok(())
    }

    /// Sends the first SESSION_SETUP of a new session (NTLM NEGOTIATE inside SPNEGO) and
    /// returns the answer: the start of a sign-in that an attacker never finishes.
    pub async fn start_session(&mut self) -> Result<Response> {
        let (_, first) = SpnegoSignIn::start();
        let mut out = self.request(Command::SESSION_SETUP, 0);
        SessionSetupRequest {
            security_mode: security_mode::SIGNING_ENABLED as u8,
            security_buffer: first,
            ..Default::default()
        }
        .encode(&mut out);
        self.send(out).await?;
        self.receive().await
    }

    /// Signs in as a new session (a failed attempt leaves the connection ready for another).
    pub async fn sign_in(&mut self, user: &str, password: &str) -> Result<()> {
        self.session_id = 0;
        self.signer = None;
        self.preauth = self.negotiated.clone();
        let (sign_in, first) = SpnegoSignIn::start();
        let (challenge, token) = self.session_setup_leg(first).await?;
        if challenge.header.status != NtStatus::MORE_PROCESSING_REQUIRED {
            return Err(format!("first SESSION_SETUP answered {:?}", challenge.header.status));
        }
        self.session_id = challenge.header.session_id;
        let (second, session_key) = sign_in.answer(&token, user, "", password)?;
        let (done, _) = self.session_setup_leg(second).await?;
        if done.header.status != NtStatus::SUCCESS {
            return Err(format!("signing in as {user} failed: {:?}", done.header.status));
        }
        let keys = SessionKeys::derive(Dialect::SMB3_1_1, &session_key, &self.preauth.0, Some(Cipher::AES_128_GCM));
        self.signer = Signer::new(Dialect::SMB3_1_1, SigningAlgorithm::AES_GMAC, &keys.signing);
        Ok(())
    }

    async fn session_setup_leg(&mut self, token: Vec<u8>) -> Result<(Response, Vec<u8>)> {
        let request = SessionSetupRequest {
            security_mode: security_mode::SIGNING_ENABLED as u8,
            security_buffer: token,
            ..Default::default()
        };
        let mut out = self.request(Command::SESSION_SETUP, 0);
        request.encode(&mut out);
        self.preauth.update(out.as_slice());
        self.send(out).await?;
        let response = self.receive().await?;
        if response.header.status == NtStatus::MORE_PROCESSING_REQUIRED {
            self.preauth.update(&response.message);
        }
        let body = SessionSetupResponse::decode(&response.message).map_err(|e| e.to_string())?;
        Ok((response, body.security_buffer))
    }

    pub async fn tree_connect(&mut self, path: &str) -> Result<()> {
        let mut out = self.request(Command::TREE_CONNECT, 0);
        TreeConnectRequest { flags: 0, path: path.to_owned() }.encode(&mut out);
        self.send(out).await?;
        let response = self.receive().await?;
        if response.header.status != NtStatus::SUCCESS {
            return Err(format!("TREE_CONNECT {path} answered {:?}", response.header.status));
        }
        self.tree_id = response.header.tree_id;
        Ok(())
    }

    /// Opens `request.name`; the file id, or the status the server answered.
    pub async fn create(&mut self, request: CreateRequest) -> std::result::Result<FileId, NtStatus> {
        let mut out = self.request(Command::CREATE, 0);
        request.encode(&mut out);
        self.send(out).await.map_err(|_| NtStatus::UNSUCCESSFUL)?;
        let response = self.receive().await.map_err(|_| NtStatus::UNSUCCESSFUL)?;
        if response.header.status != NtStatus::SUCCESS {
            return Err(response.header.status);
        }
        Ok(CreateResponse::decode(&response.message).map_err(|_| NtStatus::UNSUCCESSFUL)?.file_id)
    }

    /// Asks for credits until the server has granted `wanted` (ECHOs, answered at once).
    pub async fn gather_credits(&mut self, wanted: u64) -> Result<()> {
        while self.credits < wanted {
            let mut out = self.request(Command::ECHO, 0);
            out.u16(4).u16(0);
            self.send(out).await?;
            self.receive().await?;
        }
        Ok(())
    }

    /// A request's header for the current session and tree, charged `charge` credits.
    pub fn request(&mut self, command: Command, charge: u16) -> Writer {
        let header = self.header(command, charge);
        let mut out = Writer::new();
        header.encode(&mut out);
        out
    }

    /// The header of the next request (its message id taken, its credits spent).
    pub fn header(&mut self, command: Command, charge: u16) -> Header {
        let message_id = self.next_message_id;
        let spent = u64::from(charge.max(1));
        self.next_message_id += spent;
        self.credits = self.credits.saturating_sub(spent);
        Header {
            credit_charge: charge,
            command,
            credits: CREDIT_REQUEST,
            flags: if self.signer.is_some() { flags::SIGNED } else { 0 },
            message_id,
            tree_id: self.tree_id,
            session_id: self.session_id,
            ..Default::default()
        }
    }

    /// Signs `message` (one request of a chain, its NextCommand already set) once signed in.
    pub fn sign(&self, message: &mut [u8]) {
        let Some(signer) = &self.signer else { return };
        let message_id = u64::from_le_bytes(message[24..32].try_into().expect("message id"));
        let signature = signer.sign(message, message_id, false, false);
        message[SIGNATURE_OFFSET..HEADER_SIZE].copy_from_slice(&signature);
    }

    /// Signs, frames and sends one request.
    pub async fn send(&mut self, out: Writer) -> Result<()> {
        let mut message = out.into_vec();
        self.sign(&mut message);
        self.send_message(&message).await
    }

    /// Frames and sends `message` as it is.
    pub async fn send_message(&mut self, message: &[u8]) -> Result<()> {
        let mut framed = framing::frame_header(message.len()).map_err(|e| e.to_string())?.to_vec();
        framed.extend_from_slice(message);
        self.stream.write_all(&framed).await.map_err(|e| e.to_string())
    }

    /// The next response (interim STATUS_PENDING answers skipped).
    pub async fn receive(&mut self) -> Result<Response> {
        loop {
            let mut frame = [0; framing::HEADER_LENGTH];
            self.stream.read_exact(&mut frame).await.map_err(|e| format!("no response: {e}"))?;
            let length = framing::frame_length(frame).map_err(|e| e.to_string())?;
            let mut message = vec![0; length];
            self.stream.read_exact(&mut message).await.map_err(|e| e.to_string())?;
            let header = Header::decode(&mut Reader::new(&message)).map_err(|e| e.to_string())?;
            self.credits += u64::from(header.credits);
            if header.status == NtStatus::PENDING && header.is_async() {
                continue;
            }
            return Ok(Response { header, message });
        }
    }
}

/// The statuses of a compound response's messages, in order (MS-SMB2 3.3.4.1.3: chained by
/// NextCommand), and the whole response's size.
pub fn chain_statuses(message: &[u8]) -> Vec<NtStatus> {
    let mut statuses = Vec::new();
    let mut offset = 0;
    while let Some(header) = message.get(offset..).and_then(|rest| Header::decode(&mut Reader::new(rest)).ok()) {
        statuses.push(header.status);
        if header.next_command == 0 {
            break;
        }
        offset += header.next_command as usize;
    }
    statuses
}
