//! MS-SMB2 2.2.11 SMB2 TREE_DISCONNECT Request and 2.2.12 Response: four bytes each, a reserved field only.

use super::fixed_body;

fixed_body! {
    /// MS-SMB2 2.2.11 SMB2 TREE_DISCONNECT Request.
    pub struct TreeDisconnectRequest = 4 { reserved: u16 }
}

fixed_body! {
    /// MS-SMB2 2.2.12 SMB2 TREE_DISCONNECT Response.
    pub struct TreeDisconnectResponse = 4 { reserved: u16 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn request_and_response_are_four_bytes_and_round_trip() {
        let bytes = message(Command::TREE_DISCONNECT, |out| TreeDisconnectRequest::default().encode(out));
        assert_eq!(body_hex(&bytes), "04000000");
        assert_eq!(TreeDisconnectRequest::decode(&bytes).unwrap(), TreeDisconnectRequest::default());
        let bytes = message(Command::TREE_DISCONNECT, |out| TreeDisconnectResponse::default().encode(out));
        assert_eq!(TreeDisconnectResponse::decode(&bytes).unwrap(), TreeDisconnectResponse::default());
    }

    #[test]
    fn a_wrong_structure_size_is_refused() {
        let bytes = message(Command::TREE_DISCONNECT, |out| {
            out.u16(5).u16(0);
        });
        assert!(TreeDisconnectRequest::decode(&bytes).is_err());
    }
}
