//! MS-SMB2 2.2.30 SMB2 CANCEL Request. It has no response: the cancelled request answers.

use super::fixed_body;

fixed_body! {
    /// MS-SMB2 2.2.30 SMB2 CANCEL Request.
    pub struct CancelRequest = 4 { reserved: u16 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn cancel_round_trips() {
        let bytes = message(Command::CANCEL, |out| CancelRequest::default().encode(out));
        assert_eq!(body_hex(&bytes), "04000000");
        assert_eq!(CancelRequest::decode(&bytes).unwrap(), CancelRequest::default());
    }
}
