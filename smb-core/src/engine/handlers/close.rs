//! CLOSE (MS-SMB2 3.3.5.10): the open ends; the last open of a file whose deletion is pending
//! deletes it; attributes are returned on request.

use std::os::fd::AsFd;

use crate::engine::clock::Now;
use crate::engine::connection::{Connection, PendingKind};
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::ids::{AsyncId, SessionId, Waiter};
use crate::engine::notify::Change;
use crate::engine::session::{Open, TreeKind};
use crate::engine::shared::{Control, ShareRuntime, Shared, lock};
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
    let share = session.trees.get(&open.tree_id).and_then(|t| match &t.kind {
        TreeKind::Disk(share) => Some(share.clone()),
        TreeKind::Ipc => None,
    });
    end_waits(conn, session_id, volatile);
    let owner = conn.open_ref(session_id, volatile);
    release(&conn.shared, share.as_deref(), open, owner, conn.now)
}

/// Requests waiting on an open that goes (closed, or kept for its client after the connection
/// is lost) end now (MS-SMB2 3.3.5.10: STATUS_NOTIFY_CLEANUP for notify), and its change watch
/// goes with them.
pub(crate) fn end_waits(conn: &mut Connection, session_id: SessionId, volatile: u64) {
    let waiting: Vec<(AsyncId, bool)> = conn
        .pending
        .values()
        .filter_map(|p| match p.kind {
            PendingKind::Notify { volatile: v, .. } if v == volatile => Some((p.async_id, true)),
            PendingKind::Lock { volatile: v, .. } if v == volatile => Some((p.async_id, false)),
            _ => None,
        })
        .collect();
    lock(&conn.shared.watches).remove(conn.open_ref(session_id, volatile));
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
}

/// What closing an open does to the file, wherever the open was kept (a session, or the table of
/// durable opens waiting for their client): its write time is brought up to date, its locks and
/// caching go and waiters wake, and if it was the last open of a file with delete pending, the
/// file is deleted.
pub(crate) fn release(
    shared: &Shared,
    share: Option<&ShareRuntime>,
    open: Open,
    owner: crate::engine::files::OpenRef,
    now: Now,
) -> Closed {
    shared.closed();
    if open.durable.is_some_and(|terms| terms.persistent) {
        shared.unjournal(open.file_id.persistent);
    }
    if open.key.is_some() {
        // Durable, or known by a CreateGuid for replays; reconnects waiting for it learn it is gone.
        let forgotten = lock(&shared.durable).forget(open.file_id.persistent);
        for waiter in forgotten.map(|entry| entry.claimants).unwrap_or_default() {
            shared.control(waiter.connection, Control::Wake { async_id: waiter.async_id });
        }
    }
    if let (crate::engine::session::WriteTime::Written { dirty: true, .. }, Some(file)) = (open.write_time, open.file())
    {
        // Written again since the first write: the close brings the time up to date.
        let _ = local::set_times(file.as_fd(), None, Some(now.filetime()));
    }
    let meta = open.file().and_then(|f| local::meta_of(f.as_fd()).ok());
    let Some(key) = open.key else { return Closed { deleted: false, meta } };
    let Some(share) = share else { return Closed { deleted: false, meta } };
    if open.delete_on_close
        && let Some(state) = lock(&shared.files).get_mut(&key)
    {
        state.delete_pending = true;
    }
    let removal = lock(&shared.files).remove(&key, owner);
    for Waiter { connection, async_id } in removal.waiters {
        shared.control(connection, Control::Wake { async_id });
    }
    drop(open);
    if removal.last && removal.delete_pending {
        let path = removal.path.unwrap_or_else(crate::vfs::SharePath::root);
        if let Ok(root) = &share.root {
            let is_directory = root.meta(&path).map(|m| m.is_directory).unwrap_or(false);
            match root.remove(&path, is_directory) {
                Ok(()) => {
                    let change_filter = if is_directory { filter::DIR_NAME } else { filter::FILE_NAME };
                    shared.changed(Change {
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
