//! MS-SMB2 2.2.2 SMB2 ERROR Response.

use super::reader::{DecodeError, Writer};
use super::{body, expect_structure_size};

/// MS-SMB2 2.2.2 SMB2 ERROR Response. `data` is empty except for the few statuses that carry
/// error data (e.g. STATUS_BUFFER_TOO_SMALL carries the needed size, 2.2.2.2).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ErrorResponse {
    pub data: Vec<u8>,
}

impl ErrorResponse {
    pub const STRUCTURE_SIZE: u16 = 9;

    pub fn encode(&self, out: &mut Writer) {
        out.u16(Self::STRUCTURE_SIZE).u8(0).u8(0).u32(self.data.len() as u32);
        if self.data.is_empty() {
            out.u8(0);
        } else {
            out.bytes(&self.data);
        }
    }

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "ERROR response")?;
        r.skip(2, "ErrorContextCount/Reserved")?;
        let count = r.u32("ByteCount")? as usize;
        Ok(ErrorResponse { data: if count == 0 { Vec::new() } else { r.take(count, "ErrorData")?.to_vec() } })
    }

    /// STATUS_BUFFER_TOO_SMALL's error data: the size the caller needs (MS-SMB2 2.2.2.2).
    pub fn buffer_too_small(needed: u32) -> Self {
        ErrorResponse { data: needed.to_le_bytes().to_vec() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn an_empty_error_response_is_nine_bytes() {
        let bytes = message(Command::CREATE, |out| ErrorResponse::default().encode(out));
        assert_eq!(body_hex(&bytes), "090000000000000000");
        assert_eq!(ErrorResponse::decode(&bytes).unwrap(), ErrorResponse::default());
    }

    #[test]
    fn buffer_too_small_carries_the_needed_size() {
        let bytes = message(Command::QUERY_INFO, |out| ErrorResponse::buffer_too_small(40).encode(out));
        assert_eq!(body_hex(&bytes), "090000000400000028000000");
    }
}
