//! MS-SMB2 2.2.39 SMB2 SET_INFO Request and 2.2.40 SMB2 SET_INFO Response.

use super::reader::{DecodeError, Writer};
use super::{Field, FileId, body, expect_structure_size, fixed_body};

/// MS-SMB2 2.2.39 SMB2 SET_INFO Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SetInfoRequest {
    pub info_type: u8,
    pub file_info_class: u8,
    pub buffer: Vec<u8>,
    pub additional_information: u32,
    pub file_id: FileId,
}

impl SetInfoRequest {
    pub const STRUCTURE_SIZE: u16 = 33;

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "SET_INFO request")?;
        let info_type = r.u8("InfoType")?;
        let file_info_class = r.u8("FileInfoClass")?;
        let length = r.u32("BufferLength")? as usize;
        let offset = usize::from(r.u16("BufferOffset")?);
        r.skip(2, "Reserved")?;
        let additional_information = r.u32("AdditionalInformation")?;
        let file_id = FileId::read(&mut r, "FileId")?;
        let buffer =
            if length == 0 { Vec::new() } else { super::reader::slice_at(message, offset, length, "Buffer")?.to_vec() };
        Ok(SetInfoRequest { info_type, file_info_class, buffer, additional_information, file_id })
    }

    pub fn encode(&self, out: &mut Writer) {
        let offset = out.len() + 32;
        out.u16(Self::STRUCTURE_SIZE).u8(self.info_type).u8(self.file_info_class);
        out.u32(self.buffer.len() as u32).u16(offset as u16).u16(0).u32(self.additional_information);
        self.file_id.write(out);
        if self.buffer.is_empty() {
            out.u8(0);
        } else {
            out.bytes(&self.buffer);
        }
    }
}

fixed_body! {
    /// MS-SMB2 2.2.40 SMB2 SET_INFO Response.
    pub struct SetInfoResponse = 2 {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn set_info_request_golden_bytes_round_trip() {
        // FileDispositionInformation (13): delete pending.
        let request = SetInfoRequest {
            info_type: 1,
            file_info_class: 13,
            buffer: vec![1],
            additional_information: 0,
            file_id: FileId { persistent: 2, volatile: 3 },
        };
        let bytes = message(Command::SET_INFO, |out| request.encode(out));
        assert_eq!(body_hex(&bytes), "2100010d0100000060000000000000000200000000000000030000000000000001");
        assert_eq!(SetInfoRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn set_info_response_is_two_bytes() {
        let bytes = message(Command::SET_INFO, |out| SetInfoResponse::default().encode(out));
        assert_eq!(body_hex(&bytes), "0200");
    }
}
