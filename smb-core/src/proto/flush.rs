//! MS-SMB2 2.2.17 SMB2 FLUSH Request and 2.2.18 SMB2 FLUSH Response.

use super::{FileId, fixed_body};

fixed_body! {
    /// MS-SMB2 2.2.17 SMB2 FLUSH Request.
    pub struct FlushRequest = 24 { reserved1: u16, reserved2: u32, file_id: FileId }
}

fixed_body! {
    /// MS-SMB2 2.2.18 SMB2 FLUSH Response.
    pub struct FlushResponse = 4 { reserved: u16 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn flush_golden_bytes_round_trip() {
        let golden = "18000000000000000100000000000000feffffff00000000";
        let request = FlushRequest { file_id: FileId { persistent: 1, volatile: 0xffff_fffe }, ..Default::default() };
        let bytes = message(Command::FLUSH, |out| request.encode(out));
        assert_eq!(body_hex(&bytes), golden);
        assert_eq!(FlushRequest::decode(&bytes).unwrap(), request);
    }
}
