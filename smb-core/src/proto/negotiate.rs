//! MS-SMB2 2.2.3 SMB2 NEGOTIATE Request, 2.2.4 SMB2 NEGOTIATE Response, and the negotiate
//! contexts of 2.2.3.1 / 2.2.4.1.

use super::reader::{DecodeError, Reader, Writer};
use super::utf16;

/// MS-SMB2 2.2.3 `Dialects` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dialect(pub u16);

impl Dialect {
    pub const SMB2_0_2: Dialect = Dialect(0x0202);
    pub const SMB2_1: Dialect = Dialect(0x0210);
    pub const SMB3_0: Dialect = Dialect(0x0300);
    pub const SMB3_0_2: Dialect = Dialect(0x0302);
    pub const SMB3_1_1: Dialect = Dialect(0x0311);
    /// The wildcard of an SMB1 negotiate that offered "SMB 2.???" (MS-SMB2 3.3.5.3.1).
    pub const SMB2_WILDCARD: Dialect = Dialect(0x02FF);

    pub const ALL: [Dialect; 5] = [Self::SMB2_0_2, Self::SMB2_1, Self::SMB3_0, Self::SMB3_0_2, Self::SMB3_1_1];

    pub fn is_smb3(self) -> bool {
        self.0 >= 0x0300 && self != Self::SMB2_WILDCARD
    }

    pub fn name(self) -> String {
        match self {
            Self::SMB2_0_2 => "2.0.2".into(),
            Self::SMB2_1 => "2.1".into(),
            Self::SMB3_0 => "3.0".into(),
            Self::SMB3_0_2 => "3.0.2".into(),
            Self::SMB3_1_1 => "3.1.1".into(),
            Dialect(other) => format!("{other:#06x}"),
        }
    }

    pub fn parse(text: &str) -> Option<Dialect> {
        Self::ALL.into_iter().find(|d| d.name() == text)
    }
}

/// MS-SMB2 2.2.3 `SecurityMode`.
pub mod security_mode {
    pub const SIGNING_ENABLED: u16 = 0x0001;
    pub const SIGNING_REQUIRED: u16 = 0x0002;
}

/// MS-SMB2 2.2.3 `Capabilities`.
pub mod capabilities {
    pub const DFS: u32 = 0x0000_0001;
    pub const LEASING: u32 = 0x0000_0002;
    pub const LARGE_MTU: u32 = 0x0000_0004;
    pub const MULTI_CHANNEL: u32 = 0x0000_0008;
    pub const PERSISTENT_HANDLES: u32 = 0x0000_0010;
    pub const DIRECTORY_LEASING: u32 = 0x0000_0020;
    pub const ENCRYPTION: u32 = 0x0000_0040;
    pub const NOTIFICATIONS: u32 = 0x0000_0080;
}

/// MS-SMB2 2.2.3.1 `ContextType`.
pub mod context_type {
    pub const PREAUTH_INTEGRITY_CAPABILITIES: u16 = 0x0001;
    pub const ENCRYPTION_CAPABILITIES: u16 = 0x0002;
    pub const COMPRESSION_CAPABILITIES: u16 = 0x0003;
    pub const NETNAME_NEGOTIATE_CONTEXT_ID: u16 = 0x0005;
    pub const TRANSPORT_CAPABILITIES: u16 = 0x0006;
    pub const RDMA_TRANSFORM_CAPABILITIES: u16 = 0x0007;
    pub const SIGNING_CAPABILITIES: u16 = 0x0008;
}

/// MS-SMB2 2.2.3.1.1 hash algorithm.
pub const HASH_SHA512: u16 = 0x0001;

/// MS-SMB2 2.2.3.1.2 `Ciphers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cipher(pub u16);

impl Cipher {
    pub const AES_128_CCM: Cipher = Cipher(0x0001);
    pub const AES_128_GCM: Cipher = Cipher(0x0002);
    pub const AES_256_CCM: Cipher = Cipher(0x0003);
    pub const AES_256_GCM: Cipher = Cipher(0x0004);

    pub fn name(self) -> &'static str {
        match self {
            Self::AES_128_CCM => "AES-128-CCM",
            Self::AES_128_GCM => "AES-128-GCM",
            Self::AES_256_CCM => "AES-256-CCM",
            Self::AES_256_GCM => "AES-256-GCM",
            _ => "unknown",
        }
    }

    pub fn key_len(self) -> usize {
        if matches!(self, Self::AES_256_CCM | Self::AES_256_GCM) { 32 } else { 16 }
    }
}

/// MS-SMB2 2.2.3.1.7 `SigningAlgorithms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SigningAlgorithm(pub u16);

impl SigningAlgorithm {
    pub const HMAC_SHA256: SigningAlgorithm = SigningAlgorithm(0x0000);
    pub const AES_CMAC: SigningAlgorithm = SigningAlgorithm(0x0001);
    pub const AES_GMAC: SigningAlgorithm = SigningAlgorithm(0x0002);

    pub fn name(self) -> &'static str {
        match self {
            Self::HMAC_SHA256 => "HMAC-SHA256",
            Self::AES_CMAC => "AES-128-CMAC",
            Self::AES_GMAC => "AES-128-GMAC",
            _ => "unknown",
        }
    }
}

/// MS-SMB2 2.2.3.1.5 transport capability flag.
pub const ACCEPT_TRANSPORT_LEVEL_SECURITY: u32 = 0x0000_0001;

/// One negotiate context (MS-SMB2 2.2.3.1), decoded where EdgeShare acts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NegotiateContext {
    /// 2.2.3.1.1
    PreauthIntegrity { hash_algorithms: Vec<u16>, salt: Vec<u8> },
    /// 2.2.3.1.2
    Encryption { ciphers: Vec<Cipher> },
    /// 2.2.3.1.3
    Compression { flags: u32, algorithms: Vec<u16> },
    /// 2.2.3.1.4
    NetName(String),
    /// 2.2.3.1.5
    TransportCapabilities { flags: u32 },
    /// 2.2.3.1.7
    Signing { algorithms: Vec<SigningAlgorithm> },
    /// Any other type (RDMA transforms included), kept as sent.
    Other { context_type: u16, data: Vec<u8> },
}

impl NegotiateContext {
    pub fn context_type(&self) -> u16 {
        match self {
            Self::PreauthIntegrity { .. } => context_type::PREAUTH_INTEGRITY_CAPABILITIES,
            Self::Encryption { .. } => context_type::ENCRYPTION_CAPABILITIES,
            Self::Compression { .. } => context_type::COMPRESSION_CAPABILITIES,
            Self::NetName(_) => context_type::NETNAME_NEGOTIATE_CONTEXT_ID,
            Self::TransportCapabilities { .. } => context_type::TRANSPORT_CAPABILITIES,
            Self::Signing { .. } => context_type::SIGNING_CAPABILITIES,
            Self::Other { context_type, .. } => *context_type,
        }
    }

    fn decode(context_type: u16, data: &[u8]) -> Result<NegotiateContext, DecodeError> {
        let mut r = Reader::new(data);
        let list = |r: &mut Reader<'_>, count: u16, what: &'static str| -> Result<Vec<u16>, DecodeError> {
            (0..count).map(|_| r.u16(what)).collect()
        };
        Ok(match context_type {
            context_type::PREAUTH_INTEGRITY_CAPABILITIES => {
                let count = r.u16("HashAlgorithmCount")?;
                let salt_length = r.u16("SaltLength")?;
                let hash_algorithms = list(&mut r, count, "HashAlgorithms")?;
                let salt = r.take(usize::from(salt_length), "Salt")?.to_vec();
                Self::PreauthIntegrity { hash_algorithms, salt }
            }
            context_type::ENCRYPTION_CAPABILITIES => {
                let count = r.u16("CipherCount")?;
                Self::Encryption { ciphers: list(&mut r, count, "Ciphers")?.into_iter().map(Cipher).collect() }
            }
            context_type::COMPRESSION_CAPABILITIES => {
                let count = r.u16("CompressionAlgorithmCount")?;
                r.skip(2, "Padding")?;
                let flags = r.u32("Flags")?;
                Self::Compression { flags, algorithms: list(&mut r, count, "CompressionAlgorithms")? }
            }
            context_type::NETNAME_NEGOTIATE_CONTEXT_ID => Self::NetName(utf16::decode(data, "NetName")?),
            context_type::TRANSPORT_CAPABILITIES => Self::TransportCapabilities { flags: r.u32("Flags")? },
            context_type::SIGNING_CAPABILITIES => {
                let count = r.u16("SigningAlgorithmCount")?;
                Self::Signing {
                    algorithms: list(&mut r, count, "SigningAlgorithms")?.into_iter().map(SigningAlgorithm).collect(),
                }
            }
            other => Self::Other { context_type: other, data: data.to_vec() },
        })
    }

    fn encode_data(&self, out: &mut Writer) {
        match self {
            Self::PreauthIntegrity { hash_algorithms, salt } => {
                out.u16(hash_algorithms.len() as u16).u16(salt.len() as u16);
                hash_algorithms.iter().for_each(|h| {
                    out.u16(*h);
                });
                out.bytes(salt);
            }
            Self::Encryption { ciphers } => {
                out.u16(ciphers.len() as u16);
                ciphers.iter().for_each(|c| {
                    out.u16(c.0);
                });
            }
            Self::Compression { flags, algorithms } => {
                out.u16(algorithms.len() as u16).u16(0).u32(*flags);
                algorithms.iter().for_each(|a| {
                    out.u16(*a);
                });
            }
            Self::NetName(name) => {
                out.bytes(&utf16::encode(name));
            }
            Self::TransportCapabilities { flags } => {
                out.u32(*flags);
            }
            Self::Signing { algorithms } => {
                out.u16(algorithms.len() as u16);
                algorithms.iter().for_each(|a| {
                    out.u16(a.0);
                });
            }
            Self::Other { data, .. } => {
                out.bytes(data);
            }
        }
    }
}

/// Decodes `count` contexts starting at `offset` of `message`; each begins 8-byte aligned.
fn decode_contexts(message: &[u8], offset: usize, count: u16) -> Result<Vec<NegotiateContext>, DecodeError> {
    let mut contexts = Vec::with_capacity(usize::from(count));
    let mut position = offset;
    for index in 0..count {
        if index > 0 {
            position = position.next_multiple_of(8);
        }
        let head = super::reader::slice_at(message, position, 8, "NegotiateContext header")?;
        let mut r = Reader::new(head);
        let context_type = r.u16("ContextType")?;
        let length = usize::from(r.u16("DataLength")?);
        let data = super::reader::slice_at(message, position + 8, length, "NegotiateContext data")?;
        contexts.push(NegotiateContext::decode(context_type, data)?);
        position += 8 + length;
    }
    Ok(contexts)
}

/// Encodes contexts at the writer's current position (which the caller aligned to 8).
fn encode_contexts(contexts: &[NegotiateContext], out: &mut Writer) {
    for (index, context) in contexts.iter().enumerate() {
        if index > 0 {
            out.align(8);
        }
        let mut data = Writer::new();
        context.encode_data(&mut data);
        out.u16(context.context_type()).u16(data.len() as u16).u32(0).bytes(data.as_slice());
    }
}

/// MS-SMB2 2.2.3 SMB2 NEGOTIATE Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NegotiateRequest {
    pub security_mode: u16,
    pub capabilities: u32,
    pub client_guid: [u8; 16],
    pub dialects: Vec<Dialect>,
    /// Present only when the dialects include 3.1.1.
    pub contexts: Vec<NegotiateContext>,
}

impl NegotiateRequest {
    pub const STRUCTURE_SIZE: u16 = 36;

    /// `message` starts at the SMB2 header; the body follows it.
    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(message);
        r.skip(super::header::HEADER_SIZE, "SMB2 header")?;
        super::expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "NEGOTIATE request")?;
        let dialect_count = r.u16("DialectCount")?;
        if dialect_count == 0 {
            return Err(DecodeError::invalid("NEGOTIATE request", "no dialects"));
        }
        let security_mode = r.u16("SecurityMode")?;
        r.skip(2, "Reserved")?;
        let capabilities = r.u32("Capabilities")?;
        let client_guid = r.array("ClientGuid")?;
        let context_offset = r.u32("NegotiateContextOffset")? as usize;
        let context_count = r.u16("NegotiateContextCount")?;
        r.skip(2, "Reserved2")?;
        let dialects: Vec<Dialect> =
            (0..dialect_count).map(|_| r.u16("Dialects").map(Dialect)).collect::<Result<_, _>>()?;
        let contexts = if dialects.contains(&Dialect::SMB3_1_1) && context_count > 0 {
            decode_contexts(message, context_offset, context_count)?
        } else {
            Vec::new()
        };
        Ok(NegotiateRequest { security_mode, capabilities, client_guid, dialects, contexts })
    }

    /// Encodes the body (after a 64-byte header already in `out`).
    pub fn encode(&self, out: &mut Writer) {
        out.u16(Self::STRUCTURE_SIZE).u16(self.dialects.len() as u16).u16(self.security_mode).u16(0);
        out.u32(self.capabilities).bytes(&self.client_guid);
        let offset_at = out.len();
        out.u32(0).u16(self.contexts.len() as u16).u16(0);
        self.dialects.iter().for_each(|d| {
            out.u16(d.0);
        });
        if !self.contexts.is_empty() {
            out.align(8);
            out.patch_u32(offset_at, out.len() as u32);
            encode_contexts(&self.contexts, out);
        }
    }
}

/// MS-SMB2 2.2.4 SMB2 NEGOTIATE Response.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NegotiateResponse {
    pub security_mode: u16,
    pub dialect: Dialect,
    pub server_guid: [u8; 16],
    pub capabilities: u32,
    pub max_transact_size: u32,
    pub max_read_size: u32,
    pub max_write_size: u32,
    /// FILETIME.
    pub system_time: u64,
    pub server_start_time: u64,
    pub security_buffer: Vec<u8>,
    pub contexts: Vec<NegotiateContext>,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::SMB2_0_2
    }
}

impl NegotiateResponse {
    pub const STRUCTURE_SIZE: u16 = 65;

    pub fn encode(&self, out: &mut Writer) {
        let contexts = self.dialect == Dialect::SMB3_1_1 && !self.contexts.is_empty();
        out.u16(Self::STRUCTURE_SIZE).u16(self.security_mode).u16(self.dialect.0);
        out.u16(if contexts { self.contexts.len() as u16 } else { 0 });
        out.bytes(&self.server_guid).u32(self.capabilities);
        out.u32(self.max_transact_size).u32(self.max_read_size).u32(self.max_write_size);
        out.u64(self.system_time).u64(self.server_start_time);
        // The security buffer follows the fixed part: 64 + 64 bytes from the header start.
        let buffer_offset = out.len() + 8;
        out.u16(buffer_offset as u16).u16(self.security_buffer.len() as u16);
        let context_offset_at = out.len();
        out.u32(0);
        out.bytes(&self.security_buffer);
        if contexts {
            out.align(8);
            out.patch_u32(context_offset_at, out.len() as u32);
            encode_contexts(&self.contexts, out);
        } else if self.security_buffer.is_empty() {
            // The structure size counts one byte of the variable part.
            out.u8(0);
        }
    }

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(message);
        r.skip(super::header::HEADER_SIZE, "SMB2 header")?;
        super::expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "NEGOTIATE response")?;
        let security_mode = r.u16("SecurityMode")?;
        let dialect = Dialect(r.u16("DialectRevision")?);
        let context_count = r.u16("NegotiateContextCount")?;
        let server_guid = r.array("ServerGuid")?;
        let capabilities = r.u32("Capabilities")?;
        let max_transact_size = r.u32("MaxTransactSize")?;
        let max_read_size = r.u32("MaxReadSize")?;
        let max_write_size = r.u32("MaxWriteSize")?;
        let system_time = r.u64("SystemTime")?;
        let server_start_time = r.u64("ServerStartTime")?;
        let buffer_offset = usize::from(r.u16("SecurityBufferOffset")?);
        let buffer_length = usize::from(r.u16("SecurityBufferLength")?);
        let context_offset = r.u32("NegotiateContextOffset")? as usize;
        let security_buffer = r.slice_at(buffer_offset, buffer_length, "SecurityBuffer")?.to_vec();
        let contexts = if dialect == Dialect::SMB3_1_1 {
            decode_contexts(message, context_offset, context_count)?
        } else {
            Vec::new()
        };
        Ok(NegotiateResponse {
            security_mode,
            dialect,
            server_guid,
            capabilities,
            max_transact_size,
            max_read_size,
            max_write_size,
            system_time,
            server_start_time,
            security_buffer,
            contexts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::{Command, Header};

    fn with_header(body: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut out = Writer::new();
        Header { command: Command::NEGOTIATE, ..Header::default() }.encode(&mut out);
        body(&mut out);
        out.into_vec()
    }

    #[test]
    fn a_311_request_with_every_context_round_trips() {
        let request = NegotiateRequest {
            security_mode: security_mode::SIGNING_ENABLED,
            capabilities: capabilities::LARGE_MTU | capabilities::ENCRYPTION,
            client_guid: [7; 16],
            dialects: Dialect::ALL.to_vec(),
            contexts: vec![
                NegotiateContext::PreauthIntegrity { hash_algorithms: vec![HASH_SHA512], salt: vec![1; 32] },
                NegotiateContext::Encryption { ciphers: vec![Cipher::AES_128_GCM, Cipher::AES_256_CCM] },
                NegotiateContext::Compression { flags: 1, algorithms: vec![1, 2] },
                NegotiateContext::NetName("fs.example.com".into()),
                NegotiateContext::TransportCapabilities { flags: ACCEPT_TRANSPORT_LEVEL_SECURITY },
                NegotiateContext::Signing { algorithms: vec![SigningAlgorithm::AES_GMAC, SigningAlgorithm::AES_CMAC] },
                NegotiateContext::Other { context_type: 0x0100, data: vec![9, 9, 9] },
            ],
        };
        let bytes = with_header(|out| request.encode(out));
        assert_eq!(NegotiateRequest::decode(&bytes).unwrap(), request);
    }

    /// The body of a NEGOTIATE request offering 2.0.2 and 2.1, laid out from MS-SMB2 2.2.3.
    const GOLDEN_SMB2_REQUEST_BODY: &str = "24000200010000007f000000\
        0102030405060708090a0b0c0d0e0f10\
        00000000000000000202 1002";

    #[test]
    fn a_golden_smb2_request_decodes() {
        let body = hex::decode(GOLDEN_SMB2_REQUEST_BODY.replace(' ', "")).unwrap();
        let bytes = with_header(|out| {
            out.bytes(&body);
        });
        let request = NegotiateRequest::decode(&bytes).unwrap();
        assert_eq!(request.dialects, vec![Dialect::SMB2_0_2, Dialect::SMB2_1]);
        assert_eq!(request.security_mode, security_mode::SIGNING_ENABLED);
        assert_eq!(request.capabilities, 0x7f);
        assert!(request.contexts.is_empty());
        let mut out = Writer::new();
        request.encode(&mut out);
        assert_eq!(out.as_slice(), &body[..]);
    }

    #[test]
    fn a_response_round_trips_and_aligns_its_contexts() {
        let response = NegotiateResponse {
            security_mode: security_mode::SIGNING_ENABLED | security_mode::SIGNING_REQUIRED,
            dialect: Dialect::SMB3_1_1,
            server_guid: [3; 16],
            capabilities: capabilities::LARGE_MTU,
            max_transact_size: 8 << 20,
            max_read_size: 8 << 20,
            max_write_size: 8 << 20,
            system_time: 1,
            server_start_time: 0,
            security_buffer: vec![0x60, 0x03, 0x01, 0x02, 0x03],
            contexts: vec![
                NegotiateContext::PreauthIntegrity { hash_algorithms: vec![HASH_SHA512], salt: vec![5; 32] },
                NegotiateContext::Encryption { ciphers: vec![Cipher::AES_128_GCM] },
            ],
        };
        let bytes = with_header(|out| response.encode(out));
        assert_eq!(NegotiateResponse::decode(&bytes).unwrap(), response);
    }

    #[test]
    fn a_request_without_dialects_is_refused() {
        let bytes = with_header(|out| {
            out.u16(36).u16(0).zeros(32);
        });
        assert!(NegotiateRequest::decode(&bytes).is_err());
    }

    #[test]
    fn a_context_past_the_end_is_refused() {
        let request = NegotiateRequest {
            dialects: vec![Dialect::SMB3_1_1],
            contexts: vec![NegotiateContext::Encryption { ciphers: vec![Cipher::AES_128_GCM] }],
            ..NegotiateRequest::default()
        };
        let mut bytes = with_header(|out| request.encode(out));
        bytes.truncate(bytes.len() - 1);
        assert!(NegotiateRequest::decode(&bytes).is_err());
    }
}
