//! MS-SMB2 2.2.19 SMB2 READ Request and 2.2.20 SMB2 READ Response.

use super::reader::{DecodeError, Writer};
use super::{Field, FileId, body, expect_structure_size};

/// MS-SMB2 2.2.19 `Flags`.
pub const READ_UNBUFFERED: u8 = 0x01;

/// MS-SMB2 2.2.19 SMB2 READ Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ReadRequest {
    pub padding: u8,
    pub flags: u8,
    pub length: u32,
    pub offset: u64,
    pub file_id: FileId,
    pub minimum_count: u32,
    pub channel: u32,
    pub remaining_bytes: u32,
}

impl ReadRequest {
    pub const STRUCTURE_SIZE: u16 = 49;

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "READ request")?;
        let padding = r.u8("Padding")?;
        let flags = r.u8("Flags")?;
        let length = r.u32("Length")?;
        let offset = r.u64("Offset")?;
        let file_id = FileId::read(&mut r, "FileId")?;
        let minimum_count = r.u32("MinimumCount")?;
        let channel = r.u32("Channel")?;
        let remaining_bytes = r.u32("RemainingBytes")?;
        // ReadChannelInfo is for RDMA, which EdgeShare does not offer: its offset and length are
        // read and otherwise ignored, as MS-SMB2 3.3.5.12 does for Channel NONE.
        r.skip(4, "ReadChannelInfoOffset/Length")?;
        Ok(ReadRequest { padding, flags, length, offset, file_id, minimum_count, channel, remaining_bytes })
    }

    pub fn encode(&self, out: &mut Writer) {
        out.u16(Self::STRUCTURE_SIZE).u8(self.padding).u8(self.flags).u32(self.length).u64(self.offset);
        self.file_id.write(out);
        out.u32(self.minimum_count).u32(self.channel).u32(self.remaining_bytes).u32(0).u8(0);
    }
}

/// MS-SMB2 2.2.20 SMB2 READ Response. Encoded in two parts so that large data is never copied:
/// [`ReadResponse::encode_head`] writes the 16 fixed bytes, the data follows them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ReadResponse {
    pub data: Vec<u8>,
    pub data_remaining: u32,
}

impl ReadResponse {
    pub const STRUCTURE_SIZE: u16 = 17;
    /// DataOffset: the data follows the 64-byte header and the 16 fixed bytes.
    pub const DATA_OFFSET: u8 = 0x50;

    pub fn encode_head(data_length: usize, data_remaining: u32, out: &mut Writer) {
        out.u16(Self::STRUCTURE_SIZE).u8(Self::DATA_OFFSET).u8(0).u32(data_length as u32).u32(data_remaining).u32(0);
    }

    pub fn encode(&self, out: &mut Writer) {
        Self::encode_head(self.data.len(), self.data_remaining, out);
        out.bytes(&self.data);
    }

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "READ response")?;
        let offset = usize::from(r.u8("DataOffset")?);
        r.skip(1, "Reserved")?;
        let length = r.u32("DataLength")? as usize;
        let data_remaining = r.u32("DataRemaining")?;
        let data = if length == 0 { Vec::new() } else { r.slice_at(offset, length, "Data")?.to_vec() };
        Ok(ReadResponse { data, data_remaining })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn read_request_golden_bytes_round_trip() {
        let request = ReadRequest {
            padding: 0x50,
            length: 0x0001_0000,
            offset: 0x2000,
            file_id: FileId { persistent: 1, volatile: 2 },
            ..Default::default()
        };
        let bytes = message(Command::READ, |out| request.encode(out));
        assert_eq!(
            body_hex(&bytes),
            "31005000000001000020000000000000010000000000000002000000000000000000000000000000000000000000000000"
        );
        assert_eq!(ReadRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn read_response_puts_the_data_at_offset_0x50() {
        let response = ReadResponse { data: b"hello".to_vec(), data_remaining: 0 };
        let bytes = message(Command::READ, |out| response.encode(out));
        assert_eq!(&bytes[0x50..], b"hello");
        assert_eq!(ReadResponse::decode(&bytes).unwrap(), response);
    }
}
