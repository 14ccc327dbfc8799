//! CHANGE_NOTIFY (MS-SMB2 3.3.5.19): changes already recorded for the directory are returned at
//! once; otherwise the request waits (async) for the next change, a CANCEL or the handle's close.

use crate::engine::connection::{Connection, Output, PendingKind};
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::access;
use crate::engine::handlers::{check_charge, open_of, share_of};
use crate::engine::ids::AsyncId;
use crate::engine::notify::Watch;
use crate::engine::session::OpenKind;
use crate::engine::shared::lock;
use crate::proto::change_notify::{ChangeNotifyRequest, ChangeNotifyResponse, FileNotifyInformation, WATCH_TREE};
use crate::proto::{NtStatus, Writer};

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = ChangeNotifyRequest::decode(req.message)?;
    check_charge(conn, req, request.output_buffer_length as usize)?;
    let share = share_of(conn, req).ok_or(NtStatus::INVALID_PARAMETER)?;
    let volatile = req.file_id.map_or(0, |f| f.volatile);
    let owner = conn.open_ref(req.session_id(), volatile);
    let open = open_of(conn, req)?;
    if !matches!(open.kind, OpenKind::Directory { .. }) {
        return Err(NtStatus::INVALID_PARAMETER.into());
    }
    if open.granted_access & access::FILE_READ_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED.into());
    }
    let directory = open.path.clone();
    let mut watches = lock(&conn.shared.watches);
    if watches.find_mut(owner).is_none() {
        watches.add(Watch {
            owner,
            share: share.config.name.clone(),
            directory,
            tree: request.flags & WATCH_TREE != 0,
            filter: request.completion_filter,
            changes: Vec::new(),
            overflowed: false,
            pending: None,
        });
    }
    let watch = watches.find_mut(owner).expect("added above");
    if watch.pending.is_some() {
        // One waiting request per handle; Windows answers a second one the same way.
        return Err(NtStatus::INVALID_PARAMETER.into());
    }
    if watch.overflowed || !watch.changes.is_empty() {
        let (status, buffer) = take(watch, request.output_buffer_length);
        ChangeNotifyResponse { buffer }.encode(out);
        return Outcome::status(status);
    }
    Ok(Outcome::Pending(PendingKind::Notify { volatile, output_buffer_length: request.output_buffer_length }))
}

/// The recorded changes as a response buffer, or NOTIFY_ENUM_DIR when they did not all fit.
fn take(watch: &mut Watch, output_buffer_length: u32) -> (NtStatus, Vec<u8>) {
    let changes = std::mem::take(&mut watch.changes);
    let overflowed = std::mem::take(&mut watch.overflowed);
    let buffer = FileNotifyInformation::encode_all(&changes);
    if overflowed || buffer.len() > output_buffer_length as usize {
        (NtStatus::NOTIFY_ENUM_DIR, Vec::new())
    } else {
        (NtStatus::SUCCESS, buffer)
    }
}

/// Marks the watch as waited on by a new async request.
pub(crate) fn register(conn: &mut Connection, async_id: AsyncId) {
    let Some(pending) = conn.pending.get(&async_id) else { return };
    let PendingKind::Notify { volatile, .. } = pending.kind else { return };
    if let Some(watch) = lock(&conn.shared.watches).find_mut(conn.open_ref(pending.session_id, volatile)) {
        watch.pending = Some(async_id);
    }
}

/// A change arrived for a waiting request: complete it.
pub(crate) fn deliver(conn: &mut Connection, async_id: AsyncId) -> Option<Output> {
    let pending = conn.pending.get(&async_id)?;
    let PendingKind::Notify { volatile, output_buffer_length } = pending.kind else { return None };
    let (status, buffer) = {
        let mut watches = lock(&conn.shared.watches);
        let watch = watches.find_mut(conn.open_ref(pending.session_id, volatile))?;
        if watch.changes.is_empty() && !watch.overflowed {
            return None;
        }
        watch.pending = None;
        take(watch, output_buffer_length)
    };
    Some(conn.complete(async_id, Ok(status), |out| ChangeNotifyResponse { buffer }.encode(out)))
}
