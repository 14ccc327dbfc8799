//! READ (MS-SMB2 3.3.5.12): file data straight into the response buffer; pipe data on IPC$.

use std::io::{Read, Seek, SeekFrom};

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::access;
use crate::engine::handlers::{check_charge, open_of};
use crate::engine::session::OpenKind;
use crate::engine::shared::{Counter, lock};
use crate::proto::read::{ReadRequest, ReadResponse};
use crate::proto::{NtStatus, Writer};
use crate::vfs::local::status_of;

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = ReadRequest::decode(req.message)?;
    check_charge(conn, req, request.length as usize)?;
    let owner = conn.open_ref(req.session_id(), req.file_id.map_or(0, |f| f.volatile));
    let files = conn.shared.clone();
    let open = open_of(conn, req)?;
    if open.granted_access & (access::FILE_READ_DATA | access::FILE_EXECUTE) == 0 {
        return Err(NtStatus::ACCESS_DENIED.into());
    }
    let file = match &mut open.kind {
        OpenKind::File(file) => file,
        OpenKind::Directory { .. } => return Err(NtStatus::INVALID_DEVICE_REQUEST.into()),
        OpenKind::Pipe(pipe) => {
            let data = pipe.read(request.length as usize);
            if data.is_empty() {
                return Err(NtStatus::PIPE_EMPTY.into());
            }
            let remaining = pipe.pending_output();
            ReadResponse { data, data_remaining: remaining as u32 }.encode(out);
            return if remaining > 0 { Outcome::status(NtStatus::BUFFER_OVERFLOW) } else { Outcome::ok() };
        }
    };
    let Some(key) = open.key else { return Err(NtStatus::INVALID_HANDLE.into()) };
    if request.length > 0
        && lock(&files.files).io_conflicts(&key, owner, request.offset, u64::from(request.length), false)
    {
        return Err(NtStatus::FILE_LOCK_CONFLICT.into());
    }
    // MS-FSA 2.1.5.2: offsets are signed 64-bit; a zero-length read anywhere valid succeeds.
    let beyond = request.offset.checked_add(u64::from(request.length)).is_none_or(|end| end > i64::MAX as u64);
    if request.offset > i64::MAX as u64 || (request.length > 0 && beyond) {
        return Err(NtStatus::INVALID_PARAMETER.into());
    }
    if request.length == 0 && request.minimum_count == 0 {
        ReadResponse::default().encode(out);
        return Outcome::ok();
    }
    let size = file.metadata().map_err(|e| status_of(&e))?.len();
    if request.offset >= size || request.minimum_count > request.length {
        return Err(NtStatus::END_OF_FILE.into());
    }
    let head = out.len();
    ReadResponse::encode_head(0, 0, out);
    let start = out.vec_mut().len();
    (&*file).seek(SeekFrom::Start(request.offset)).map_err(|e| status_of(&e))?;
    // Room for what the file holds there, at once: growing the answer as it is read would copy
    // it again at each doubling and leave up to half of it unused.
    out.vec_mut().reserve_exact(u64::from(request.length).min(size - request.offset) as usize);
    (&*file).take(u64::from(request.length)).read_to_end(out.vec_mut()).map_err(|e| status_of(&e))?;
    let read = out.vec_mut().len() - start;
    if read < request.minimum_count as usize {
        out.truncate(head);
        return Err(NtStatus::END_OF_FILE.into());
    }
    out.patch_u32(head + 4, read as u32);
    open.position = request.offset + read as u64;
    files.count(Counter::BytesRead, read as u64);
    Outcome::ok()
}
