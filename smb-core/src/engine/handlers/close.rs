//! CLOSE (MS-SMB2 3.3.5.10): the open ends; the last open of a file whose deletion is pending
//! deletes it; attributes are returned on request.

use std::os::fd::AsFd;

use crate::engine::connection::{Connection, PendingKind};
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::ids::{AsyncId, SessionId, Waiter};
use crate::engine::notify::Change;
use crate::engine::session::TreeKind;
use crate::engine::shared::{Control, lock};
use crate::proto::change_notify::{action, filter};
use crate::proto::close::{CloseRequest, CloseResponse, POSTQUERY_ATTRIB};
use crate::proto::{NtStatus, Writer};
use crate::vfs::local;

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = CloseRequest::decode(req.message)?;
    let file_id = req.file_id.expect("the table resolves the file");
    let session_id = req.session_id();
    let mut response = CloseResponse { flags: request.flags & POSTQUERY_ATTRIB, ..CloseResponse::default() };
    let closed = close_open(conn, session_id, file_id.volatile);
    if request.flags & POSTQUERY_ATTRIB != 0
        && !closed.deleted
        && let Some(meta) = closed.meta
    {
        {
            response.creation_time = meta.creation_time;
            response.last_access_time = meta.last_access_time;
            response.last_write_time = meta.last_write_time;
            response.change_time = meta.change_time;
            response.allocation_size = meta.allocation_size;
            response.end_of_file = meta.end_of_file;
            response.file_attributes = meta.attributes;
        }
    }
    response.encode(out);
    Outcome::ok()
}

/// What closing an open did.
#[derive(Default)]
pub(crate) struct Closed {
    pub deleted: bool,
    /// The file's metadata as the close found it.
    pub meta: Option<crate::proto::fscc::FileMeta>,
}

/// Closes one open: pending requests on it end, its locks go, and if it was the last open of a
/// file with delete pending, the file is deleted.
pub(crate) fn close_open(conn: &mut Connection, session_id: SessionId, volatile: u64) -> Closed {
    let Some(session) = conn.sessions.get_mut(&session_id) else { return Closed::default() };
    let Some(open) = session.opens.remove(&volatile) else { return Closed::default() };
    conn.shared.closed();
    let share = session.trees.get(&open.tree_id).and_then(|t| match &t.kind {
        TreeKind::Disk(share) => Some(share.clone()),
        TreeKind::Ipc => None,
    });
    if let (crate::engine::session::WriteTime::Written { dirty: true, .. }, Some(file)) = (open.write_time, open.file())
    {
        // Written again since the first write: the close brings the time up to date.
        let _ = local::set_times(file.as_fd(), None, Some(conn.now.filetime()));
    }
    let meta = open.file().and_then(|f| local::meta_of(f.as_fd()).ok());
    // Requests waiting on this open end now (MS-SMB2 3.3.5.10: STATUS_NOTIFY_CLEANUP for notify).
    let waiting: Vec<(AsyncId, bool)> = conn
        .pending
        .values()
        .filter_map(|p| match p.kind {
            PendingKind::Notify { volatile: v, .. } if v == volatile => Some((p.async_id, true)),
            PendingKind::Lock { volatile: v, .. } if v == volatile => Some((p.async_id, false)),
            _ => None,
        })
        .collect();
    let owner = conn.open_ref(volatile);
    lock(&conn.shared.watches).remove(owner);
    for (async_id, notify) in waiting {
        let status = if notify { NtStatus::NOTIFY_CLEANUP } else { NtStatus::RANGE_NOT_LOCKED };
        let output = if notify {
            conn.complete(async_id, Ok(status), |out| {
                crate::proto::query_info::OutputBufferResponse::default().encode(out)
            })
        } else {
            conn.complete(async_id, Err(status.into()), |_| {})
        };
        conn.deferred.extend(output.frames);
    }
    let Some(key) = open.key else { return Closed { deleted: false, meta } };
    let Some(share) = share else { return Closed { deleted: false, meta } };
    if open.delete_on_close
        && let Some(state) = lock(&conn.shared.files).get_mut(&key)
    {
        state.delete_pending = true;
    }
    let removal = lock(&conn.shared.files).remove(&key, owner);
    for Waiter { connection, async_id } in removal.waiters {
        conn.shared.control(connection, Control::Wake { async_id });
    }
    drop(open);
    if removal.last && removal.delete_pending {
        let path = removal.path.unwrap_or_else(crate::vfs::SharePath::root);
        if let Ok(root) = &share.root {
            let is_directory = root.meta(&path).map(|m| m.is_directory).unwrap_or(false);
            match root.remove(&path, is_directory) {
                Ok(()) => {
                    let change_filter = if is_directory { filter::DIR_NAME } else { filter::FILE_NAME };
                    conn.shared.changed(Change {
                        share: &share.config.name,
                        path: &path,
                        action: action::REMOVED,
                        filter: change_filter,
                    });
                    return Closed { deleted: true, meta: None };
                }
                Err(status) => {
                    tracing::info!(share = %share.config.name, path = %path.to_windows(), ?status, "delete on close failed")
                }
            }
        }
    }
    Closed { deleted: false, meta }
}
