//! CANCEL (MS-SMB2 3.3.5.16): ends a pending request, which then answers STATUS_CANCELLED.
//! CANCEL itself has no response, and consumes no credit.

use crate::engine::connection::{Connection, Output, PendingKind};
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::ids::{AsyncId, SessionId, Waiter};
use crate::engine::shared::lock;
use crate::proto::header::Header;
use crate::proto::{NtStatus, Writer};

/// The table's entry for CANCEL: never called, since the pipeline handles CANCEL first.
pub(crate) fn unreachable(_conn: &mut Connection, _req: &Request<'_>, _out: &mut Writer) -> Result<Outcome, Error> {
    Ok(Outcome::NoResponse)
}

/// Finds the request a CANCEL names (by async id, or by message id for a sync cancel).
pub(crate) fn handle(conn: &mut Connection, header: &Header) -> Option<Output> {
    let async_id = if header.is_async() {
        Some(AsyncId(header.async_id)).filter(|id| conn.pending.contains_key(id))
    } else {
        conn.pending.values().find(|p| p.message_id == header.message_id).map(|p| p.async_id)
    }?;
    if conn.pending[&async_id].session_id != SessionId(header.session_id) {
        return None;
    }
    cancel(conn, async_id, NtStatus::CANCELLED)
}

/// Completes a pending request with `status`, undoing its registration.
pub(crate) fn cancel(conn: &mut Connection, async_id: AsyncId, status: NtStatus) -> Option<Output> {
    let pending = conn.pending.get(&async_id)?;
    match &pending.kind {
        PendingKind::Notify { volatile, .. } => {
            let owner = conn.open_ref(pending.session_id, *volatile);
            if let Some(watch) = lock(&conn.shared.watches).find_mut(owner) {
                watch.pending = None;
            }
        }
        PendingKind::Create { key, .. } => crate::engine::handlers::create::forget(conn, key, async_id),
        PendingKind::Lock { volatile, .. } => {
            let key = conn.sessions.get(&pending.session_id).and_then(|s| s.opens.get(volatile)).and_then(|o| o.key);
            if let Some(key) = key {
                lock(&conn.shared.files).remove_waiter(&key, Waiter { connection: conn.info.id, async_id });
            }
        }
    }
    Some(conn.complete(async_id, Err(status.into()), |_| {}))
}
