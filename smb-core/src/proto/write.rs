//! MS-SMB2 2.2.21 SMB2 WRITE Request and 2.2.22 SMB2 WRITE Response.

use super::reader::{DecodeError, Writer};
use super::{Field, FileId, body, expect_structure_size};

/// MS-SMB2 2.2.21 `Flags`.
pub mod write_flags {
    pub const WRITE_THROUGH: u32 = 0x0000_0001;
    pub const WRITE_UNBUFFERED: u32 = 0x0000_0002;
}

/// MS-SMB2 2.2.21 SMB2 WRITE Request. The data is borrowed from the message (up to 8 MiB).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct WriteRequest<'a> {
    pub offset: u64,
    pub file_id: FileId,
    pub channel: u32,
    pub remaining_bytes: u32,
    pub flags: u32,
    pub data: &'a [u8],
}

impl<'a> WriteRequest<'a> {
    pub const STRUCTURE_SIZE: u16 = 49;

    pub fn decode(message: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "WRITE request")?;
        let data_offset = usize::from(r.u16("DataOffset")?);
        let length = r.u32("Length")? as usize;
        let offset = r.u64("Offset")?;
        let file_id = FileId::read(&mut r, "FileId")?;
        let channel = r.u32("Channel")?;
        let remaining_bytes = r.u32("RemainingBytes")?;
        r.skip(4, "WriteChannelInfoOffset/Length")?;
        let flags = r.u32("Flags")?;
        let data = if length == 0 { &[][..] } else { r.slice_at(data_offset, length, "Data")? };
        Ok(WriteRequest { offset, file_id, channel, remaining_bytes, flags, data })
    }

    pub fn encode(&self, out: &mut Writer) {
        let data_offset = out.len() + 48;
        out.u16(Self::STRUCTURE_SIZE).u16(data_offset as u16).u32(self.data.len() as u32).u64(self.offset);
        self.file_id.write(out);
        out.u32(self.channel).u32(self.remaining_bytes).u32(0).u32(self.flags);
        if self.data.is_empty() {
            out.u8(0);
        } else {
            out.bytes(self.data);
        }
    }
}

/// MS-SMB2 2.2.22 SMB2 WRITE Response.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct WriteResponse {
    pub count: u32,
}

impl WriteResponse {
    pub const STRUCTURE_SIZE: u16 = 17;

    pub fn encode(&self, out: &mut Writer) {
        out.u16(Self::STRUCTURE_SIZE).u16(0).u32(self.count).u32(0).u32(0);
    }

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "WRITE response")?;
        r.skip(2, "Reserved")?;
        Ok(WriteResponse { count: r.u32("Count")? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn write_request_golden_bytes_round_trip() {
        let request = WriteRequest {
            offset: 4,
            file_id: FileId { persistent: 9, volatile: 8 },
            data: b"ab",
            ..Default::default()
        };
        let bytes = message(Command::WRITE, |out| request.encode(out));
        assert_eq!(
            body_hex(&bytes),
            "3100700002000000040000000000000009000000000000000800000000000000000000000000000000000000000000006162"
        );
        assert_eq!(WriteRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn data_beyond_the_message_is_refused() {
        let request = WriteRequest { data: b"abcd", ..Default::default() };
        let mut bytes = message(Command::WRITE, |out| request.encode(out));
        bytes.truncate(bytes.len() - 1);
        assert!(WriteRequest::decode(&bytes).is_err());
    }

    #[test]
    fn write_response_round_trips() {
        let bytes = message(Command::WRITE, |out| WriteResponse { count: 65536 }.encode(out));
        assert_eq!(body_hex(&bytes), "11000000000001000000000000000000");
        assert_eq!(WriteResponse::decode(&bytes).unwrap(), WriteResponse { count: 65536 });
    }
}
