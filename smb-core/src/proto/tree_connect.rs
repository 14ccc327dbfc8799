//! MS-SMB2 2.2.9 SMB2 TREE_CONNECT Request and 2.2.10 SMB2 TREE_CONNECT Response.

use super::reader::{DecodeError, Writer};
use super::{body, expect_structure_size, fixed_body, utf16};

/// MS-SMB2 2.2.9 `Flags` (3.1.1).
pub mod tree_connect_flags {
    pub const CLUSTER_RECONNECT: u16 = 0x0001;
    pub const REDIRECT_TO_OWNER: u16 = 0x0002;
    pub const EXTENSION_PRESENT: u16 = 0x0004;
}

/// MS-SMB2 2.2.10 `ShareType`.
pub mod share_type {
    pub const DISK: u8 = 0x01;
    pub const PIPE: u8 = 0x02;
    pub const PRINT: u8 = 0x03;
}

/// MS-SMB2 2.2.10 `ShareFlags`.
pub mod share_flags {
    pub const MANUAL_CACHING: u32 = 0x0000_0000;
    pub const NO_CACHING: u32 = 0x0000_0030;
    pub const ACCESS_BASED_DIRECTORY_ENUM: u32 = 0x0000_0800;
    pub const ENCRYPT_DATA: u32 = 0x0000_8000;
}

/// MS-SMB2 2.2.10 `Capabilities`.
pub mod share_capabilities {
    pub const CONTINUOUS_AVAILABILITY: u32 = 0x0000_0010;
}

/// MS-SMB2 2.2.9 SMB2 TREE_CONNECT Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TreeConnectRequest {
    pub flags: u16,
    /// `\\server\share`.
    pub path: String,
}

impl TreeConnectRequest {
    pub const STRUCTURE_SIZE: u16 = 9;

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "TREE_CONNECT request")?;
        let flags = r.u16("Flags")?;
        let offset = usize::from(r.u16("PathOffset")?);
        let length = usize::from(r.u16("PathLength")?);
        if flags & tree_connect_flags::EXTENSION_PRESENT != 0 {
            return Err(DecodeError::invalid("TREE_CONNECT request", "the tree connect extension is not supported"));
        }
        let path = utf16::decode(r.slice_at(offset, length, "PathName")?, "PathName")?;
        Ok(TreeConnectRequest { flags, path })
    }

    pub fn encode(&self, out: &mut Writer) {
        let path = utf16::encode(&self.path);
        let offset = out.len() + 8;
        out.u16(Self::STRUCTURE_SIZE).u16(self.flags).u16(offset as u16).u16(path.len() as u16).bytes(&path);
    }

    /// The share name: the last component of `\\server\share`.
    pub fn share_name(&self) -> &str {
        self.path.trim_start_matches('\\').split_once('\\').map_or("", |(_, share)| share)
    }
}

fixed_body! {
    /// MS-SMB2 2.2.10 SMB2 TREE_CONNECT Response.
    pub struct TreeConnectResponse = 16 {
        share_type: u8,
        reserved: u8,
        share_flags: u32,
        capabilities: u32,
        maximal_access: u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn tree_connect_golden_bytes_round_trip() {
        let request = TreeConnectRequest { flags: 0, path: "\\\\h\\s".into() };
        let bytes = message(Command::TREE_CONNECT, |out| request.encode(out));
        assert_eq!(body_hex(&bytes), "0900000048000a005c005c0068005c007300");
        let decoded = TreeConnectRequest::decode(&bytes).unwrap();
        assert_eq!(decoded, request);
        assert_eq!(decoded.share_name(), "s");
    }

    #[test]
    fn a_path_outside_the_message_is_refused() {
        let request = TreeConnectRequest { flags: 0, path: "\\\\h\\share".into() };
        let mut bytes = message(Command::TREE_CONNECT, |out| request.encode(out));
        bytes.truncate(bytes.len() - 2);
        assert!(TreeConnectRequest::decode(&bytes).is_err());
    }

    #[test]
    fn a_request_with_the_extension_is_refused() {
        let request = TreeConnectRequest { flags: tree_connect_flags::EXTENSION_PRESENT, path: "\\\\h\\s".into() };
        let bytes = message(Command::TREE_CONNECT, |out| request.encode(out));
        assert!(TreeConnectRequest::decode(&bytes).is_err());
    }

    #[test]
    fn tree_connect_response_round_trips() {
        let response =
            TreeConnectResponse { share_type: share_type::DISK, maximal_access: 0x001f_01ff, ..Default::default() };
        let bytes = message(Command::TREE_CONNECT, |out| response.encode(out));
        assert_eq!(body_hex(&bytes), "100001000000000000000000ff011f00");
        assert_eq!(TreeConnectResponse::decode(&bytes).unwrap(), response);
    }
}
