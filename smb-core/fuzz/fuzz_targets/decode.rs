//! Every request decoder on arbitrary bytes: a value or an error, never a panic; and what decodes
//! re-encodes to something that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smb_core::proto::create::{CreateContext, CreateRequest, LeaseContext};
use smb_core::proto::header::{HEADER_SIZE, Header};
use smb_core::proto::lock::LockRequest;
use smb_core::proto::negotiate::NegotiateRequest;
use smb_core::proto::query_directory::QueryDirectoryRequest;
use smb_core::proto::read::ReadRequest;
use smb_core::proto::session_setup::SessionSetupRequest;
use smb_core::proto::tree_connect::TreeConnectRequest;
use smb_core::proto::{Reader, Writer};

/// Re-encodes `value` after `header` and checks it decodes to the same value.
macro_rules! round_trip {
    ($bytes:expr, $type:ty) => {
        if let Ok(value) = <$type>::decode($bytes) {
            let mut out = Writer::new();
            out.bytes(&$bytes[..HEADER_SIZE]);
            value.encode(&mut out);
            let again = <$type>::decode(out.as_slice()).expect("a re-encoded message decodes");
            assert_eq!(again, value, "decode(encode(x)) == x");
        }
    };
}

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = Header::decode(&mut Reader::new(data)) {
        let mut out = Writer::new();
        header.encode(&mut out);
        assert_eq!(Header::decode(&mut Reader::new(out.as_slice())).unwrap(), header);
    }
    if data.len() < HEADER_SIZE {
        let _ = LeaseContext::decode(data);
        let _ = CreateContext::decode_chain(data);
        return;
    }
    round_trip!(data, NegotiateRequest);
    round_trip!(data, SessionSetupRequest);
    round_trip!(data, TreeConnectRequest);
    round_trip!(data, CreateRequest);
    round_trip!(data, ReadRequest);
    round_trip!(data, LockRequest);
    round_trip!(data, QueryDirectoryRequest);
    let _ = smb_core::proto::write::WriteRequest::decode(data);
    let _ = smb_core::proto::ioctl::IoctlRequest::decode(data);
    let _ = smb_core::proto::query_info::QueryInfoRequest::decode(data);
    let _ = smb_core::proto::set_info::SetInfoRequest::decode(data);
    let _ = smb_core::proto::oplock_break::OplockBreakAcknowledgment::decode(data);
    let _ = smb_core::proto::fscc::FullEa::decode_all(&data[HEADER_SIZE..]);
});
