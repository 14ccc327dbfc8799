//! LOCK (MS-SMB2 3.3.5.14, MS-FSA 2.1.5.7 / 2.1.5.8): byte-range locks and unlocks; a single
//! lock without FAIL_IMMEDIATELY waits (async) until it is granted or cancelled.

use crate::engine::connection::{Connection, PendingKind};
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::{ByteLock, FileKey, OpenRef};
use crate::engine::handlers::open_of;
use crate::engine::ids::{AsyncId, Waiter};
use crate::engine::session::{NO_LOCK_SEQUENCE, OpenKind};
use crate::engine::shared::{Control, lock};
use crate::proto::lock::{LockElement, LockRequest, LockResponse, lock_flags};
use crate::proto::{NtStatus, Writer};

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = LockRequest::decode(req.message)?;
    let volatile = req.file_id.map_or(0, |f| f.volatile);
    let owner = conn.open_ref(req.session_id(), volatile);
    let open = open_of(conn, req)?;
    match open.kind {
        OpenKind::File(_) => {}
        OpenKind::Directory { .. } => return Err(NtStatus::INVALID_PARAMETER.into()),
        OpenKind::Pipe(_) => return Err(NtStatus::NOT_SUPPORTED.into()),
    }
    let key = open.key.ok_or(NtStatus::INVALID_HANDLE)?;
    let sequence = lock_sequence(conn, req, &request);
    if let Some((index, number)) = sequence {
        let open = conn.sessions.get_mut(&req.session_id()).and_then(|s| s.opens.get_mut(&volatile));
        let open = open.ok_or(NtStatus::FILE_CLOSED)?;
        if open.lock_sequences[index] == number {
            // A replay of a LOCK already done (a failover client's, or on another channel):
            // answered as done, not done twice (MS-SMB2 3.3.5.14).
            LockResponse::default().encode(out);
            return Outcome::ok();
        }
        open.lock_sequences[index] = NO_LOCK_SEQUENCE;
    }
    let blocking = request.locks.len() == 1 && request.locks[0].flags & lock_flags::FAIL_IMMEDIATELY == 0;
    match apply(conn, key, owner, &request.locks) {
        Ok(waiters) => {
            if let Some((index, number)) = sequence
                && let Some(open) = conn.sessions.get_mut(&req.session_id()).and_then(|s| s.opens.get_mut(&volatile))
            {
                open.lock_sequences[index] = number;
            }
            wake(conn, waiters);
            crate::engine::persistent::journal_change(conn, req.session_id(), volatile);
            if request.locks[0].flags & lock_flags::UNLOCK == 0 {
                // A byte-range lock ends read caching as a write does (MS-FSA 2.1.5.7).
                crate::engine::handlers::break_readers(&conn.shared, &key, owner, conn.now);
            }
            LockResponse::default().encode(out);
            Outcome::ok()
        }
        Err((NtStatus::LOCK_NOT_GRANTED, _)) if blocking => {
            Ok(Outcome::Pending(PendingKind::Lock { volatile, request: req.message.to_vec(), deadline: None }))
        }
        Err((status, waiters)) => {
            wake(conn, waiters);
            Err(status.into())
        }
    }
}

/// The entry of Open.LockSequenceArray a LOCK names, and its sequence number (MS-SMB2
/// 3.3.5.14): kept for durable opens (2.1 and later) and on connections that may be one of
/// several channels (SMB 3 with multichannel); LockSequenceIndex 0 or above 64 names none.
fn lock_sequence(conn: &Connection, req: &Request<'_>, request: &LockRequest) -> Option<(usize, u8)> {
    let negotiated = conn.negotiated.as_ref()?;
    let durable = conn
        .sessions
        .get(&req.session_id())
        .and_then(|s| s.opens.get(&req.file_id?.volatile))
        .is_some_and(|open| open.durable.is_some());
    let multichannel = negotiated.dialect.is_smb3()
        && negotiated.server_capabilities & crate::proto::negotiate::capabilities::MULTI_CHANNEL != 0;
    if !(durable && negotiated.dialect != crate::proto::negotiate::Dialect::SMB2_0_2 || multichannel) {
        return None;
    }
    let index = (request.lock_sequence >> 4) as usize;
    let number = (request.lock_sequence & 0xF) as u8;
    (1..=64).contains(&index).then(|| (index - 1, number))
}

/// A lock element's range must end within 64 bits (MS-FSA 2.1.5.7).
fn check_range(element: &LockElement) -> Result<(), NtStatus> {
    if element.length > 0 && element.offset.checked_add(element.length - 1).is_none() {
        return Err(NtStatus::INVALID_LOCK_RANGE);
    }
    Ok(())
}

/// MS-SMB2 3.3.5.14.1 / 3.3.5.14.2, element by element as Windows does: an unlock request holds
/// only unlocks (those done before an invalid element stay done); a lock request takes all or
/// nothing, each element shared or exclusive, and several only with FAIL_IMMEDIATELY. Returns
/// the waiters to wake (after unlocks), also on failure.
fn apply(
    conn: &Connection,
    key: FileKey,
    owner: OpenRef,
    locks: &[LockElement],
) -> Result<Vec<Waiter>, (NtStatus, Vec<Waiter>)> {
    let mut files = lock(&conn.shared.files);
    let mut waiters = Vec::new();
    if locks[0].flags & lock_flags::UNLOCK != 0 {
        for element in locks {
            if element.flags != lock_flags::UNLOCK {
                return Err((NtStatus::INVALID_PARAMETER, waiters));
            }
            check_range(element).map_err(|status| (status, waiters.clone()))?;
            match files.unlock(&key, owner, element.offset, element.length) {
                Ok(woken) => waiters = woken,
                Err(status) => return Err((status, waiters)),
            }
        }
        return Ok(waiters);
    }
    let mut taken: Vec<&LockElement> = Vec::new();
    let mut failure = None;
    for element in locks {
        let kind = element.flags & !lock_flags::FAIL_IMMEDIATELY;
        let valid = matches!(kind, lock_flags::SHARED_LOCK | lock_flags::EXCLUSIVE_LOCK)
            && (locks.len() == 1 || element.flags & lock_flags::FAIL_IMMEDIATELY != 0);
        let result = if valid { check_range(element) } else { Err(NtStatus::INVALID_PARAMETER) }.and_then(|()| {
            files.try_lock(
                &key,
                ByteLock {
                    owner,
                    offset: element.offset,
                    length: element.length,
                    exclusive: kind == lock_flags::EXCLUSIVE_LOCK,
                },
            )
        });
        if let Err(status) = result {
            failure = Some(status);
            break;
        }
        taken.push(element);
    }
    match failure {
        None => Ok(waiters),
        Some(status) => {
            for element in taken {
                if let Ok(woken) = files.unlock(&key, owner, element.offset, element.length) {
                    waiters = woken;
                }
            }
            Err((status, waiters))
        }
    }
}

fn wake(conn: &Connection, waiters: Vec<Waiter>) {
    for Waiter { connection, async_id } in waiters {
        conn.shared.control(connection, Control::Wake { async_id });
    }
}

/// A waiting lock retries after another open released a range.
pub(crate) fn retry(conn: &mut Connection, async_id: AsyncId) -> Option<crate::engine::connection::Output> {
    let pending = conn.pending.get(&async_id)?;
    let PendingKind::Lock { volatile, request, .. } = &pending.kind else { return None };
    let (volatile, session_id) = (*volatile, pending.session_id);
    let request = LockRequest::decode(request).ok()?;
    let key = conn.sessions.get(&session_id)?.opens.get(&volatile)?.key?;
    let owner = conn.open_ref(session_id, volatile);
    match apply(conn, key, owner, &request.locks) {
        Ok(_) => {
            lock(&conn.shared.files).remove_waiter(&key, Waiter { connection: conn.info.id, async_id });
            crate::engine::persistent::journal_change(conn, session_id, volatile);
            Some(conn.complete(async_id, Ok(NtStatus::SUCCESS), |out| LockResponse::default().encode(out)))
        }
        Err(_) => None,
    }
}

/// Registers a new waiting lock with the file table.
pub(crate) fn register(conn: &mut Connection, async_id: AsyncId) {
    let Some(pending) = conn.pending.get(&async_id) else { return };
    let PendingKind::Lock { volatile, .. } = pending.kind else { return };
    if let Some(key) = conn.sessions.get(&pending.session_id).and_then(|s| s.opens.get(&volatile)).and_then(|o| o.key) {
        lock(&conn.shared.files).add_waiter(&key, Waiter { connection: conn.info.id, async_id });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_wrapping_past_the_end_is_invalid() {
        let element = |offset, length| LockElement { offset, length, flags: lock_flags::EXCLUSIVE_LOCK };
        assert_eq!(check_range(&element(u64::MAX, 2)), Err(NtStatus::INVALID_LOCK_RANGE));
        assert_eq!(check_range(&element(u64::MAX, 1)), Ok(()));
        assert_eq!(check_range(&element(u64::MAX, 0)), Ok(()));
    }
}
