//! MS-SMB2 2.2.13 SMB2 CREATE Request, 2.2.14 SMB2 CREATE Response, and their create contexts
//! (2.2.13.2 SMB2_CREATE_CONTEXT).

use super::reader::{DecodeError, Reader, Writer, slice_at};
use super::{Field, FileId, body, expect_structure_size, utf16};

/// MS-SMB2 2.2.13 `CreateDisposition`.
pub mod disposition {
    pub const SUPERSEDE: u32 = 0;
    pub const OPEN: u32 = 1;
    pub const CREATE: u32 = 2;
    pub const OPEN_IF: u32 = 3;
    pub const OVERWRITE: u32 = 4;
    pub const OVERWRITE_IF: u32 = 5;
}

/// MS-SMB2 2.2.13 `CreateOptions`.
pub mod options {
    pub const DIRECTORY_FILE: u32 = 0x0000_0001;
    pub const WRITE_THROUGH: u32 = 0x0000_0002;
    pub const SEQUENTIAL_ONLY: u32 = 0x0000_0004;
    pub const NO_INTERMEDIATE_BUFFERING: u32 = 0x0000_0008;
    pub const SYNCHRONOUS_IO_ALERT: u32 = 0x0000_0010;
    pub const SYNCHRONOUS_IO_NONALERT: u32 = 0x0000_0020;
    pub const NON_DIRECTORY_FILE: u32 = 0x0000_0040;
    pub const COMPLETE_IF_OPLOCKED: u32 = 0x0000_0100;
    pub const NO_EA_KNOWLEDGE: u32 = 0x0000_0200;
    pub const RANDOM_ACCESS: u32 = 0x0000_0800;
    pub const DELETE_ON_CLOSE: u32 = 0x0000_1000;
    pub const OPEN_BY_FILE_ID: u32 = 0x0000_2000;
    pub const OPEN_FOR_BACKUP_INTENT: u32 = 0x0000_4000;
    pub const NO_COMPRESSION: u32 = 0x0000_8000;
    pub const OPEN_REMOTE_INSTANCE: u32 = 0x0000_0400;
    pub const OPEN_REQUIRING_OPLOCK: u32 = 0x0001_0000;
    pub const DISALLOW_EXCLUSIVE: u32 = 0x0002_0000;
    pub const RESERVE_OPFILTER: u32 = 0x0010_0000;
    pub const OPEN_REPARSE_POINT: u32 = 0x0020_0000;
    pub const OPEN_NO_RECALL: u32 = 0x0040_0000;
    pub const OPEN_FOR_FREE_SPACE_QUERY: u32 = 0x0080_0000;
}

/// MS-SMB2 2.2.13 `ShareAccess`.
pub mod share_access {
    pub const READ: u32 = 0x0000_0001;
    pub const WRITE: u32 = 0x0000_0002;
    pub const DELETE: u32 = 0x0000_0004;
    pub const ALL: u32 = READ | WRITE | DELETE;
}

/// MS-SMB2 2.2.13 `ImpersonationLevel`: values above Delegate are invalid.
pub const IMPERSONATION_DELEGATE: u32 = 3;

/// MS-SMB2 2.2.14 `CreateAction`.
pub mod create_action {
    pub const SUPERSEDED: u32 = 0;
    pub const OPENED: u32 = 1;
    pub const CREATED: u32 = 2;
    pub const OVERWRITTEN: u32 = 3;
}

/// MS-SMB2 2.2.13.2 context names EdgeShare reads or writes.
pub mod context_name {
    pub const EA_BUFFER: &[u8; 4] = b"ExtA";
    pub const SD_BUFFER: &[u8; 4] = b"SecD";
    pub const DURABLE_HANDLE_REQUEST: &[u8; 4] = b"DHnQ";
    pub const DURABLE_HANDLE_RECONNECT: &[u8; 4] = b"DHnC";
    pub const ALLOCATION_SIZE: &[u8; 4] = b"AlSi";
    pub const QUERY_MAXIMAL_ACCESS: &[u8; 4] = b"MxAc";
    pub const TIMEWARP_TOKEN: &[u8; 4] = b"TWrp";
    pub const QUERY_ON_DISK_ID: &[u8; 4] = b"QFid";
    pub const REQUEST_LEASE: &[u8; 4] = b"RqLs";
    pub const DURABLE_HANDLE_REQUEST_V2: &[u8; 4] = b"DH2Q";
    pub const DURABLE_HANDLE_RECONNECT_V2: &[u8; 4] = b"DH2C";
    /// SMB2_CREATE_APP_INSTANCE_ID (2.2.13.2.13): a GUID as its name.
    pub const APP_INSTANCE_ID: &[u8; 16] = b"\x45\xBC\xA6\x6A\xEF\xA7\xF7\x4A\x90\x08\xFA\x46\x2E\x14\x4D\x74";
    /// SMB2_CREATE_APP_INSTANCE_VERSION (2.2.13.2.15).
    pub const APP_INSTANCE_VERSION: &[u8; 16] = b"\xB9\x82\xD0\xB7\x3B\x56\x07\x4F\xA0\x7B\x52\x4A\x81\x16\xA0\x10";
}

/// MS-SMB2 2.2.13.2 SMB2_CREATE_CONTEXT: a tagged blob. Unknown names are kept (and ignored by
/// the server, as MS-SMB2 3.3.5.9 asks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateContext {
    pub name: Vec<u8>,
    pub data: Vec<u8>,
}

impl CreateContext {
    pub fn new(name: &[u8], data: Vec<u8>) -> Self {
        CreateContext { name: name.to_vec(), data }
    }

    /// Decodes a chain of contexts (`bytes` is exactly the chain).
    pub fn decode_chain(bytes: &[u8]) -> Result<Vec<CreateContext>, DecodeError> {
        let mut contexts = Vec::new();
        let mut position = 0_usize;
        loop {
            let mut r = Reader::new(slice_at(bytes, position, 16, "SMB2_CREATE_CONTEXT")?);
            let next = r.u32("Next")? as usize;
            let name_offset = usize::from(r.u16("NameOffset")?);
            let name_length = usize::from(r.u16("NameLength")?);
            r.skip(2, "Reserved")?;
            let data_offset = usize::from(r.u16("DataOffset")?);
            let data_length = r.u32("DataLength")? as usize;
            let end = if next == 0 {
                bytes.len()
            } else {
                position
                    .checked_add(next)
                    .filter(|&e| e <= bytes.len())
                    .ok_or(DecodeError::invalid("SMB2_CREATE_CONTEXT", "Next points past the chain"))?
            };
            let context = &bytes[position..end];
            if name_length == 0 {
                return Err(DecodeError::invalid("SMB2_CREATE_CONTEXT", "empty name"));
            }
            let name = slice_at(context, name_offset, name_length, "create context Name")?.to_vec();
            let data = if data_length == 0 {
                Vec::new()
            } else {
                slice_at(context, data_offset, data_length, "create context Data")?.to_vec()
            };
            contexts.push(CreateContext { name, data });
            if next == 0 {
                return Ok(contexts);
            }
            if !next.is_multiple_of(8) {
                return Err(DecodeError::invalid("SMB2_CREATE_CONTEXT", "Next is not 8-byte aligned"));
            }
            position = end;
        }
    }

    /// Encodes a chain, each context 8-byte aligned.
    pub fn encode_chain(contexts: &[CreateContext]) -> Vec<u8> {
        let mut out = Writer::new();
        for (index, context) in contexts.iter().enumerate() {
            let start = out.len();
            let data_offset = if context.data.is_empty() { 0 } else { (16 + context.name.len()).next_multiple_of(8) };
            out.u32(0).u16(16).u16(context.name.len() as u16).u16(0).u16(data_offset as u16);
            out.u32(context.data.len() as u32).bytes(&context.name);
            if !context.data.is_empty() {
                out.align(8);
                out.bytes(&context.data);
            }
            if index + 1 < contexts.len() {
                out.align(8);
                let next = (out.len() - start) as u32;
                out.patch_u32(start, next);
            }
        }
        out.into_vec()
    }
}

/// MS-SMB2 2.2.13 SMB2 CREATE Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CreateRequest {
    pub security_flags: u8,
    pub requested_oplock_level: u8,
    pub impersonation_level: u32,
    pub smb_create_flags: u64,
    pub desired_access: u32,
    pub file_attributes: u32,
    pub share_access: u32,
    pub create_disposition: u32,
    pub create_options: u32,
    /// Path relative to the share root, `\`-separated; empty for the root.
    pub name: String,
    pub contexts: Vec<CreateContext>,
}

impl CreateRequest {
    pub const STRUCTURE_SIZE: u16 = 57;

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "CREATE request")?;
        let security_flags = r.u8("SecurityFlags")?;
        let requested_oplock_level = r.u8("RequestedOplockLevel")?;
        let impersonation_level = r.u32("ImpersonationLevel")?;
        let smb_create_flags = r.u64("SmbCreateFlags")?;
        r.skip(8, "Reserved")?;
        let desired_access = r.u32("DesiredAccess")?;
        let file_attributes = r.u32("FileAttributes")?;
        let share_access = r.u32("ShareAccess")?;
        let create_disposition = r.u32("CreateDisposition")?;
        let create_options = r.u32("CreateOptions")?;
        let name_offset = usize::from(r.u16("NameOffset")?);
        let name_length = usize::from(r.u16("NameLength")?);
        let contexts_offset = r.u32("CreateContextsOffset")? as usize;
        let contexts_length = r.u32("CreateContextsLength")? as usize;
        let name = if name_length == 0 {
            String::new()
        } else {
            utf16::decode(r.slice_at(name_offset, name_length, "Name")?, "Name")?
        };
        let contexts = if contexts_length == 0 {
            Vec::new()
        } else {
            CreateContext::decode_chain(r.slice_at(contexts_offset, contexts_length, "CreateContexts")?)?
        };
        Ok(CreateRequest {
            security_flags,
            requested_oplock_level,
            impersonation_level,
            smb_create_flags,
            desired_access,
            file_attributes,
            share_access,
            create_disposition,
            create_options,
            name,
            contexts,
        })
    }

    pub fn encode(&self, out: &mut Writer) {
        let name = utf16::encode(&self.name);
        let name_offset = out.len() + 56;
        out.u16(Self::STRUCTURE_SIZE).u8(self.security_flags).u8(self.requested_oplock_level);
        out.u32(self.impersonation_level).u64(self.smb_create_flags).u64(0);
        out.u32(self.desired_access).u32(self.file_attributes).u32(self.share_access);
        out.u32(self.create_disposition).u32(self.create_options);
        out.u16(name_offset as u16).u16(name.len() as u16);
        let contexts_at = out.len();
        out.u32(0).u32(0);
        out.bytes(&name);
        if self.contexts.is_empty() {
            if name.is_empty() {
                out.u8(0);
            }
        } else {
            out.align(8);
            let chain = CreateContext::encode_chain(&self.contexts);
            out.patch_u32(contexts_at, out.len() as u32);
            out.patch_u32(contexts_at + 4, chain.len() as u32);
            out.bytes(&chain);
        }
    }

    pub fn context(&self, name: &[u8]) -> Option<&CreateContext> {
        self.contexts.iter().find(|c| c.name == name)
    }
}

/// MS-SMB2 2.2.14 SMB2 CREATE Response.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CreateResponse {
    pub oplock_level: u8,
    pub flags: u8,
    pub create_action: u32,
    pub creation_time: u64,
    pub last_access_time: u64,
    pub last_write_time: u64,
    pub change_time: u64,
    pub allocation_size: u64,
    pub end_of_file: u64,
    pub file_attributes: u32,
    pub file_id: FileId,
    pub contexts: Vec<CreateContext>,
}

impl CreateResponse {
    pub const STRUCTURE_SIZE: u16 = 89;

    /// The response for an open of the file `meta` describes.
    pub fn of(
        meta: &super::fscc::FileMeta,
        oplock_level: u8,
        create_action: u32,
        file_id: FileId,
        contexts: Vec<CreateContext>,
    ) -> CreateResponse {
        CreateResponse {
            oplock_level,
            flags: 0,
            create_action,
            creation_time: meta.creation_time,
            last_access_time: meta.last_access_time,
            last_write_time: meta.last_write_time,
            change_time: meta.change_time,
            allocation_size: meta.allocation_size,
            end_of_file: meta.end_of_file,
            file_attributes: meta.attributes,
            file_id,
            contexts,
        }
    }

    pub fn encode(&self, out: &mut Writer) {
        out.u16(Self::STRUCTURE_SIZE).u8(self.oplock_level).u8(self.flags).u32(self.create_action);
        out.u64(self.creation_time).u64(self.last_access_time).u64(self.last_write_time).u64(self.change_time);
        out.u64(self.allocation_size).u64(self.end_of_file).u32(self.file_attributes).u32(0);
        self.file_id.write(out);
        let contexts_at = out.len();
        out.u32(0).u32(0);
        if self.contexts.is_empty() {
            out.u8(0);
        } else {
            out.align(8);
            let chain = CreateContext::encode_chain(&self.contexts);
            out.patch_u32(contexts_at, out.len() as u32);
            out.patch_u32(contexts_at + 4, chain.len() as u32);
            out.bytes(&chain);
        }
    }

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "CREATE response")?;
        let oplock_level = r.u8("OplockLevel")?;
        let flags = r.u8("Flags")?;
        let create_action = r.u32("CreateAction")?;
        let creation_time = r.u64("CreationTime")?;
        let last_access_time = r.u64("LastAccessTime")?;
        let last_write_time = r.u64("LastWriteTime")?;
        let change_time = r.u64("ChangeTime")?;
        let allocation_size = r.u64("AllocationSize")?;
        let end_of_file = r.u64("EndofFile")?;
        let file_attributes = r.u32("FileAttributes")?;
        r.skip(4, "Reserved2")?;
        let file_id = FileId::read(&mut r, "FileId")?;
        let offset = r.u32("CreateContextsOffset")? as usize;
        let length = r.u32("CreateContextsLength")? as usize;
        let contexts = if length == 0 {
            Vec::new()
        } else {
            CreateContext::decode_chain(r.slice_at(offset, length, "CreateContexts")?)?
        };
        Ok(CreateResponse {
            oplock_level,
            flags,
            create_action,
            creation_time,
            last_access_time,
            last_write_time,
            change_time,
            allocation_size,
            end_of_file,
            file_attributes,
            file_id,
            contexts,
        })
    }
}

/// MS-SMB2 2.2.14.2.5 SMB2_CREATE_QUERY_MAXIMAL_ACCESS_RESPONSE.
pub fn maximal_access_response(query_status: u32, maximal_access: u32) -> CreateContext {
    let mut data = Writer::new();
    data.u32(query_status).u32(maximal_access);
    CreateContext::new(context_name::QUERY_MAXIMAL_ACCESS, data.into_vec())
}

/// MS-SMB2 2.2.14.2.9 SMB2_CREATE_QUERY_ON_DISK_ID response: file and volume ids, 16 reserved bytes.
pub fn on_disk_id_response(file_id: u64, volume_id: u64) -> CreateContext {
    let mut data = Writer::new();
    data.u64(file_id).u64(volume_id).zeros(16);
    CreateContext::new(context_name::QUERY_ON_DISK_ID, data.into_vec())
}

/// MS-SMB2 2.2.13.2.8 SMB2_CREATE_REQUEST_LEASE (32 bytes) and 2.2.13.2.10
/// SMB2_CREATE_REQUEST_LEASE_V2 (52 bytes); the responses (2.2.14.2.10 and 2.2.14.2.11) have
/// the same layouts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseContext {
    pub key: [u8; 16],
    pub state: u32,
    pub flags: u32,
    /// Version 2 only: the parent directory's lease key (when the flag says it is set).
    pub parent_key: Option<[u8; 16]>,
    pub epoch: u16,
    pub v2: bool,
}

/// MS-SMB2 2.2.13.2.10 / 2.2.14.2.11 LeaseFlags.
pub mod lease_flags {
    pub const BREAK_IN_PROGRESS: u32 = 0x0000_0002;
    pub const PARENT_LEASE_KEY_SET: u32 = 0x0000_0004;
}

impl LeaseContext {
    pub const V1_SIZE: usize = 32;
    pub const V2_SIZE: usize = 52;

    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let key = r.array("LeaseKey")?;
        let state = r.u32("LeaseState")?;
        let flags = r.u32("LeaseFlags")?;
        r.skip(8, "LeaseDuration")?;
        if data.len() < Self::V2_SIZE {
            return Ok(LeaseContext { key, state, flags, parent_key: None, epoch: 0, v2: false });
        }
        let parent: [u8; 16] = r.array("ParentLeaseKey")?;
        let epoch = r.u16("Epoch")?;
        let parent_key = (flags & lease_flags::PARENT_LEASE_KEY_SET != 0).then_some(parent);
        Ok(LeaseContext { key, state, flags, parent_key, epoch, v2: true })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Writer::new();
        out.bytes(&self.key).u32(self.state).u32(self.flags).u64(0);
        if self.v2 {
            out.bytes(&self.parent_key.unwrap_or_default()).u16(self.epoch).u16(0);
        }
        out.into_vec()
    }
}

/// MS-SMB2 2.2.13.2.11 DH2Q `Flags` / 2.2.14.2.12 response `Flags`.
pub const DURABLE_PERSISTENT: u32 = 0x0000_0002;

/// The durable handle contexts of a CREATE request (MS-SMB2 2.2.13.2.3, 2.2.13.2.4, 2.2.13.2.11,
/// 2.2.13.2.12), as one value: a request carries at most one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurableContext {
    /// DHnQ: 16 reserved bytes.
    Request,
    /// DHnC: the FileId of the open to reclaim.
    Reconnect { file_id: FileId },
    /// DH2Q: Timeout (milliseconds, 0 for the server's choice), Flags, 8 reserved bytes, CreateGuid.
    RequestV2 { timeout_ms: u32, flags: u32, create_guid: [u8; 16] },
    /// DH2C: FileId, CreateGuid, Flags.
    ReconnectV2 { file_id: FileId, create_guid: [u8; 16], flags: u32 },
}

impl DurableContext {
    /// The durable context of a request, if any. Two of them, or one of the wrong size, is
    /// STATUS_INVALID_PARAMETER (MS-SMB2 3.3.5.9: as Windows and Samba check).
    pub fn of(request: &CreateRequest) -> Result<Option<DurableContext>, DecodeError> {
        let mut found = None;
        for context in &request.contexts {
            let decoded = match context.name.as_slice() {
                name if name == context_name::DURABLE_HANDLE_REQUEST => {
                    expect_len(&context.data, 16, "SMB2_CREATE_DURABLE_HANDLE_REQUEST")?;
                    DurableContext::Request
                }
                name if name == context_name::DURABLE_HANDLE_RECONNECT => {
                    expect_len(&context.data, 16, "SMB2_CREATE_DURABLE_HANDLE_RECONNECT")?;
                    let mut r = Reader::new(&context.data);
                    DurableContext::Reconnect { file_id: FileId::read(&mut r, "Data.FileId")? }
                }
                name if name == context_name::DURABLE_HANDLE_REQUEST_V2 => {
                    expect_len(&context.data, 32, "SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2")?;
                    let mut r = Reader::new(&context.data);
                    let timeout_ms = r.u32("Timeout")?;
                    let flags = r.u32("Flags")?;
                    r.skip(8, "Reserved")?;
                    DurableContext::RequestV2 { timeout_ms, flags, create_guid: r.array("CreateGuid")? }
                }
                name if name == context_name::DURABLE_HANDLE_RECONNECT_V2 => {
                    expect_len(&context.data, 36, "SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2")?;
                    let mut r = Reader::new(&context.data);
                    let file_id = FileId::read(&mut r, "FileId")?;
                    let create_guid = r.array("CreateGuid")?;
                    DurableContext::ReconnectV2 { file_id, create_guid, flags: r.u32("Flags")? }
                }
                _ => continue,
            };
            found = match (found, decoded) {
                (None, decoded) => Some(decoded),
                // A reconnect ignores a DHnQ next to its DHnC (MS-SMB2 3.3.5.9.7).
                (Some(reconnect @ DurableContext::Reconnect { .. }), DurableContext::Request)
                | (Some(DurableContext::Request), reconnect @ DurableContext::Reconnect { .. }) => Some(reconnect),
                _ => return Err(DecodeError::invalid("CREATE", "more than one durable handle context")),
            };
        }
        Ok(found)
    }

    pub fn encode(&self) -> CreateContext {
        let mut out = Writer::new();
        let name = match *self {
            DurableContext::Request => {
                out.zeros(16);
                context_name::DURABLE_HANDLE_REQUEST
            }
            DurableContext::Reconnect { file_id } => {
                file_id.write(&mut out);
                context_name::DURABLE_HANDLE_RECONNECT
            }
            DurableContext::RequestV2 { timeout_ms, flags, create_guid } => {
                out.u32(timeout_ms).u32(flags).zeros(8).bytes(&create_guid);
                context_name::DURABLE_HANDLE_REQUEST_V2
            }
            DurableContext::ReconnectV2 { file_id, create_guid, flags } => {
                file_id.write(&mut out);
                out.bytes(&create_guid).u32(flags);
                context_name::DURABLE_HANDLE_RECONNECT_V2
            }
        };
        CreateContext::new(name, out.into_vec())
    }
}

fn expect_len(data: &[u8], length: usize, what: &'static str) -> Result<(), DecodeError> {
    if data.len() == length { Ok(()) } else { Err(DecodeError::invalid(what, "wrong size")) }
}

/// MS-SMB2 2.2.14.2.3 SMB2_CREATE_DURABLE_HANDLE_RESPONSE: 8 reserved bytes.
pub fn durable_response() -> CreateContext {
    CreateContext::new(context_name::DURABLE_HANDLE_REQUEST, vec![0; 8])
}

/// MS-SMB2 2.2.14.2.12 SMB2_CREATE_DURABLE_HANDLE_RESPONSE_V2: Timeout (ms) and Flags.
pub fn durable_response_v2(timeout_ms: u32, flags: u32) -> CreateContext {
    let mut data = Writer::new();
    data.u32(timeout_ms).u32(flags);
    CreateContext::new(context_name::DURABLE_HANDLE_REQUEST_V2, data.into_vec())
}

/// MS-SMB2 2.2.13.2.13 SMB2_CREATE_APP_INSTANCE_ID: StructureSize (20), Reserved, AppInstanceId.
pub fn app_instance_id(request: &CreateRequest) -> Result<Option<[u8; 16]>, DecodeError> {
    let Some(context) = request.context(context_name::APP_INSTANCE_ID) else { return Ok(None) };
    let mut r = Reader::new(&context.data);
    if r.u16("StructureSize")? != 20 {
        return Err(DecodeError::invalid("SMB2_CREATE_APP_INSTANCE_ID", "StructureSize is not 20"));
    }
    r.skip(2, "Reserved")?;
    Ok(Some(r.array("AppInstanceId")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn create_request_golden_bytes_round_trip() {
        let request = CreateRequest {
            impersonation_level: 2,
            desired_access: 0x0012_0089,
            file_attributes: 0,
            share_access: share_access::READ | share_access::WRITE,
            create_disposition: disposition::OPEN,
            create_options: options::NON_DIRECTORY_FILE,
            name: "a".into(),
            ..Default::default()
        };
        let bytes = message(Command::CREATE, |out| request.encode(out));
        assert_eq!(
            body_hex(&bytes),
            "390000000200000000000000000000000000000000000000890012000000000003000000010000004000000078000200000000000000000061 00"
                .replace(' ', "")
        );
        assert_eq!(CreateRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn contexts_round_trip_aligned_and_unknown_ones_survive() {
        let request = CreateRequest {
            name: "dir\\file.txt".into(),
            contexts: vec![
                CreateContext::new(context_name::QUERY_MAXIMAL_ACCESS, Vec::new()),
                CreateContext::new(context_name::QUERY_ON_DISK_ID, Vec::new()),
                CreateContext::new(b"\x93\xad\x25\x50\x9c\xb4\x11\xe7\xb4\x23\x83\xde\x96\x8b\xcd\x7c", vec![1, 2, 3]),
                CreateContext::new(context_name::ALLOCATION_SIZE, 4096u64.to_le_bytes().to_vec()),
            ],
            ..Default::default()
        };
        let bytes = message(Command::CREATE, |out| request.encode(out));
        let decoded = CreateRequest::decode(&bytes).unwrap();
        assert_eq!(decoded, request);
        assert!(decoded.context(context_name::QUERY_MAXIMAL_ACCESS).is_some());
    }

    #[test]
    fn lease_contexts_of_both_versions_round_trip() {
        let v1 = LeaseContext { key: [3; 16], state: 7, ..Default::default() };
        assert_eq!(v1.encode().len(), LeaseContext::V1_SIZE);
        assert_eq!(LeaseContext::decode(&v1.encode()).unwrap(), v1);
        let v2 = LeaseContext {
            key: [4; 16],
            state: 3,
            flags: lease_flags::PARENT_LEASE_KEY_SET,
            parent_key: Some([5; 16]),
            epoch: 9,
            v2: true,
        };
        assert_eq!(v2.encode().len(), LeaseContext::V2_SIZE);
        assert_eq!(LeaseContext::decode(&v2.encode()).unwrap(), v2);
        assert!(LeaseContext::decode(&[0; 20]).is_err(), "too short for either version");
    }

    #[test]
    fn a_context_chain_pointing_outside_itself_is_refused() {
        let chain = CreateContext::encode_chain(&[
            CreateContext::new(b"MxAc", Vec::new()),
            CreateContext::new(b"QFid", Vec::new()),
        ]);
        let mut broken = chain.clone();
        broken[0] = 0xF8;
        assert!(CreateContext::decode_chain(&broken).is_err());
        let mut unaligned = chain;
        unaligned[0] = 17;
        assert!(CreateContext::decode_chain(&unaligned).is_err());
    }

    #[test]
    fn durable_contexts_round_trip_and_two_at_once_are_refused() {
        let file_id = FileId { persistent: 7, volatile: 8 };
        for context in [
            DurableContext::Request,
            DurableContext::Reconnect { file_id },
            DurableContext::RequestV2 { timeout_ms: 60_000, flags: DURABLE_PERSISTENT, create_guid: [9; 16] },
            DurableContext::ReconnectV2 { file_id, create_guid: [9; 16], flags: 0 },
        ] {
            let request = CreateRequest { contexts: vec![context.encode()], ..Default::default() };
            assert_eq!(DurableContext::of(&request).unwrap(), Some(context));
        }
        let both = CreateRequest {
            contexts: vec![
                DurableContext::Request.encode(),
                DurableContext::RequestV2 { timeout_ms: 0, flags: 0, create_guid: [1; 16] }.encode(),
            ],
            ..Default::default()
        };
        assert!(DurableContext::of(&both).is_err());
        let reconnect = DurableContext::Reconnect { file_id };
        let with_request = CreateRequest {
            contexts: vec![DurableContext::Request.encode(), reconnect.encode()],
            ..Default::default()
        };
        assert_eq!(DurableContext::of(&with_request).unwrap(), Some(reconnect), "DHnC ignores a DHnQ beside it");
        let short = CreateRequest {
            contexts: vec![CreateContext::new(context_name::DURABLE_HANDLE_REQUEST, vec![0; 8])],
            ..Default::default()
        };
        assert!(DurableContext::of(&short).is_err());
    }

    #[test]
    fn create_response_round_trips_with_contexts() {
        let response = CreateResponse {
            create_action: create_action::CREATED,
            end_of_file: 12,
            file_attributes: 0x20,
            file_id: FileId { persistent: 4, volatile: 5 },
            contexts: vec![maximal_access_response(0, 0x001f_01ff), on_disk_id_response(77, 1)],
            ..Default::default()
        };
        let bytes = message(Command::CREATE, |out| response.encode(out));
        assert_eq!(CreateResponse::decode(&bytes).unwrap(), response);
    }
}
