//! MS-SMB2 2.2.37 SMB2 QUERY_INFO Request and 2.2.38 SMB2 QUERY_INFO Response.

use super::reader::{DecodeError, Writer};
use super::{Field, FileId, body, expect_structure_size};

/// MS-SMB2 2.2.37 `InfoType`.
pub mod info_type {
    pub const FILE: u8 = 0x01;
    pub const FILESYSTEM: u8 = 0x02;
    pub const SECURITY: u8 = 0x03;
    pub const QUOTA: u8 = 0x04;
}

/// MS-SMB2 2.2.37 SMB2 QUERY_INFO Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueryInfoRequest {
    pub info_type: u8,
    pub file_info_class: u8,
    pub output_buffer_length: u32,
    /// Input for quota queries and FileFullEaInformation.
    pub input: Vec<u8>,
    /// For SECURITY: which parts of the descriptor (MS-DTYP 2.4.7 SECURITY_INFORMATION).
    pub additional_information: u32,
    pub flags: u32,
    pub file_id: FileId,
}

impl QueryInfoRequest {
    pub const STRUCTURE_SIZE: u16 = 41;

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "QUERY_INFO request")?;
        let info_type = r.u8("InfoType")?;
        let file_info_class = r.u8("FileInfoClass")?;
        let output_buffer_length = r.u32("OutputBufferLength")?;
        let input_offset = usize::from(r.u16("InputBufferOffset")?);
        r.skip(2, "Reserved")?;
        let input_length = r.u32("InputBufferLength")? as usize;
        let additional_information = r.u32("AdditionalInformation")?;
        let flags = r.u32("Flags")?;
        let file_id = FileId::read(&mut r, "FileId")?;
        let input = if input_length == 0 {
            Vec::new()
        } else {
            super::reader::slice_at(message, input_offset, input_length, "InputBuffer")?.to_vec()
        };
        Ok(QueryInfoRequest {
            info_type,
            file_info_class,
            output_buffer_length,
            input,
            additional_information,
            flags,
            file_id,
        })
    }

    pub fn encode(&self, out: &mut Writer) {
        let input_offset = if self.input.is_empty() { 0 } else { out.len() + 40 };
        out.u16(Self::STRUCTURE_SIZE).u8(self.info_type).u8(self.file_info_class).u32(self.output_buffer_length);
        out.u16(input_offset as u16).u16(0).u32(self.input.len() as u32);
        out.u32(self.additional_information).u32(self.flags);
        self.file_id.write(out);
        if self.input.is_empty() {
            out.u8(0);
        } else {
            out.bytes(&self.input);
        }
    }
}

/// MS-SMB2 2.2.38 SMB2 QUERY_INFO Response (and the same layout of 2.2.34 QUERY_DIRECTORY and
/// 2.2.36 CHANGE_NOTIFY responses): StructureSize 9, offset, length, buffer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OutputBufferResponse {
    pub buffer: Vec<u8>,
}

pub type QueryInfoResponse = OutputBufferResponse;

impl OutputBufferResponse {
    pub const STRUCTURE_SIZE: u16 = 9;

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "output buffer response")?;
        let offset = usize::from(r.u16("OutputBufferOffset")?);
        let length = r.u32("OutputBufferLength")? as usize;
        let buffer = if length == 0 { Vec::new() } else { r.slice_at(offset, length, "OutputBuffer")?.to_vec() };
        Ok(OutputBufferResponse { buffer })
    }

    pub fn encode(&self, out: &mut Writer) {
        let offset = out.len() + 8;
        out.u16(Self::STRUCTURE_SIZE).u16(offset as u16).u32(self.buffer.len() as u32);
        if self.buffer.is_empty() {
            out.u8(0);
        } else {
            out.bytes(&self.buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn query_info_request_golden_bytes_round_trip() {
        let request = QueryInfoRequest {
            info_type: info_type::FILE,
            file_info_class: 5,
            output_buffer_length: 24,
            file_id: FileId { persistent: 1, volatile: 1 },
            ..Default::default()
        };
        let bytes = message(Command::QUERY_INFO, |out| request.encode(out));
        assert_eq!(
            body_hex(&bytes),
            "2900010518000000000000000000000000000000000000000100000000000000010000000000000000"
        );
        assert_eq!(QueryInfoRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn output_buffers_round_trip_with_their_offset_after_the_fixed_part() {
        let response = OutputBufferResponse { buffer: vec![1, 2, 3, 4] };
        let bytes = message(Command::QUERY_INFO, |out| response.encode(out));
        assert_eq!(body_hex(&bytes), "0900480004000000 01020304".replace(' ', ""));
        assert_eq!(OutputBufferResponse::decode(&bytes).unwrap(), response);
    }

    #[test]
    fn an_input_buffer_outside_the_message_is_refused() {
        let request = QueryInfoRequest { input: vec![1; 8], ..Default::default() };
        let mut bytes = message(Command::QUERY_INFO, |out| request.encode(out));
        bytes.truncate(bytes.len() - 4);
        assert!(QueryInfoRequest::decode(&bytes).is_err());
    }
}
