//! IOCTL (MS-SMB2 3.3.5.15): the FSCTLs clients use — negotiate validation, pipe transceive and
//! wait, DFS referrals (none), snapshots (none), server-side copy, sparse files, object ids.

use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::access;
use crate::engine::handlers::{check_charge, open_of, share_of};
use crate::engine::ids::SessionId;
use crate::engine::notify::Change;
use crate::engine::session::{OpenKind, TreeKind};
use crate::engine::shared::lock;
use crate::proto::change_notify::{action, filter};
use crate::proto::fscc::attributes;
use crate::proto::ioctl::{
    CopyChunkCopy, CopyChunkResponse, DEFAULT_LINK_SPEED, IOCTL_IS_FSCTL, IoctlRequest, IoctlResponse,
    NetworkInterfaceInfo, PipeWaitRequest, ValidateNegotiateInfoRequest, ValidateNegotiateInfoResponse, ctl_code,
    encode_empty_snapshot_array, encode_resume_key,
};
use crate::proto::{FileId, NtStatus, Reader, Writer};
use crate::vfs::local::{self, status_of};

/// Server-side copy limits (MS-SMB2 3.3.3: ServerSideCopyMaxNumberofChunks, ...MaxChunkSize,
/// ...MaxDataSize), as Windows sets them.
const MAX_CHUNKS: u32 = 256;
const MAX_CHUNK_SIZE: u32 = 1 << 20;
const MAX_COPY: u32 = 16 << 20;

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = IoctlRequest::decode(req.message)?;
    check_charge(conn, req, request.input.len().max(request.max_output_response as usize))?;
    if request.flags != IOCTL_IS_FSCTL {
        return Err(NtStatus::NOT_SUPPORTED.into());
    }
    let file_id = req.file_id.unwrap_or_default();
    let (status, output) = match request.ctl_code {
        ctl_code::FSCTL_VALIDATE_NEGOTIATE_INFO => validate_negotiate(conn, req, &request)?,
        ctl_code::FSCTL_DFS_GET_REFERRALS | ctl_code::FSCTL_DFS_GET_REFERRALS_EX => {
            return Err(NtStatus::FS_DRIVER_REQUIRED.into());
        }
        ctl_code::FSCTL_PIPE_WAIT => pipe_wait(conn, req, &request)?,
        ctl_code::FSCTL_PIPE_TRANSCEIVE => transceive(conn, req, &request)?,
        ctl_code::FSCTL_QUERY_NETWORK_INTERFACE_INFO => {
            // A server-wide query: its FileId must be the all-ones sentinel (MS-SMB2 2.2.31).
            if request.file_id != FileId::RELATED {
                return Err(NtStatus::INVALID_PARAMETER.into());
            }
            (NtStatus::SUCCESS, network_interfaces(conn))
        }
        ctl_code::FSCTL_SRV_ENUMERATE_SNAPSHOTS => {
            open_of(conn, req)?;
            if request.max_output_response < 16 {
                return Err(NtStatus::INVALID_PARAMETER.into());
            }
            (NtStatus::SUCCESS, encode_empty_snapshot_array())
        }
        ctl_code::FSCTL_SRV_REQUEST_RESUME_KEY => {
            let open = open_of(conn, req)?;
            if !matches!(open.kind, OpenKind::File(_)) {
                return Err(NtStatus::INVALID_PARAMETER.into());
            }
            if request.max_output_response < 32 {
                return Err(NtStatus::INVALID_PARAMETER.into());
            }
            (NtStatus::SUCCESS, encode_resume_key(&resume_key(req.session_id(), open.file_id.volatile)))
        }
        ctl_code::FSCTL_SRV_COPYCHUNK | ctl_code::FSCTL_SRV_COPYCHUNK_WRITE => copychunk(conn, req, &request)?,
        ctl_code::FSCTL_SET_SPARSE => set_sparse(conn, req, &request)?,
        ctl_code::FSCTL_SET_ZERO_DATA => zero_data(conn, req, &request)?,
        ctl_code::FSCTL_QUERY_ALLOCATED_RANGES => allocated_ranges(conn, req, &request)?,
        ctl_code::FSCTL_GET_COMPRESSION => {
            open_of(conn, req)?;
            (NtStatus::SUCCESS, 0_u16.to_le_bytes().to_vec())
        }
        ctl_code::FSCTL_SET_COMPRESSION => {
            open_of(conn, req)?;
            let format = Reader::new(request.input).u16("CompressionState").map_err(|_| NtStatus::INVALID_PARAMETER)?;
            if format != 0 {
                return Err(NtStatus::NOT_SUPPORTED.into());
            }
            (NtStatus::SUCCESS, Vec::new())
        }
        ctl_code::FSCTL_CREATE_OR_GET_OBJECT_ID => {
            let open = open_of(conn, req)?;
            let meta = local::meta_of(open.file().ok_or(NtStatus::INVALID_PARAMETER)?.as_fd())?;
            // MS-FSCC 2.3.8 FILE_OBJECTID_BUFFER: the object id derived from the file id.
            let mut buffer = Writer::new();
            buffer.u64(meta.file_id).u64(0).zeros(48);
            (NtStatus::SUCCESS, buffer.into_vec())
        }
        ctl_code::FSCTL_GET_REPARSE_POINT => return Err(NtStatus::NOT_A_REPARSE_POINT.into()),
        _ => return Err(NtStatus::INVALID_DEVICE_REQUEST.into()),
    };
    if output.len() > request.max_output_response as usize && status == NtStatus::SUCCESS {
        return Err(NtStatus::BUFFER_TOO_SMALL.into());
    }
    IoctlResponse { ctl_code: request.ctl_code, file_id, output }.encode(out);
    Outcome::status(status)
}

/// MS-SMB2 3.3.5.15.12: the client re-states what it negotiated; any difference (a downgrade
/// attack) ends the connection.
fn validate_negotiate(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &IoctlRequest<'_>,
) -> Result<(NtStatus, Vec<u8>), NtStatus> {
    let negotiated = conn.negotiated.as_ref().ok_or(NtStatus::INVALID_PARAMETER)?;
    if !req.header.is_signed() && !req.encrypted {
        conn.close = true;
        return Err(NtStatus::ACCESS_DENIED);
    }
    let Ok(validate) = ValidateNegotiateInfoRequest::decode(request.input) else {
        conn.close = true;
        return Err(NtStatus::INVALID_PARAMETER);
    };
    let matches = validate.capabilities == negotiated.client_capabilities
        && validate.guid == negotiated.client_guid
        && validate.security_mode == negotiated.client_security_mode
        && validate.dialects == negotiated.client_dialects;
    if !matches {
        tracing::warn!(connection = %conn.info.id, client = %conn.info.client, "validate negotiate info mismatch: dropping the connection");
        conn.close = true;
        return Err(NtStatus::ACCESS_DENIED);
    }
    if request.max_output_response < 24 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let settings = conn.shared.runtime().config.server.clone();
    Ok((
        NtStatus::SUCCESS,
        ValidateNegotiateInfoResponse {
            capabilities: negotiated.server_capabilities,
            guid: settings.server_guid,
            security_mode: negotiated.server_security_mode,
            dialect: negotiated.dialect,
        }
        .encode(),
    ))
}

fn pipe_wait(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &IoctlRequest<'_>,
) -> Result<(NtStatus, Vec<u8>), NtStatus> {
    let tree = conn.sessions[&req.session_id()].trees.get(&req.tree_id()).ok_or(NtStatus::NETWORK_NAME_DELETED)?;
    if !matches!(tree.kind, TreeKind::Ipc) {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    let wait = PipeWaitRequest::decode(request.input).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    if crate::rpc::Pipe::open(&wait.name).is_none() {
        return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
    }
    Ok((NtStatus::SUCCESS, Vec::new()))
}

fn transceive(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &IoctlRequest<'_>,
) -> Result<(NtStatus, Vec<u8>), NtStatus> {
    let identity = conn.sessions[&req.session_id()].identity().cloned().unwrap_or_default();
    let shared = conn.shared.clone();
    let open = open_of(conn, req)?;
    let OpenKind::Pipe(pipe) = &mut open.kind else { return Err(NtStatus::INVALID_DEVICE_REQUEST) };
    pipe.write(request.input, &crate::rpc::Context::new(&shared, &identity));
    let output = pipe.read(request.max_output_response as usize);
    let status = if pipe.pending_output() > 0 { NtStatus::BUFFER_OVERFLOW } else { NtStatus::SUCCESS };
    Ok((status, output))
}

/// MS-SMB2 2.2.32.5 NETWORK_INTERFACE_INFO: the address this connection reached the server on
/// (multichannel is not offered, so there is nothing else to spread over).
/// The server's addresses a client may open more channels to (MS-SMB2 3.3.5.15.11): those of
/// the host's interfaces the server last read, loopback ones only to a client that came over
/// loopback; the address this connection reached always among them.
fn network_interfaces(conn: &Connection) -> Vec<u8> {
    let local = conn.info.local.ip();
    let known = conn.shared.network_interfaces();
    let mut interfaces: Vec<NetworkInterfaceInfo> =
        known.iter().filter(|i| i.address.is_loopback() == local.is_loopback()).cloned().collect();
    if !interfaces.iter().any(|i| i.address == local) {
        // An address the list does not have (not read yet, or added since): reported as the
        // interface of the first address of its family, or on its own.
        let like = known
            .iter()
            .find(|i| i.address.is_ipv4() == local.is_ipv4() && i.address.is_loopback() == local.is_loopback());
        interfaces.push(NetworkInterfaceInfo {
            if_index: like.map_or(1, |i| i.if_index),
            rss_capable: like.is_some_and(|i| i.rss_capable),
            link_speed: like.map_or(DEFAULT_LINK_SPEED, |i| i.link_speed),
            address: local,
        });
    }
    let mut out = Writer::new();
    NetworkInterfaceInfo::encode_all(&interfaces, &mut out);
    out.into_vec()
}

/// A resume key names an open of this connection: session, open, and a fixed tag.
fn resume_key(session_id: SessionId, volatile: u64) -> [u8; 24] {
    let mut key = [0_u8; 24];
    key[..8].copy_from_slice(&session_id.0.to_le_bytes());
    key[8..16].copy_from_slice(&volatile.to_le_bytes());
    key[16..].copy_from_slice(b"EdgeShr\0");
    key
}

/// MS-SMB2 3.3.5.15.6: copies ranges from the open the resume key names into this open.
fn copychunk(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &IoctlRequest<'_>,
) -> Result<(NtStatus, Vec<u8>), Error> {
    if request.max_output_response < 12 {
        return Err(NtStatus::INVALID_PARAMETER.into());
    }
    let copy = CopyChunkCopy::decode(request.input).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    let limits = CopyChunkResponse {
        chunks_written: MAX_CHUNKS,
        chunk_bytes_written: MAX_CHUNK_SIZE,
        total_bytes_written: MAX_COPY,
    };
    let total: u64 = copy.chunks.iter().map(|c| u64::from(c.length)).sum();
    if copy.chunks.len() as u32 > MAX_CHUNKS
        || copy.chunks.iter().any(|c| c.length > MAX_CHUNK_SIZE || c.length == 0)
        || total > u64::from(MAX_COPY)
    {
        // MS-SMB2 3.3.5.15.6: the error carries the server's limits in a normal response body.
        return Ok((NtStatus::INVALID_PARAMETER, limits.encode()));
    }
    let session_id = SessionId(u64::from_le_bytes(copy.source_key[..8].try_into().expect("8")));
    let source_volatile = u64::from_le_bytes(copy.source_key[8..16].try_into().expect("8"));
    if copy.source_key[16..] != *b"EdgeShr\0" || session_id != req.session_id() {
        return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into());
    }
    let target = open_of(conn, req)?;
    if !matches!(target.kind, OpenKind::File(_)) {
        return Err(NtStatus::INVALID_PARAMETER.into());
    }
    if target.granted_access & access::FILE_WRITE_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED.into());
    }
    if request.ctl_code == ctl_code::FSCTL_SRV_COPYCHUNK && target.granted_access & access::FILE_READ_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED.into());
    }
    let target_key = target.key.ok_or(NtStatus::INVALID_HANDLE)?;
    let target_file = target.file().expect("a file").try_clone().map_err(|e| status_of(&e))?;
    let target_path = target.path.clone();
    let session = conn.sessions.get(&req.session_id()).ok_or(NtStatus::USER_SESSION_DELETED)?;
    let source = session.opens.get(&source_volatile).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    if source.granted_access & (access::FILE_READ_DATA | access::FILE_EXECUTE) == 0 {
        return Err(NtStatus::ACCESS_DENIED.into());
    }
    let OpenKind::File(source_file) = &source.kind else { return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into()) };
    let source_key = source.key.ok_or(NtStatus::INVALID_HANDLE)?;
    let source_owner = conn.open_ref(req.session_id(), source_volatile);
    let target_owner = conn.open_ref(req.session_id(), req.file_id.expect("file").volatile);
    let mut written = CopyChunkResponse::default();
    let mut buffer = Vec::new();
    for chunk in &copy.chunks {
        {
            let files = lock(&conn.shared.files);
            if files.io_conflicts(&source_key, source_owner, chunk.source_offset, u64::from(chunk.length), false)
                || files.io_conflicts(&target_key, target_owner, chunk.target_offset, u64::from(chunk.length), true)
            {
                // A failed copy still reports what it copied (MS-SMB2 3.3.5.15.6).
                return Ok((NtStatus::FILE_LOCK_CONFLICT, written.encode()));
            }
        }
        buffer.resize(chunk.length as usize, 0);
        let read = source_file.read_at(&mut buffer, chunk.source_offset).map_err(|e| status_of(&e))?;
        if read < chunk.length as usize {
            // Copying beyond the source's end is an error (MS-SMB2 3.3.5.15.6).
            return Ok((NtStatus::INVALID_VIEW_SIZE, written.encode()));
        }
        target_file.write_all_at(&buffer, chunk.target_offset).map_err(|e| status_of(&e))?;
        written.chunks_written += 1;
        written.total_bytes_written += chunk.length;
    }
    written.chunk_bytes_written = 0;
    if written.chunks_written > 0 {
        crate::engine::handlers::break_readers(&conn.shared, &target_key, target_owner, conn.now);
    }
    if let Some(share) = share_of(conn, req) {
        conn.shared.changed(Change {
            share: &share.config.name,
            path: &target_path,
            action: action::MODIFIED,
            filter: filter::SIZE | filter::LAST_WRITE,
        });
    }
    Ok((NtStatus::SUCCESS, written.encode()))
}

fn set_sparse(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &IoctlRequest<'_>,
) -> Result<(NtStatus, Vec<u8>), NtStatus> {
    let open = open_of(conn, req)?;
    if open.granted_access & (access::FILE_WRITE_DATA | access::FILE_WRITE_ATTRIBUTES | access::FILE_APPEND_DATA) == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let OpenKind::File(file) = &open.kind else { return Err(NtStatus::INVALID_PARAMETER) };
    let sparse = request.input.first().is_none_or(|b| *b != 0);
    let meta = local::meta_of(file.as_fd())?;
    let attributes =
        if sparse { meta.attributes | attributes::SPARSE_FILE } else { meta.attributes & !attributes::SPARSE_FILE };
    local::write_dos(file.as_fd(), attributes, meta.creation_time).map_err(|e| status_of(&e))?;
    Ok((NtStatus::SUCCESS, Vec::new()))
}

/// MS-FSCC 2.3.67 FSCTL_SET_ZERO_DATA: the range reads back as zeros (a hole where possible).
fn zero_data(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &IoctlRequest<'_>,
) -> Result<(NtStatus, Vec<u8>), NtStatus> {
    let mut reader = Reader::new(request.input);
    let (start, end) = (
        reader.u64("FileOffset").map_err(|_| NtStatus::INVALID_PARAMETER)?,
        reader.u64("BeyondFinalZero").map_err(|_| NtStatus::INVALID_PARAMETER)?,
    );
    if start > end || end > i64::MAX as u64 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let owner = conn.open_ref(req.session_id(), req.file_id.ok_or(NtStatus::INVALID_HANDLE)?.volatile);
    let shared = conn.shared.clone();
    let open = open_of(conn, req)?;
    if open.granted_access & access::FILE_WRITE_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let OpenKind::File(file) = &open.kind else { return Err(NtStatus::INVALID_PARAMETER) };
    let key = open.key.ok_or(NtStatus::INVALID_HANDLE)?;
    // Zeroing is writing: another open's byte-range lock on the range stops it (MS-FSA 2.1.5.9.27).
    if end > start && lock(&shared.files).io_conflicts(&key, owner, start, end - start, true) {
        return Err(NtStatus::FILE_LOCK_CONFLICT);
    }
    let size = file.metadata().map_err(|e| status_of(&e))?.len();
    let end = end.min(size);
    if end > start {
        rustix::fs::fallocate(
            file,
            rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE,
            start,
            end - start,
        )
        .or_else(|_| file.write_all_at(&vec![0; (end - start) as usize], start).map_err(|_| rustix::io::Errno::IO))
        .map_err(|_| NtStatus::IO_DEVICE_ERROR)?;
        crate::engine::handlers::break_readers(&shared, &key, owner, conn.now);
    }
    Ok((NtStatus::SUCCESS, Vec::new()))
}

/// MS-FSCC 2.3.51 FSCTL_QUERY_ALLOCATED_RANGES: the data ranges in the asked range.
fn allocated_ranges(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &IoctlRequest<'_>,
) -> Result<(NtStatus, Vec<u8>), NtStatus> {
    let mut reader = Reader::new(request.input);
    let offset = reader.u64("FileOffset").map_err(|_| NtStatus::INVALID_PARAMETER)?;
    let length = reader.u64("Length").map_err(|_| NtStatus::INVALID_PARAMETER)?;
    if offset > i64::MAX as u64
        || length > i64::MAX as u64
        || offset.checked_add(length).is_none_or(|e| e > i64::MAX as u64)
    {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let open = open_of(conn, req)?;
    if open.granted_access & access::FILE_READ_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let OpenKind::File(file) = &open.kind else { return Err(NtStatus::INVALID_PARAMETER) };
    let size = file.metadata().map_err(|e| status_of(&e))?.len();
    let end = offset.saturating_add(length).min(size);
    let mut ranges = Writer::new();
    let sparse = local::meta_of(file.as_fd())?.attributes & attributes::SPARSE_FILE != 0;
    if !sparse && end > offset {
        // A file that is not sparse is allocated throughout.
        ranges.u64(offset).u64(end - offset);
    }
    let mut position = if sparse { offset } else { end };
    while position < end {
        let Ok(data) = rustix::fs::seek(file, rustix::fs::SeekFrom::Data(position)) else { break };
        if data >= end {
            break;
        }
        let hole = rustix::fs::seek(file, rustix::fs::SeekFrom::Hole(data)).unwrap_or(size).min(end);
        ranges.u64(data).u64(hole - data);
        position = hole;
    }
    let output = ranges.into_vec();
    if output.len() > request.max_output_response as usize {
        let fits = (request.max_output_response as usize / 16) * 16;
        if fits == 0 {
            return Err(NtStatus::BUFFER_TOO_SMALL);
        }
        return Ok((NtStatus::BUFFER_OVERFLOW, output[..fits].to_vec()));
    }
    Ok((NtStatus::SUCCESS, output))
}
