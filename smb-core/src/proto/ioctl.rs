//! MS-SMB2 2.2.31 SMB2 IOCTL Request, 2.2.32 SMB2 IOCTL Response, and the FSCTL payloads
//! EdgeShare answers (2.2.31.1 - 2.2.32.6).

use super::negotiate::Dialect;
use super::reader::{DecodeError, Reader, Writer};
use super::{Field, FileId, body, expect_structure_size, utf16};

/// FSCTL and IOCTL codes (MS-FSCC 2.3, MS-SMB2 2.2.31).
pub mod ctl_code {
    pub const FSCTL_DFS_GET_REFERRALS: u32 = 0x0006_0194;
    pub const FSCTL_DFS_GET_REFERRALS_EX: u32 = 0x0006_01B0;
    pub const FSCTL_PIPE_PEEK: u32 = 0x0011_400C;
    pub const FSCTL_PIPE_WAIT: u32 = 0x0011_0018;
    pub const FSCTL_PIPE_TRANSCEIVE: u32 = 0x0011_C017;
    pub const FSCTL_SRV_COPYCHUNK: u32 = 0x0014_40F2;
    pub const FSCTL_SRV_COPYCHUNK_WRITE: u32 = 0x0014_80F2;
    pub const FSCTL_SRV_ENUMERATE_SNAPSHOTS: u32 = 0x0014_4064;
    pub const FSCTL_SRV_REQUEST_RESUME_KEY: u32 = 0x0014_0078;
    pub const FSCTL_SRV_READ_HASH: u32 = 0x0014_41BB;
    pub const FSCTL_LMR_REQUEST_RESILIENCY: u32 = 0x0014_01D4;
    pub const FSCTL_QUERY_NETWORK_INTERFACE_INFO: u32 = 0x0014_01FC;
    pub const FSCTL_VALIDATE_NEGOTIATE_INFO: u32 = 0x0014_0204;
    pub const FSCTL_SET_SPARSE: u32 = 0x0009_00C4;
    pub const FSCTL_SET_ZERO_DATA: u32 = 0x0009_80C8;
    pub const FSCTL_QUERY_ALLOCATED_RANGES: u32 = 0x0009_40CF;
    pub const FSCTL_GET_REPARSE_POINT: u32 = 0x0009_00A8;
    pub const FSCTL_CREATE_OR_GET_OBJECT_ID: u32 = 0x0009_00C0;
    pub const FSCTL_GET_COMPRESSION: u32 = 0x0009_003C;
    pub const FSCTL_SET_COMPRESSION: u32 = 0x0009_C040;
    pub const FSCTL_GET_INTEGRITY_INFORMATION: u32 = 0x0009_027C;
    pub const FSCTL_FILE_LEVEL_TRIM: u32 = 0x0009_8208;
    pub const FSCTL_DUPLICATE_EXTENTS_TO_FILE: u32 = 0x0009_8344;
}

/// MS-SMB2 2.2.31 `Flags`.
pub const IOCTL_IS_FSCTL: u32 = 0x0000_0001;

/// MS-SMB2 2.2.32.5 NETWORK_INTERFACE_INFO: one address of one of the server's interfaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkInterfaceInfo {
    /// The interface's index (never 0; the same for every address of one interface).
    pub if_index: u32,
    pub rss_capable: bool,
    /// Bits per second.
    pub link_speed: u64,
    pub address: std::net::IpAddr,
}

/// The speed reported for an interface whose speed the host does not tell (1 Gbit/s, as Samba
/// does).
pub const DEFAULT_LINK_SPEED: u64 = 1_000_000_000;

/// MS-SMB2 2.2.32.5 Capability.
const RSS_CAPABLE: u32 = 0x0000_0001;
/// One entry: Next, IfIndex, Capability, Reserved, LinkSpeed, then SOCKADDR_STORAGE (128 bytes).
const INTERFACE_ENTRY: usize = 24 + 128;

impl NetworkInterfaceInfo {
    /// The entries, chained by their Next offsets (0 on the last), as the IOCTL output.
    pub fn encode_all(interfaces: &[NetworkInterfaceInfo], out: &mut Writer) {
        for (index, interface) in interfaces.iter().enumerate() {
            let next = if index + 1 == interfaces.len() { 0 } else { INTERFACE_ENTRY as u32 };
            let capability = if interface.rss_capable { RSS_CAPABLE } else { 0 };
            out.u32(next).u32(interface.if_index).u32(capability).u32(0).u64(interface.link_speed);
            // 2.2.32.5.1: family (little-endian), then the socket address in network order,
            // port 0; SOCKADDR_IN (2.2.32.5.1.1) or SOCKADDR_IN6 (2.2.32.5.1.2), zero-padded.
            match interface.address {
                std::net::IpAddr::V4(ip) => {
                    out.u16(0x0002).u16(0).bytes(&ip.octets()).zeros(120);
                }
                std::net::IpAddr::V6(ip) => {
                    out.u16(0x0017).u16(0).u32(0).bytes(&ip.octets()).u32(0).zeros(100);
                }
            }
        }
    }

    /// Reads entries back (for clients and tests): follows Next until it is 0.
    pub fn decode_all(data: &[u8]) -> Result<Vec<NetworkInterfaceInfo>, DecodeError> {
        const WHAT: &str = "NETWORK_INTERFACE_INFO";
        let mut interfaces = Vec::new();
        let mut offset = 0;
        loop {
            let mut reader = Reader::new(data.get(offset..).ok_or(DecodeError::invalid(WHAT, "Next past the end"))?);
            let next = reader.u32(WHAT)?;
            let if_index = reader.u32(WHAT)?;
            let capability = reader.u32(WHAT)?;
            reader.skip(4, WHAT)?;
            let link_speed = reader.u64(WHAT)?;
            let family = reader.u16(WHAT)?;
            reader.skip(2, WHAT)?;
            let address = match family {
                0x0002 => std::net::IpAddr::from(reader.array::<4>(WHAT)?),
                0x0017 => {
                    reader.skip(4, WHAT)?;
                    std::net::IpAddr::from(reader.array::<16>(WHAT)?)
                }
                _ => return Err(DecodeError::invalid(WHAT, "an address family other than IPv4 and IPv6")),
            };
            let rss_capable = capability & RSS_CAPABLE != 0;
            interfaces.push(NetworkInterfaceInfo { if_index, rss_capable, link_speed, address });
            match next as usize {
                0 => return Ok(interfaces),
                n if n < INTERFACE_ENTRY => return Err(DecodeError::invalid(WHAT, "entries overlap")),
                n => offset += n,
            }
        }
    }
}

/// MS-SMB2 2.2.31 SMB2 IOCTL Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct IoctlRequest<'a> {
    pub ctl_code: u32,
    pub file_id: FileId,
    pub input: &'a [u8],
    pub max_input_response: u32,
    pub max_output_response: u32,
    pub flags: u32,
}

impl<'a> IoctlRequest<'a> {
    pub const STRUCTURE_SIZE: u16 = 57;

    pub fn decode(message: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "IOCTL request")?;
        r.skip(2, "Reserved")?;
        let ctl_code = r.u32("CtlCode")?;
        let file_id = FileId::read(&mut r, "FileId")?;
        let input_offset = r.u32("InputOffset")? as usize;
        let input_count = r.u32("InputCount")? as usize;
        let max_input_response = r.u32("MaxInputResponse")?;
        r.skip(8, "OutputOffset/OutputCount")?;
        let max_output_response = r.u32("MaxOutputResponse")?;
        let flags = r.u32("Flags")?;
        let input = if input_count == 0 { &[][..] } else { r.slice_at(input_offset, input_count, "Input")? };
        Ok(IoctlRequest { ctl_code, file_id, input, max_input_response, max_output_response, flags })
    }

    pub fn encode(&self, out: &mut Writer) {
        let input_offset = if self.input.is_empty() { 0 } else { out.len() + 56 };
        out.u16(Self::STRUCTURE_SIZE).u16(0).u32(self.ctl_code);
        self.file_id.write(out);
        out.u32(input_offset as u32).u32(self.input.len() as u32).u32(self.max_input_response);
        out.u32(0).u32(0).u32(self.max_output_response).u32(self.flags).u32(0);
        if self.input.is_empty() {
            out.u8(0);
        } else {
            out.bytes(self.input);
        }
    }
}

/// MS-SMB2 2.2.32 SMB2 IOCTL Response.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct IoctlResponse {
    pub ctl_code: u32,
    pub file_id: FileId,
    pub output: Vec<u8>,
}

impl IoctlResponse {
    pub const STRUCTURE_SIZE: u16 = 49;

    pub fn encode(&self, out: &mut Writer) {
        let data_offset = out.len() + 48;
        out.u16(Self::STRUCTURE_SIZE).u16(0).u32(self.ctl_code);
        self.file_id.write(out);
        // InputOffset carries the buffer offset even with no input, as Windows does.
        out.u32(data_offset as u32).u32(0);
        out.u32(if self.output.is_empty() { 0 } else { data_offset as u32 }).u32(self.output.len() as u32);
        out.u32(0).u32(0);
        out.bytes(&self.output);
    }

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "IOCTL response")?;
        r.skip(2, "Reserved")?;
        let ctl_code = r.u32("CtlCode")?;
        let file_id = FileId::read(&mut r, "FileId")?;
        r.skip(8, "InputOffset/InputCount")?;
        let offset = r.u32("OutputOffset")? as usize;
        let count = r.u32("OutputCount")? as usize;
        let output = if count == 0 { Vec::new() } else { r.slice_at(offset, count, "Output")?.to_vec() };
        Ok(IoctlResponse { ctl_code, file_id, output })
    }
}

/// MS-SMB2 2.2.31.4 VALIDATE_NEGOTIATE_INFO Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ValidateNegotiateInfoRequest {
    pub capabilities: u32,
    pub guid: [u8; 16],
    pub security_mode: u16,
    pub dialects: Vec<Dialect>,
}

impl ValidateNegotiateInfoRequest {
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        let capabilities = r.u32("Capabilities")?;
        let guid = r.array("Guid")?;
        let security_mode = r.u16("SecurityMode")?;
        let count = r.u16("DialectCount")?;
        let dialects = (0..count).map(|_| r.u16("Dialects").map(Dialect)).collect::<Result<_, _>>()?;
        Ok(ValidateNegotiateInfoRequest { capabilities, guid, security_mode, dialects })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Writer::new();
        out.u32(self.capabilities).bytes(&self.guid).u16(self.security_mode).u16(self.dialects.len() as u16);
        self.dialects.iter().for_each(|d| {
            out.u16(d.0);
        });
        out.into_vec()
    }
}

/// MS-SMB2 2.2.32.6 VALIDATE_NEGOTIATE_INFO Response.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ValidateNegotiateInfoResponse {
    pub capabilities: u32,
    pub guid: [u8; 16],
    pub security_mode: u16,
    pub dialect: Dialect,
}

impl ValidateNegotiateInfoResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Writer::new();
        out.u32(self.capabilities).bytes(&self.guid).u16(self.security_mode).u16(self.dialect.0);
        out.into_vec()
    }

    pub fn decode(output: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(output);
        Ok(ValidateNegotiateInfoResponse {
            capabilities: r.u32("Capabilities")?,
            guid: r.array("Guid")?,
            security_mode: r.u16("SecurityMode")?,
            dialect: Dialect(r.u16("Dialect")?),
        })
    }
}

/// MS-SMB2 2.2.31.1.1 SRV_COPYCHUNK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyChunk {
    pub source_offset: u64,
    pub target_offset: u64,
    pub length: u32,
}

/// MS-SMB2 2.2.31.1 SRV_COPYCHUNK_COPY.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyChunkCopy {
    pub source_key: [u8; 24],
    pub chunks: Vec<CopyChunk>,
}

impl CopyChunkCopy {
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        let source_key = r.array("SourceKey")?;
        let count = r.u32("ChunkCount")? as usize;
        r.skip(4, "Reserved")?;
        if count > r.remaining() / 24 {
            return Err(DecodeError::invalid("SRV_COPYCHUNK_COPY", format!("{count} chunks do not fit the input")));
        }
        let chunks = (0..count)
            .map(|_| {
                let source_offset = r.u64("SourceOffset")?;
                let target_offset = r.u64("TargetOffset")?;
                let length = r.u32("Length")?;
                r.skip(4, "Reserved")?;
                Ok(CopyChunk { source_offset, target_offset, length })
            })
            .collect::<Result<_, DecodeError>>()?;
        Ok(CopyChunkCopy { source_key, chunks })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Writer::new();
        out.bytes(&self.source_key).u32(self.chunks.len() as u32).u32(0);
        for chunk in &self.chunks {
            out.u64(chunk.source_offset).u64(chunk.target_offset).u32(chunk.length).u32(0);
        }
        out.into_vec()
    }
}

/// MS-SMB2 2.2.32.1 SRV_COPYCHUNK_RESPONSE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CopyChunkResponse {
    pub chunks_written: u32,
    pub chunk_bytes_written: u32,
    pub total_bytes_written: u32,
}

impl CopyChunkResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Writer::new();
        out.u32(self.chunks_written).u32(self.chunk_bytes_written).u32(self.total_bytes_written);
        out.into_vec()
    }

    pub fn decode(output: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(output);
        Ok(CopyChunkResponse {
            chunks_written: r.u32("ChunksWritten")?,
            chunk_bytes_written: r.u32("ChunkBytesWritten")?,
            total_bytes_written: r.u32("TotalBytesWritten")?,
        })
    }
}

/// MS-SMB2 2.2.32.3 SRV_REQUEST_RESUME_KEY Response.
pub fn encode_resume_key(key: &[u8; 24]) -> Vec<u8> {
    let mut out = Writer::new();
    out.bytes(key).u32(0).u32(0);
    out.into_vec()
}

/// MS-SMB2 2.2.32.2 SRV_SNAPSHOT_ARRAY with no snapshots (EdgeShare keeps none).
pub fn encode_empty_snapshot_array() -> Vec<u8> {
    let mut out = Writer::new();
    // NumberOfSnapShots, NumberOfSnapShotsReturned, SnapShotArraySize (the terminating NUL).
    out.u32(0).u32(0).u32(2).u16(0);
    out.into_vec()
}

/// MS-FSCC 2.3.49 FSCTL_PIPE_WAIT Request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeWaitRequest {
    pub timeout: i64,
    pub timeout_specified: bool,
    pub name: String,
}

impl PipeWaitRequest {
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        let timeout = r.u64("Timeout")? as i64;
        let length = r.u32("NameLength")? as usize;
        let timeout_specified = r.u8("TimeoutSpecified")? != 0;
        r.skip(1, "Padding")?;
        let name = utf16::decode(r.take(length, "Name")?, "Name")?;
        Ok(PipeWaitRequest { timeout, timeout_specified, name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn ioctl_request_golden_bytes_round_trip() {
        let input = [1, 2, 3, 4];
        let request = IoctlRequest {
            ctl_code: ctl_code::FSCTL_VALIDATE_NEGOTIATE_INFO,
            file_id: FileId::RELATED,
            input: &input,
            max_input_response: 0,
            max_output_response: 24,
            flags: IOCTL_IS_FSCTL,
        };
        let bytes = message(Command::IOCTL, |out| request.encode(out));
        assert_eq!(
            body_hex(&bytes),
            "390000000402140 0ffffffffffffffffffffffffffffffff7800000004000000000000000000000000000000180000000100000000000000 01020304"
                .replace(' ', "")
        );
        assert_eq!(IoctlRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn ioctl_response_round_trips() {
        let response =
            IoctlResponse { ctl_code: 0x1234, file_id: FileId { persistent: 1, volatile: 2 }, output: vec![5; 24] };
        let bytes = message(Command::IOCTL, |out| response.encode(out));
        assert_eq!(IoctlResponse::decode(&bytes).unwrap(), response);
    }

    #[test]
    fn validate_negotiate_info_round_trips() {
        let request = ValidateNegotiateInfoRequest {
            capabilities: 0x44,
            guid: [1; 16],
            security_mode: 1,
            dialects: vec![Dialect::SMB3_0, Dialect::SMB3_0_2],
        };
        assert_eq!(ValidateNegotiateInfoRequest::decode(&request.encode()).unwrap(), request);
        let response = ValidateNegotiateInfoResponse {
            capabilities: 0x44,
            guid: [2; 16],
            security_mode: 3,
            dialect: Dialect::SMB3_0_2,
        };
        assert_eq!(response.encode().len(), 24);
        assert_eq!(ValidateNegotiateInfoResponse::decode(&response.encode()).unwrap(), response);
    }

    #[test]
    fn copychunk_requests_that_claim_more_chunks_than_they_hold_are_refused() {
        let copy = CopyChunkCopy {
            source_key: [7; 24],
            chunks: vec![CopyChunk { source_offset: 0, target_offset: 8, length: 8 }],
        };
        let mut bytes = copy.encode();
        assert_eq!(CopyChunkCopy::decode(&bytes).unwrap(), copy);
        bytes[24] = 2;
        assert!(CopyChunkCopy::decode(&bytes).is_err());
    }
}

#[cfg(test)]
mod interface_tests {
    use super::*;

    #[test]
    fn network_interface_entries_are_152_bytes_chained_by_next_and_read_back() {
        let interfaces = vec![
            NetworkInterfaceInfo {
                if_index: 2,
                rss_capable: true,
                link_speed: 10_000_000_000,
                address: "192.0.2.7".parse().unwrap(),
            },
            NetworkInterfaceInfo {
                if_index: 2,
                rss_capable: false,
                link_speed: 1_000_000_000,
                address: "2001:db8::7".parse().unwrap(),
            },
        ];
        let mut out = Writer::new();
        NetworkInterfaceInfo::encode_all(&interfaces, &mut out);
        let bytes = out.into_vec();
        assert_eq!(bytes.len(), 2 * 152);
        assert_eq!(&bytes[0..4], &152_u32.to_le_bytes());
        assert_eq!(&bytes[152..156], &0_u32.to_le_bytes());
        // The IPv4 address in network order right after the family and the port.
        assert_eq!(&bytes[24..32], &[0x02, 0x00, 0, 0, 192, 0, 2, 7]);
        assert_eq!(NetworkInterfaceInfo::decode_all(&bytes).unwrap(), interfaces);
    }
}
