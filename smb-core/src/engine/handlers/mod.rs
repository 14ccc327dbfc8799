//! One file per command: decode the request, act, encode the response body. The pipeline
//! ([`super::connection`]) has already applied the dispatch table's checks.

pub(crate) mod cancel;
pub(crate) mod change_notify;
pub(crate) mod close;
pub(crate) mod create;
pub(crate) mod echo;
pub(crate) mod flush;
pub(crate) mod ioctl;
pub(crate) mod lock;
pub(crate) mod logoff;
pub(crate) mod negotiate;
pub(crate) mod oplock_break;
pub(crate) mod query_directory;
pub(crate) mod query_info;
pub(crate) mod read;
pub(crate) mod session_setup;
pub(crate) mod set_info;
pub(crate) mod tree_connect;
pub(crate) mod tree_disconnect;
pub(crate) mod write;

use crate::engine::connection::Connection;
use crate::engine::dispatch::Request;
use crate::engine::session::{Open, TreeKind};
use crate::engine::shared::ShareRuntime;
use crate::proto::NtStatus;
use std::sync::Arc;

/// The open a request names (the table has checked that it exists).
pub(crate) fn open_of<'c>(conn: &'c mut Connection, req: &Request<'_>) -> Result<&'c mut Open, NtStatus> {
    let file_id = req.file_id.ok_or(NtStatus::FILE_CLOSED)?;
    conn.sessions
        .get_mut(&req.session_id())
        .and_then(|s| s.opens.get_mut(&file_id.volatile))
        .ok_or(NtStatus::FILE_CLOSED)
}

/// The share of the request's tree, when it is a disk share.
pub(crate) fn share_of(conn: &Connection, req: &Request<'_>) -> Option<Arc<ShareRuntime>> {
    match &conn.sessions.get(&req.session_id())?.trees.get(&req.tree_id())?.kind {
        TreeKind::Disk(share) => Some(share.clone()),
        TreeKind::Ipc => None,
    }
}

/// MS-SMB2 3.3.5.2.5: with large MTU, a request moving `bytes` must be charged enough credits
/// (one per 64 KiB); and no request may move more than the negotiated maximum.
pub(crate) fn check_charge(conn: &Connection, req: &Request<'_>, bytes: usize) -> Result<(), NtStatus> {
    let Some(negotiated) = &conn.negotiated else { return Err(NtStatus::INVALID_PARAMETER) };
    if bytes > negotiated.max_io as usize {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if negotiated.large_mtu() {
        let needed = bytes.div_ceil(65536).max(1);
        let charged = usize::from(req.header.credit_charge.max(1));
        if charged < needed {
            return Err(NtStatus::INVALID_PARAMETER);
        }
    } else if bytes > 65536 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Ok(())
}

/// After data or size changed through `open`: keeps its last-write time by the rules of
/// [`crate::engine::session::WriteTime`].
pub(crate) fn written(open: &mut Open) {
    use crate::engine::session::WriteTime;
    use std::os::fd::AsFd;
    let Some(file) = open.file() else { return };
    let fd = file.as_fd();
    match open.write_time {
        WriteTime::Fixed(time) | WriteTime::Written { time, .. } => {
            let _ = crate::vfs::local::set_times(fd, None, Some(time));
            if let WriteTime::Written { time, .. } = open.write_time {
                open.write_time = WriteTime::Written { time, dirty: true };
            }
        }
        WriteTime::Automatic => {
            if let Ok(meta) = crate::vfs::local::meta_of(fd) {
                open.write_time = WriteTime::Written { time: meta.last_write_time, dirty: false };
            }
        }
    }
}

/// After data or size changed through `owner`: the file's other caching holders lose read
/// caching (MS-FSA 2.1.4.12).
pub(crate) fn break_readers(
    shared: &crate::engine::shared::Shared,
    key: &crate::engine::files::FileKey,
    owner: crate::engine::files::OpenRef,
    now: crate::engine::clock::Now,
) {
    let breaks = crate::engine::shared::lock(&shared.files).break_for_write(key, owner, now.instant);
    shared.send_breaks(breaks, now);
}
