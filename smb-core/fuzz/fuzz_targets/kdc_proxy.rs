//! The KDC proxy's decoder (MS-KKDCP KDC-PROXY-MESSAGE) on arbitrary bytes: a checked request or
//! an error, never a panic; what it accepts is one whole AS-REQ or TGS-REQ with its true length,
//! and re-encodes to a message that decodes to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smb_core::auth::kerberos::kkdcp::{ProxyRequest, encode_request};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = ProxyRequest::decode(data) {
        let length = u32::from_be_bytes(request.message[..4].try_into().expect("a length prefix")) as usize;
        assert_eq!(length + 4, request.message.len(), "the prefix is the message's length");
        let again = ProxyRequest::decode(&encode_request(&request.message, &request.realm)).expect("re-encoded");
        assert_eq!(again, request);
    }
});
