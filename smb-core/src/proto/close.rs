//! MS-SMB2 2.2.15 SMB2 CLOSE Request and 2.2.16 SMB2 CLOSE Response.

use super::{FileId, fixed_body};

/// MS-SMB2 2.2.15 `Flags`: return the file's attributes in the response.
pub const POSTQUERY_ATTRIB: u16 = 0x0001;

fixed_body! {
    /// MS-SMB2 2.2.15 SMB2 CLOSE Request.
    pub struct CloseRequest = 24 { flags: u16, reserved: u32, file_id: FileId }
}

fixed_body! {
    /// MS-SMB2 2.2.16 SMB2 CLOSE Response. Times are FILETIME; all zero unless POSTQUERY_ATTRIB.
    pub struct CloseResponse = 60 {
        flags: u16,
        reserved: u32,
        creation_time: u64,
        last_access_time: u64,
        last_write_time: u64,
        change_time: u64,
        allocation_size: u64,
        end_of_file: u64,
        file_attributes: u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn close_request_golden_bytes_round_trip() {
        let golden = "1800010000000000050000000000000007000000000000 00".replace(' ', "");
        let request = CloseRequest {
            flags: POSTQUERY_ATTRIB,
            file_id: FileId { persistent: 5, volatile: 7 },
            ..Default::default()
        };
        let bytes = message(Command::CLOSE, |out| request.encode(out));
        assert_eq!(body_hex(&bytes), golden);
        assert_eq!(CloseRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn close_response_is_sixty_bytes_and_round_trips() {
        let response =
            CloseResponse { flags: POSTQUERY_ATTRIB, end_of_file: 10, file_attributes: 0x20, ..Default::default() };
        let bytes = message(Command::CLOSE, |out| response.encode(out));
        assert_eq!(bytes.len() - 64, 60);
        assert_eq!(CloseResponse::decode(&bytes).unwrap(), response);
    }
}
