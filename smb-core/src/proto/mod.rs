//! The SMB2/3 wire format (MS-SMB2 section 2), parsed through one bounds-checked [`Reader`].

pub mod framing;
pub mod reader;
pub mod status;

pub use reader::{DecodeError, Reader, Writer};
pub use status::NtStatus;
