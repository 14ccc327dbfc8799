//! MS-SMB2 2.2.28 SMB2 ECHO Request and 2.2.29 Response: four bytes each, a reserved field only.

use super::fixed_body;

fixed_body! {
    /// MS-SMB2 2.2.28 SMB2 ECHO Request.
    pub struct EchoRequest = 4 { reserved: u16 }
}

fixed_body! {
    /// MS-SMB2 2.2.29 SMB2 ECHO Response.
    pub struct EchoResponse = 4 { reserved: u16 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn request_and_response_are_four_bytes_and_round_trip() {
        let bytes = message(Command::ECHO, |out| EchoRequest::default().encode(out));
        assert_eq!(body_hex(&bytes), "04000000");
        assert_eq!(EchoRequest::decode(&bytes).unwrap(), EchoRequest::default());
        let bytes = message(Command::ECHO, |out| EchoResponse::default().encode(out));
        assert_eq!(EchoResponse::decode(&bytes).unwrap(), EchoResponse::default());
    }

    #[test]
    fn a_wrong_structure_size_is_refused() {
        let bytes = message(Command::ECHO, |out| {
            out.u16(5).u16(0);
        });
        assert!(EchoRequest::decode(&bytes).is_err());
    }
}
