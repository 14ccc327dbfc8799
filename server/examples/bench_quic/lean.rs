//! A lean SMB 3.1.1 client over QUIC, written for the benchmark so that it measures the server
//! rather than the client: the smb crate's client spends more CPU per byte than EdgeShare does
//! (over TCP it reads at a fraction of what smbclient reads), so with it the ratio to raw quinn
//! says more about the client than about the server.
//!
//! It does what a real client must and nothing more: NEGOTIATE 3.1.1 with preauthentication
//! integrity (MS-SMB2 3.2.4.2.2.2), NTLMv2 inside SPNEGO (smb-core's client side of MS-NLMP),
//! session keys from the preauthentication hash (3.2.5.3.1), every request signed and every
//! response's signature verified (AES-128-GMAC, 3.1.4.1), credits tracked (3.2.4.1.5), READs and
//! WRITEs pipelined up to a number in flight. Sends hand whole buffers to quinn without a copy;
//! received data is copied once, into the message buffer, as a client copies it to its caller.

use std::net::SocketAddr;

use bytes::Bytes;
use rand::RngCore;
use smb_core::auth::ntlm::client::SpnegoSignIn;
use smb_core::crypto::{PreauthHash, SessionKeys, Signer};
use smb_core::proto::close::CloseRequest;
use smb_core::proto::create::{CreateRequest, CreateResponse};
use smb_core::proto::framing;
use smb_core::proto::header::{Command, HEADER_SIZE, Header, SIGNATURE_OFFSET, flags};
use smb_core::proto::negotiate::{
    ACCEPT_TRANSPORT_LEVEL_SECURITY, Cipher, Dialect, HASH_SHA512, NegotiateContext, NegotiateRequest,
    NegotiateResponse, SigningAlgorithm, capabilities, security_mode,
};
use smb_core::proto::read::ReadRequest;
use smb_core::proto::session_setup::{SessionSetupRequest, SessionSetupResponse};
use smb_core::proto::status::NtStatus;
use smb_core::proto::tree_connect::TreeConnectRequest;
use smb_core::proto::write::{WriteRequest, WriteResponse};
use smb_core::proto::{FileId, Reader, Writer};

/// Credits asked for with every request: enough for several 8 MiB operations in flight.
const CREDIT_REQUEST: u16 = 512;
/// One credit per 64 KiB of payload (MS-SMB2 3.1.5.2).
const CREDIT_UNIT: usize = 64 << 10;

pub type Result<T> = std::result::Result<T, String>;

/// One signed-in session with one tree connected, on one QUIC stream.
pub struct Lean {
    endpoint: quinn::Endpoint,
    connection: quinn::Connection,
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    signer: Option<Signer>,
    session_id: u64,
    tree_id: u32,
    next_message_id: u64,
    /// Credits granted and not yet spent.
    credits: u64,
}

/// A response: its header and the whole message (header included).
pub struct Response {
    pub header: Header,
    pub message: Vec<u8>,
}

impl Lean {
    /// Connects to `server` by `name` (SNI), signs in as `user` and connects `share`.
    pub async fn connect(
        server: SocketAddr,
        name: &str,
        config: quinn::ClientConfig,
        user: &str,
        password: &str,
        share: &str,
    ) -> Result<Lean> {
        let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).map_err(|e| e.to_string())?;
        let connection = endpoint
            .connect_with(config, server, name)
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| format!("QUIC handshake: {e}"))?;
        let (send, recv) = connection.open_bi().await.map_err(|e| e.to_string())?;
        let mut lean = Lean {
            endpoint,
            connection,
            send,
            recv,
            signer: None,
            session_id: 0,
            tree_id: 0,
            next_message_id: 0,
            credits: 1,
        };
        let mut preauth = lean.negotiate().await?;
        lean.session_setup(&mut preauth, user, password).await?;
        lean.tree_connect(&format!("\\\\{name}\\{share}")).await?;
        Ok(lean)
    }

    async fn negotiate(&mut self) -> Result<PreauthHash> {
        let mut salt = vec![0; 32];
        let mut client_guid = [0; 16];
        rand::rng().fill_bytes(&mut salt);
        rand::rng().fill_bytes(&mut client_guid);
        let request = NegotiateRequest {
            security_mode: security_mode::SIGNING_ENABLED,
            capabilities: capabilities::LARGE_MTU,
            client_guid,
            dialects: vec![Dialect::SMB3_1_1],
            contexts: vec![
                NegotiateContext::PreauthIntegrity { hash_algorithms: vec![HASH_SHA512], salt },
                NegotiateContext::Encryption { ciphers: vec![Cipher::AES_128_GCM] },
                NegotiateContext::Signing { algorithms: vec![SigningAlgorithm::AES_GMAC] },
                NegotiateContext::TransportCapabilities { flags: ACCEPT_TRANSPORT_LEVEL_SECURITY },
            ],
        };
        let (mut out, message_id) = self.request(Command::NEGOTIATE, 0, 64);
        request.encode(&mut out);
        let mut preauth = PreauthHash::default();
        preauth.update(out.as_slice());
        self.send(out, message_id).await?;
        let response = self.expect(message_id, NtStatus::SUCCESS).await?;
        preauth.update(&response.message);
        let negotiated = NegotiateResponse::decode(&response.message).map_err(|e| e.to_string())?;
        if negotiated.dialect != Dialect::SMB3_1_1 {
            return Err(format!("the server chose dialect {:#06x}", negotiated.dialect.0));
        }
        Ok(preauth)
    }

    async fn session_setup(&mut self, preauth: &mut PreauthHash, user: &str, password: &str) -> Result<()> {
        let (sign_in, first) = SpnegoSignIn::start();
        let (challenge_message, challenge) = self.session_setup_leg(preauth, first).await?;
        if challenge_message.header.status != NtStatus::MORE_PROCESSING_REQUIRED {
            return Err(format!("first SESSION_SETUP answered {:?}", challenge_message.header.status));
        }
        self.session_id = challenge_message.header.session_id;
        let (second, session_key) = sign_in.answer(&challenge, user, "", password)?;
        let keys = {
            // The hash covers the second request but not its response.
            let (done, _) = self.session_setup_leg(preauth, second).await?;
            if done.header.status != NtStatus::SUCCESS {
                return Err(format!("signing in as {user} failed: {:?}", done.header.status));
            }
            SessionKeys::derive(Dialect::SMB3_1_1, &session_key, &preauth.0, Some(Cipher::AES_128_GCM))
        };
        self.signer = Signer::new(Dialect::SMB3_1_1, SigningAlgorithm::AES_GMAC, &keys.signing);
        Ok(())
    }

    /// One SESSION_SETUP exchange; the request (and, before the last leg, the response) enter
    /// the preauthentication hash.
    async fn session_setup_leg(&mut self, preauth: &mut PreauthHash, token: Vec<u8>) -> Result<(Response, Vec<u8>)> {
        let request = SessionSetupRequest {
            security_mode: security_mode::SIGNING_ENABLED as u8,
            security_buffer: token,
            ..Default::default()
        };
        let (mut out, message_id) = self.request(Command::SESSION_SETUP, 0, 64);
        request.encode(&mut out);
        preauth.update(out.as_slice());
        self.send(out, message_id).await?;
        let response = self.receive(&mut Vec::new()).await?;
        if response.header.message_id != message_id {
            return Err("SESSION_SETUP answered out of order".into());
        }
        if response.header.status == NtStatus::MORE_PROCESSING_REQUIRED {
            preauth.update(&response.message);
        }
        let body = SessionSetupResponse::decode(&response.message).map_err(|e| e.to_string())?;
        Ok((response, body.security_buffer))
    }

    async fn tree_connect(&mut self, path: &str) -> Result<()> {
        let (mut out, message_id) = self.request(Command::TREE_CONNECT, 0, 64);
        TreeConnectRequest { flags: 0, path: path.to_owned() }.encode(&mut out);
        self.send(out, message_id).await?;
        let response = self.expect(message_id, NtStatus::SUCCESS).await?;
        self.tree_id = response.header.tree_id;
        Ok(())
    }

    /// Opens `name` (relative to the share) with `request`'s access and disposition.
    pub async fn create(&mut self, request: CreateRequest) -> Result<FileId> {
        let (mut out, message_id) = self.request(Command::CREATE, 0, 128);
        request.encode(&mut out);
        self.send(out, message_id).await?;
        let response = self.expect(message_id, NtStatus::SUCCESS).await?;
        Ok(CreateResponse::decode(&response.message).map_err(|e| e.to_string())?.file_id)
    }

    pub async fn close(&mut self, file_id: FileId) -> Result<()> {
        let (mut out, message_id) = self.request(Command::CLOSE, 0, 32);
        CloseRequest { flags: 0, reserved: 0, file_id }.encode(&mut out);
        self.send(out, message_id).await?;
        self.expect(message_id, NtStatus::SUCCESS).await.map(drop)
    }

    /// Reads `size` bytes of `file_id` in `chunk`-byte READs, `in_flight` at a time; returns the
    /// bytes read.
    pub async fn read_all(&mut self, file_id: FileId, size: u64, chunk: usize, in_flight: usize) -> Result<u64> {
        let mut next = 0_u64;
        let mut pending = 0;
        let mut total = 0_u64;
        let mut buffer = Vec::new();
        while next < size || pending > 0 {
            while next < size && pending < in_flight && self.credits >= charge(chunk) {
                let length = (size - next).min(chunk as u64) as u32;
                let (mut out, message_id) = self.request(Command::READ, length as usize, 64);
                ReadRequest { length, offset: next, file_id, ..Default::default() }.encode(&mut out);
                self.send(out, message_id).await?;
                next += u64::from(length);
                pending += 1;
            }
            let response = self.receive(&mut buffer).await?;
            if response.header.status != NtStatus::SUCCESS {
                return Err(format!("READ failed: {:?}", response.header.status));
            }
            total += read_data_length(&response.message)?;
            pending -= 1;
            buffer = response.message;
        }
        Ok(total)
    }

    /// Writes `size` bytes (the pattern `data` repeated) in `data.len()`-byte WRITEs,
    /// `in_flight` at a time; returns the bytes the server says it wrote.
    pub async fn write_all(&mut self, file_id: FileId, size: u64, data: &[u8], in_flight: usize) -> Result<u64> {
        let mut next = 0_u64;
        let mut pending = 0;
        let mut total = 0_u64;
        let mut buffer = Vec::new();
        while next < size || pending > 0 {
            while next < size && pending < in_flight && self.credits >= charge(data.len()) {
                let length = (size - next).min(data.len() as u64) as usize;
                let (mut out, message_id) = self.request(Command::WRITE, length, 64 + length);
                WriteRequest { offset: next, file_id, data: &data[..length], ..Default::default() }.encode(&mut out);
                self.send(out, message_id).await?;
                next += length as u64;
                pending += 1;
            }
            let response = self.receive(&mut buffer).await?;
            if response.header.status != NtStatus::SUCCESS {
                return Err(format!("WRITE failed: {:?}", response.header.status));
            }
            total += u64::from(WriteResponse::decode(&response.message).map_err(|e| e.to_string())?.count);
            pending -= 1;
            buffer = response.message;
        }
        Ok(total)
    }

    /// Logs off and closes the connection.
    pub async fn finish(mut self) {
        let (mut out, message_id) = self.request(Command::LOGOFF, 0, 8);
        out.u16(4).u16(0);
        if self.send(out, message_id).await.is_ok() {
            let _ = self.receive(&mut Vec::new()).await;
        }
        let _ = self.send.finish();
        self.connection.close(0_u8.into(), b"");
        self.endpoint.wait_idle().await;
    }

    /// A request's header in a buffer with room for the frame header; `payload` sets the credit
    /// charge. Returns the buffer and the message id.
    fn request(&mut self, command: Command, payload: usize, capacity: usize) -> (Writer, u64) {
        let charge = charge(payload);
        let message_id = self.next_message_id;
        self.next_message_id += charge.max(1);
        self.credits = self.credits.saturating_sub(charge.max(1));
        let header = Header {
            credit_charge: charge as u16,
            command,
            credits: CREDIT_REQUEST,
            flags: if self.signer.is_some() { flags::SIGNED } else { 0 },
            message_id,
            tree_id: self.tree_id,
            session_id: self.session_id,
            ..Default::default()
        };
        let mut out = Writer::with_prefix(framing::HEADER_LENGTH, HEADER_SIZE + capacity);
        header.encode(&mut out);
        (out, message_id)
    }

    /// Signs (once signed in), frames and sends a request; quinn takes the buffer as it is.
    async fn send(&mut self, out: Writer, message_id: u64) -> Result<()> {
        let (mut bytes, start) = out.into_parts();
        let message = &mut bytes[start..];
        if let Some(signer) = &self.signer {
            let signature = signer.sign(message, message_id, false, false);
            message[SIGNATURE_OFFSET..HEADER_SIZE].copy_from_slice(&signature);
        }
        let frame = framing::frame_header(message.len()).map_err(|e| e.to_string())?;
        bytes[..start].copy_from_slice(&frame);
        self.send.write_chunk(Bytes::from(bytes)).await.map_err(|e| e.to_string())
    }

    /// The next response (interim STATUS_PENDING answers skipped), read into `buffer`, its
    /// signature verified once signed in.
    async fn receive(&mut self, buffer: &mut Vec<u8>) -> Result<Response> {
        loop {
            let mut frame = [0; framing::HEADER_LENGTH];
            self.recv.read_exact(&mut frame).await.map_err(|e| e.to_string())?;
            let length = framing::frame_length(frame).map_err(|e| e.to_string())?;
            let mut message = std::mem::take(buffer);
            message.clear();
            message.reserve(length);
            while message.len() < length {
                let chunk = self
                    .recv
                    .read_chunk(length - message.len(), true)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or("the server closed the stream")?;
                message.extend_from_slice(&chunk.bytes);
            }
            let header = Header::decode(&mut Reader::new(&message)).map_err(|e| e.to_string())?;
            self.credits += u64::from(header.credits);
            if header.is_signed() && self.signer.is_some() && header.command != Command::SESSION_SETUP {
                self.verify(&mut message, &header)?;
            }
            if header.status == NtStatus::PENDING && header.is_async() {
                *buffer = message;
                continue;
            }
            return Ok(Response { header, message });
        }
    }

    fn verify(&self, message: &mut [u8], header: &Header) -> Result<()> {
        let Some(signer) = &self.signer else { return Ok(()) };
        message[SIGNATURE_OFFSET..HEADER_SIZE].fill(0);
        let expected = signer.sign(message, header.message_id, true, false);
        message[SIGNATURE_OFFSET..HEADER_SIZE].copy_from_slice(&header.signature);
        if expected != header.signature {
            return Err(format!("response {} has a bad signature", header.message_id));
        }
        Ok(())
    }

    async fn expect(&mut self, message_id: u64, status: NtStatus) -> Result<Response> {
        let response = self.receive(&mut Vec::new()).await?;
        if response.header.message_id != message_id || response.header.status != status {
            return Err(format!(
                "{:?} {} answered {:?}",
                response.header.command, response.header.message_id, response.header.status
            ));
        }
        Ok(response)
    }
}

/// Credits a request carrying or asking for `payload` bytes costs.
fn charge(payload: usize) -> u64 {
    payload.div_ceil(CREDIT_UNIT) as u64
}

/// The DataLength of a READ response (MS-SMB2 2.2.20), its data checked to lie inside the message;
/// the data itself stays where it is.
fn read_data_length(message: &[u8]) -> Result<u64> {
    let mut r = Reader::new(message);
    r.skip(HEADER_SIZE + 2, "header and StructureSize").map_err(|e| e.to_string())?;
    let offset = usize::from(r.u8("DataOffset").map_err(|e| e.to_string())?);
    r.skip(1, "Reserved").map_err(|e| e.to_string())?;
    let length = r.u32("DataLength").map_err(|e| e.to_string())? as usize;
    r.slice_at(offset, length, "Data").map_err(|e| e.to_string())?;
    Ok(length as u64)
}
