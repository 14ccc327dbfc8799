//! LOCK (MS-SMB2 3.3.5.14, MS-FSA 2.1.5.7 / 2.1.5.8): byte-range locks and unlocks; a single
//! lock without FAIL_IMMEDIATELY waits (async) until it is granted or cancelled.

use crate::engine::connection::{Connection, PendingKind};
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::{ByteLock, FileKey, OpenRef};
use crate::engine::handlers::open_of;
use crate::engine::session::OpenKind;
use crate::engine::shared::{Control, lock};
use crate::proto::lock::{LockElement, LockRequest, LockResponse, lock_flags};
use crate::proto::{NtStatus, Writer};

pub fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = LockRequest::decode(req.message)?;
    let volatile = req.file_id.map_or(0, |f| f.volatile);
    let owner = conn.open_ref(volatile);
    let open = open_of(conn, req)?;
    match open.kind {
        OpenKind::File(_) => {}
        OpenKind::Directory { .. } => return Err(NtStatus::INVALID_PARAMETER.into()),
        OpenKind::Pipe(_) => return Err(NtStatus::NOT_SUPPORTED.into()),
    }
    let key = open.key.ok_or(NtStatus::INVALID_HANDLE)?;
    validate(&request.locks)?;
    match apply(conn, key, owner, &request.locks) {
        Ok(waiters) => {
            wake(conn, waiters);
            LockResponse::default().encode(out);
            Outcome::ok()
        }
        Err(NtStatus::LOCK_NOT_GRANTED)
            if request.locks.len() == 1 && request.locks[0].flags & lock_flags::FAIL_IMMEDIATELY == 0 =>
        {
            Ok(Outcome::Pending(PendingKind::Lock { volatile, request: req.message.to_vec(), deadline: None }))
        }
        Err(status) => {
            let status = conflict_status(conn, req, status, &request.locks);
            Err(status.into())
        }
    }
}

/// MS-SMB2 3.3.5.14: an unlock request holds only unlocks; a lock request only locks, each
/// shared or exclusive; several locks in one request must all fail immediately.
fn validate(locks: &[LockElement]) -> Result<(), NtStatus> {
    let unlocking = locks[0].flags & lock_flags::UNLOCK != 0;
    for lock in locks {
        let kind = lock.flags & !lock_flags::FAIL_IMMEDIATELY;
        let valid = if unlocking {
            lock.flags == lock_flags::UNLOCK
        } else {
            matches!(kind, lock_flags::SHARED_LOCK | lock_flags::EXCLUSIVE_LOCK)
                && (locks.len() == 1 || lock.flags & lock_flags::FAIL_IMMEDIATELY != 0)
        };
        if !valid {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if lock.length > 0 && lock.offset.checked_add(lock.length - 1).is_none() {
            return Err(NtStatus::INVALID_LOCK_RANGE);
        }
    }
    Ok(())
}

/// Applies every element, all or nothing. Returns the lock waiters to wake (after unlocks).
fn apply(conn: &Connection, key: FileKey, owner: OpenRef, locks: &[LockElement]) -> Result<Vec<(u64, u64)>, NtStatus> {
    let mut files = lock(&conn.shared.files);
    let mut waiters = Vec::new();
    if locks[0].flags & lock_flags::UNLOCK != 0 {
        for element in locks {
            waiters = files.unlock(&key, owner, element.offset, element.length)?;
        }
        return Ok(waiters);
    }
    for (index, element) in locks.iter().enumerate() {
        let byte_lock = ByteLock {
            owner,
            offset: element.offset,
            length: element.length,
            exclusive: element.flags & lock_flags::EXCLUSIVE_LOCK != 0,
        };
        if let Err(status) = files.try_lock(&key, byte_lock) {
            for taken in &locks[..index] {
                let _ = files.unlock(&key, owner, taken.offset, taken.length);
            }
            return Err(status);
        }
    }
    Ok(waiters)
}

/// Windows answers a repeated failure at the same offset, or one at a high offset, with
/// FILE_LOCK_CONFLICT instead of LOCK_NOT_GRANTED (MS-FSA 2.1.5.7, a behaviour smbtorture checks).
fn conflict_status(conn: &mut Connection, req: &Request<'_>, status: NtStatus, locks: &[LockElement]) -> NtStatus {
    if status != NtStatus::LOCK_NOT_GRANTED {
        return status;
    }
    let offset = locks.last().map_or(0, |l| l.offset);
    let Ok(open) = open_of(conn, req) else { return status };
    let repeated = open.last_failed_lock == Some(offset);
    open.last_failed_lock = Some(offset);
    if repeated || offset >= 0xEF00_0000 { NtStatus::FILE_LOCK_CONFLICT } else { status }
}

fn wake(conn: &Connection, waiters: Vec<(u64, u64)>) {
    for (connection, async_id) in waiters {
        conn.shared.control(connection, Control::Wake { async_id });
    }
}

/// A waiting lock retries after another open released a range.
pub fn retry(conn: &mut Connection, async_id: u64) -> Option<crate::engine::connection::Output> {
    let pending = conn.pending.get(&async_id)?;
    let PendingKind::Lock { volatile, request, .. } = &pending.kind else { return None };
    let (volatile, session_id) = (*volatile, pending.session_id);
    let request = LockRequest::decode(request).ok()?;
    let key = conn.sessions.get(&session_id)?.opens.get(&volatile)?.key?;
    let owner = conn.open_ref(volatile);
    match apply(conn, key, owner, &request.locks) {
        Ok(_) => {
            lock(&conn.shared.files).remove_waiter(&key, (conn.info.id, async_id));
            Some(conn.complete(async_id, Ok(NtStatus::SUCCESS), |out| LockResponse::default().encode(out)))
        }
        Err(_) => None,
    }
}

/// Registers a new waiting lock with the file table.
pub fn register(conn: &mut Connection, async_id: u64) {
    let Some(pending) = conn.pending.get(&async_id) else { return };
    let PendingKind::Lock { volatile, .. } = pending.kind else { return };
    if let Some(key) = conn.sessions.get(&pending.session_id).and_then(|s| s.opens.get(&volatile)).and_then(|o| o.key) {
        lock(&conn.shared.files).add_waiter(&key, (conn.info.id, async_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(offset: u64, length: u64, flags: u32) -> LockElement {
        LockElement { offset, length, flags }
    }

    #[test]
    fn mixing_locks_and_unlocks_is_invalid() {
        let locks =
            [element(0, 1, lock_flags::UNLOCK), element(1, 1, lock_flags::SHARED_LOCK | lock_flags::FAIL_IMMEDIATELY)];
        assert_eq!(validate(&locks), Err(NtStatus::INVALID_PARAMETER));
    }

    #[test]
    fn several_locks_must_all_fail_immediately() {
        let locks = [element(0, 1, lock_flags::SHARED_LOCK), element(1, 1, lock_flags::SHARED_LOCK)];
        assert_eq!(validate(&locks), Err(NtStatus::INVALID_PARAMETER));
    }

    #[test]
    fn a_range_wrapping_past_the_end_is_invalid() {
        assert_eq!(validate(&[element(u64::MAX, 2, lock_flags::EXCLUSIVE_LOCK)]), Err(NtStatus::INVALID_LOCK_RANGE));
        assert_eq!(validate(&[element(u64::MAX, 1, lock_flags::EXCLUSIVE_LOCK)]), Ok(()));
    }

    #[test]
    fn a_lock_must_be_shared_or_exclusive() {
        assert_eq!(validate(&[element(0, 1, 0)]), Err(NtStatus::INVALID_PARAMETER));
        assert_eq!(
            validate(&[element(0, 1, lock_flags::SHARED_LOCK | lock_flags::EXCLUSIVE_LOCK)]),
            Err(NtStatus::INVALID_PARAMETER)
        );
    }
}
