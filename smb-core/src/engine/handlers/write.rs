//! WRITE (MS-SMB2 3.3.5.13): file data at an offset (or appended); pipe data on IPC$.

use std::os::unix::fs::FileExt;

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::access;
use crate::engine::handlers::{check_charge, open_of, share_of};
use crate::engine::notify::Change;
use crate::engine::session::OpenKind;
use crate::engine::shared::{Counter, lock};
use crate::proto::change_notify::{action, filter};
use crate::proto::write::{WriteRequest, WriteResponse, write_flags};
use crate::proto::{NtStatus, Writer};
use crate::vfs::local::status_of;

/// The largest file size NTFS allows (16 TiB less 64 KiB).
const MAX_FILE_SIZE: u64 = 0x0000_0FFF_FFFF_0000;

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = WriteRequest::decode(req.message)?;
    check_charge(conn, req, request.data.len())?;
    let owner = conn.open_ref(req.session_id(), req.file_id.map_or(0, |f| f.volatile));
    let shared = conn.shared.clone();
    let share = share_of(conn, req);
    // Only a named pipe's RPC server needs the whole identity (its groups decide which shares
    // srvsvc lists).
    let identity = match open_of(conn, req)?.kind {
        OpenKind::Pipe(_) => conn.sessions.get(&req.session_id()).and_then(|s| s.identity().cloned()),
        _ => None,
    }
    .unwrap_or_default();
    let open = open_of(conn, req)?;
    let writes = open.granted_access & access::FILE_WRITE_DATA != 0;
    let appends = open.granted_access & access::FILE_APPEND_DATA != 0;
    if !writes && !appends {
        return Err(NtStatus::ACCESS_DENIED.into());
    }
    let path = open.path.clone();
    let file = match &mut open.kind {
        OpenKind::File(file) => file,
        OpenKind::Directory { .. } => return Err(NtStatus::INVALID_DEVICE_REQUEST.into()),
        OpenKind::Pipe(pipe) => {
            pipe.write(request.data, &crate::rpc::Context::new(&shared, &identity));
            WriteResponse { count: request.data.len() as u32 }.encode(out);
            return Outcome::ok();
        }
    };
    // MS-FSA 2.1.5.3: offsets are signed, and no file grows past NTFS's largest size. SMB2
    // writes go where they are asked, even on an append-only open.
    let length = request.data.len() as u64;
    let offset = request.offset;
    if offset > i64::MAX as u64 || (length > 0 && offset.checked_add(length).is_none_or(|end| end > MAX_FILE_SIZE)) {
        return Err(NtStatus::INVALID_PARAMETER.into());
    }
    if length == 0 {
        WriteResponse { count: 0 }.encode(out);
        return Outcome::ok();
    }
    let size = file.metadata().map_err(|e| status_of(&e))?.len();
    if offset + length > size {
        // An extension the disk could not hold fails now, as on a disk without sparse files,
        // rather than leaving a huge sparse file behind.
        let free = rustix::fs::fstatvfs(&*file).map(|s| s.f_bavail * s.f_frsize).unwrap_or(u64::MAX);
        if offset + length - size > free {
            return Err(NtStatus::DISK_FULL.into());
        }
    }
    let key = open.key.ok_or(NtStatus::INVALID_HANDLE)?;
    if length > 0 && lock(&shared.files).io_conflicts(&key, owner, offset, length, true) {
        return Err(NtStatus::FILE_LOCK_CONFLICT.into());
    }
    file.write_all_at(request.data, offset).map_err(|e| status_of(&e))?;
    // A continuously available share writes through to the disk (as Windows does): what the
    // client was told is written survives a crash of the machine too.
    let continuously_available = share.as_ref().is_some_and(|s| s.config.continuous_availability);
    if request.flags & write_flags::WRITE_THROUGH != 0 || continuously_available {
        file.sync_data().map_err(|e| status_of(&e))?;
    }
    open.position = offset + length;
    crate::engine::handlers::written(open);
    crate::engine::handlers::break_readers(&shared, &key, owner, conn.now);
    shared.count(Counter::BytesWritten, length);
    WriteResponse { count: request.data.len() as u32 }.encode(out);
    if let Some(share) = share {
        shared.changed(Change {
            share: &share.config.name,
            path: &path,
            action: action::MODIFIED,
            filter: filter::SIZE | filter::LAST_WRITE,
        });
    }
    Outcome::ok()
}
