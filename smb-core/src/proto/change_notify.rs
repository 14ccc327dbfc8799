//! MS-SMB2 2.2.35 SMB2 CHANGE_NOTIFY Request and 2.2.36 SMB2 CHANGE_NOTIFY Response, and the
//! MS-FSCC 2.7.1 FILE_NOTIFY_INFORMATION entries the response carries.

use super::reader::{DecodeError, Writer};
use super::{FileId, fixed_body, utf16};

pub use super::query_info::OutputBufferResponse as ChangeNotifyResponse;

/// MS-SMB2 2.2.35 `Flags`.
pub const WATCH_TREE: u16 = 0x0001;

/// MS-SMB2 2.2.35 `CompletionFilter`.
pub mod filter {
    pub const FILE_NAME: u32 = 0x0000_0001;
    pub const DIR_NAME: u32 = 0x0000_0002;
    pub const ATTRIBUTES: u32 = 0x0000_0004;
    pub const SIZE: u32 = 0x0000_0008;
    pub const LAST_WRITE: u32 = 0x0000_0010;
    pub const LAST_ACCESS: u32 = 0x0000_0020;
    pub const CREATION: u32 = 0x0000_0040;
    pub const EA: u32 = 0x0000_0080;
    pub const SECURITY: u32 = 0x0000_0100;
    pub const STREAM_NAME: u32 = 0x0000_0200;
    pub const STREAM_SIZE: u32 = 0x0000_0400;
    pub const STREAM_WRITE: u32 = 0x0000_0800;
}

/// MS-FSCC 2.7.1 `Action`.
pub mod action {
    pub const ADDED: u32 = 0x0000_0001;
    pub const REMOVED: u32 = 0x0000_0002;
    pub const MODIFIED: u32 = 0x0000_0003;
    pub const RENAMED_OLD_NAME: u32 = 0x0000_0004;
    pub const RENAMED_NEW_NAME: u32 = 0x0000_0005;
}

fixed_body! {
    /// MS-SMB2 2.2.35 SMB2 CHANGE_NOTIFY Request.
    pub struct ChangeNotifyRequest = 32 {
        flags: u16,
        output_buffer_length: u32,
        file_id: FileId,
        completion_filter: u32,
        reserved: u32,
    }
}

/// MS-FSCC 2.7.1 FILE_NOTIFY_INFORMATION: one change, the name relative to the watched directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileNotifyInformation {
    pub action: u32,
    pub name: String,
}

impl FileNotifyInformation {
    /// Encodes a chain of entries, each 4-byte aligned with NextEntryOffset linking them.
    pub fn encode_all(entries: &[FileNotifyInformation]) -> Vec<u8> {
        let mut out = Writer::new();
        for (index, entry) in entries.iter().enumerate() {
            let start = out.len();
            let name = utf16::encode(&entry.name);
            out.u32(0).u32(entry.action).u32(name.len() as u32).bytes(&name);
            if index + 1 < entries.len() {
                out.align(4);
                let next = (out.len() - start) as u32;
                out.patch_u32(start, next);
            }
        }
        out.into_vec()
    }

    pub fn decode_all(bytes: &[u8]) -> Result<Vec<FileNotifyInformation>, DecodeError> {
        let mut entries = Vec::new();
        let mut position = 0;
        loop {
            let mut r = super::Reader::new(super::reader::slice_at(bytes, position, 12, "FILE_NOTIFY_INFORMATION")?);
            let next = r.u32("NextEntryOffset")? as usize;
            let action = r.u32("Action")?;
            let length = r.u32("FileNameLength")? as usize;
            let name = utf16::decode(super::reader::slice_at(bytes, position + 12, length, "FileName")?, "FileName")?;
            entries.push(FileNotifyInformation { action, name });
            if next == 0 {
                return Ok(entries);
            }
            position += next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn change_notify_request_golden_bytes_round_trip() {
        let request = ChangeNotifyRequest {
            flags: WATCH_TREE,
            output_buffer_length: 4096,
            file_id: FileId { persistent: 1, volatile: 1 },
            completion_filter: filter::FILE_NAME | filter::DIR_NAME,
            reserved: 0,
        };
        let bytes = message(Command::CHANGE_NOTIFY, |out| request.encode(out));
        assert_eq!(
            body_hex(&bytes),
            "200001000010000001000000000000000100000000000000 0300000000000000".replace(' ', "")
        );
        assert_eq!(ChangeNotifyRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn notify_entries_are_aligned_and_linked() {
        let entries = vec![
            FileNotifyInformation { action: action::ADDED, name: "a.txt".into() },
            FileNotifyInformation { action: action::REMOVED, name: "dir\\b".into() },
        ];
        let bytes = FileNotifyInformation::encode_all(&entries);
        // 12 + 10 bytes, padded to 24: the second entry starts there.
        assert_eq!(&bytes[..4], &24u32.to_le_bytes());
        assert_eq!(FileNotifyInformation::decode_all(&bytes).unwrap(), entries);
    }
}
