//! FLUSH (MS-SMB2 3.3.5.11): the file's data and metadata to stable storage.

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::access;
use crate::engine::handlers::{open_of, share_of};
use crate::engine::session::OpenKind;
use crate::proto::flush::{FlushRequest, FlushResponse};
use crate::proto::{NtStatus, Writer};
use crate::vfs::local::status_of;

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    FlushRequest::decode(req.message)?;
    let open = open_of(conn, req)?;
    if open.granted_access & (access::FILE_WRITE_DATA | access::FILE_APPEND_DATA) == 0 {
        return Err(NtStatus::ACCESS_DENIED.into());
    }
    match &open.kind {
        OpenKind::File(file) => file.sync_all().map_err(|e| status_of(&e))?,
        OpenKind::Directory { handle, .. } => handle.sync_all().map_err(|e| status_of(&e))?,
        OpenKind::Pipe(_) => {
            FlushResponse::default().encode(out);
            return Outcome::ok();
        }
    }
    // The file's name too: a file created or renamed since lives in its directory's entries,
    // which reach the disk only when the directory is synced.
    let parent = open.path.parent();
    if let (Some(parent), Some(share)) = (parent, share_of(conn, req))
        && let Ok(root) = &share.root
    {
        let directory = root.open_dir(&parent).map_err(|e| status_of(&e))?;
        rustix::fs::fsync(&directory).map_err(|e| status_of(&e.into()))?;
    }
    FlushResponse::default().encode(out);
    Outcome::ok()
}
