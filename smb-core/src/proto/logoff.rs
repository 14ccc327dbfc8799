//! MS-SMB2 2.2.7 SMB2 LOGOFF Request and 2.2.8 Response: four bytes each, a reserved field only.

use super::fixed_body;

fixed_body! {
    /// MS-SMB2 2.2.7 SMB2 LOGOFF Request.
    pub struct LogoffRequest = 4 { reserved: u16 }
}

fixed_body! {
    /// MS-SMB2 2.2.8 SMB2 LOGOFF Response.
    pub struct LogoffResponse = 4 { reserved: u16 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn request_and_response_are_four_bytes_and_round_trip() {
        let bytes = message(Command::LOGOFF, |out| LogoffRequest::default().encode(out));
        assert_eq!(body_hex(&bytes), "04000000");
        assert_eq!(LogoffRequest::decode(&bytes).unwrap(), LogoffRequest::default());
        let bytes = message(Command::LOGOFF, |out| LogoffResponse::default().encode(out));
        assert_eq!(LogoffResponse::decode(&bytes).unwrap(), LogoffResponse::default());
    }

    #[test]
    fn a_wrong_structure_size_is_refused() {
        let bytes = message(Command::LOGOFF, |out| {
            out.u16(5).u16(0);
        });
        assert!(LogoffRequest::decode(&bytes).is_err());
    }
}
