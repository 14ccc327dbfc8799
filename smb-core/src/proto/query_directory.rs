//! MS-SMB2 2.2.33 SMB2 QUERY_DIRECTORY Request and 2.2.34 SMB2 QUERY_DIRECTORY Response.

use super::reader::{DecodeError, Writer};
use super::{Field, FileId, body, expect_structure_size, utf16};

pub use super::query_info::OutputBufferResponse as QueryDirectoryResponse;

/// MS-SMB2 2.2.33 `Flags`.
pub mod query_directory_flags {
    pub const RESTART_SCANS: u8 = 0x01;
    pub const RETURN_SINGLE_ENTRY: u8 = 0x02;
    pub const INDEX_SPECIFIED: u8 = 0x04;
    pub const REOPEN: u8 = 0x10;
}

/// MS-SMB2 2.2.33 SMB2 QUERY_DIRECTORY Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueryDirectoryRequest {
    pub file_information_class: u8,
    pub flags: u8,
    pub file_index: u32,
    pub file_id: FileId,
    /// The search pattern (`*`, `*.txt`, an exact name ...).
    pub pattern: String,
    pub output_buffer_length: u32,
}

impl QueryDirectoryRequest {
    pub const STRUCTURE_SIZE: u16 = 33;

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "QUERY_DIRECTORY request")?;
        let file_information_class = r.u8("FileInformationClass")?;
        let flags = r.u8("Flags")?;
        let file_index = r.u32("FileIndex")?;
        let file_id = FileId::read(&mut r, "FileId")?;
        let name_offset = usize::from(r.u16("FileNameOffset")?);
        let name_length = usize::from(r.u16("FileNameLength")?);
        let output_buffer_length = r.u32("OutputBufferLength")?;
        let pattern = if name_length == 0 {
            String::new()
        } else {
            utf16::decode(r.slice_at(name_offset, name_length, "FileName")?, "FileName")?
        };
        Ok(QueryDirectoryRequest { file_information_class, flags, file_index, file_id, pattern, output_buffer_length })
    }

    pub fn encode(&self, out: &mut Writer) {
        let name = utf16::encode(&self.pattern);
        let offset = out.len() + 32;
        out.u16(Self::STRUCTURE_SIZE).u8(self.file_information_class).u8(self.flags).u32(self.file_index);
        self.file_id.write(out);
        out.u16(if name.is_empty() { 0 } else { offset as u16 }).u16(name.len() as u16).u32(self.output_buffer_length);
        if name.is_empty() {
            out.u8(0);
        } else {
            out.bytes(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn query_directory_golden_bytes_round_trip() {
        let request = QueryDirectoryRequest {
            file_information_class: 37,
            flags: query_directory_flags::RESTART_SCANS,
            file_index: 0,
            file_id: FileId { persistent: 1, volatile: 2 },
            pattern: "*".into(),
            output_buffer_length: 65536,
        };
        let bytes = message(Command::QUERY_DIRECTORY, |out| request.encode(out));
        assert_eq!(
            body_hex(&bytes),
            "2100250100000000010000000000000002000000000000006000020000000100 2a00".replace(' ', "")
        );
        assert_eq!(QueryDirectoryRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn a_pattern_with_an_odd_length_is_refused() {
        let request = QueryDirectoryRequest { pattern: "ab".into(), ..Default::default() };
        let mut bytes = message(Command::QUERY_DIRECTORY, |out| request.encode(out));
        bytes[64 + 26] = 3;
        assert!(QueryDirectoryRequest::decode(&bytes).is_err());
    }
}
