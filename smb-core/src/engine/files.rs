//! What every connection must see the same way about a file: who has it open with which access
//! and sharing (MS-SMB2 3.3.5.9 sharing checks, MS-FSA 2.1.5.1.2), whether its deletion is
//! pending, and its byte-range locks (MS-FSA 2.1.5.7).

use std::collections::HashMap;

use std::time::Instant;

use crate::engine::config::same_name;
use crate::engine::leases::{Break, Caching, Grant, Intent, Leases, Request};
use crate::proto::NtStatus;
use crate::proto::create::share_access;
use crate::vfs::SharePath;

use crate::engine::ids::{ConnectionId, SessionId};
pub(crate) use crate::engine::ids::{FileKey, Waiter};

/// Who holds an open: connection and the open's volatile id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenRef {
    pub connection: ConnectionId,
    pub volatile: u64,
}

/// Access mask bits (MS-SMB2 2.2.13.1.1).
pub mod access {
    pub const FILE_READ_DATA: u32 = 0x0000_0001;
    pub const FILE_WRITE_DATA: u32 = 0x0000_0002;
    pub const FILE_APPEND_DATA: u32 = 0x0000_0004;
    pub const FILE_READ_EA: u32 = 0x0000_0008;
    pub const FILE_WRITE_EA: u32 = 0x0000_0010;
    pub const FILE_EXECUTE: u32 = 0x0000_0020;
    pub const FILE_DELETE_CHILD: u32 = 0x0000_0040;
    pub const FILE_READ_ATTRIBUTES: u32 = 0x0000_0080;
    pub const FILE_WRITE_ATTRIBUTES: u32 = 0x0000_0100;
    pub const DELETE: u32 = 0x0001_0000;
    pub const READ_CONTROL: u32 = 0x0002_0000;
    pub const WRITE_DAC: u32 = 0x0004_0000;
    pub const WRITE_OWNER: u32 = 0x0008_0000;
    pub const SYNCHRONIZE: u32 = 0x0010_0000;
    pub const ACCESS_SYSTEM_SECURITY: u32 = 0x0100_0000;
    pub const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
    pub const GENERIC_ALL: u32 = 0x1000_0000;
    pub const GENERIC_EXECUTE: u32 = 0x2000_0000;
    pub const GENERIC_WRITE: u32 = 0x4000_0000;
    pub const GENERIC_READ: u32 = 0x8000_0000;
    /// Every specific right defined for files (FILE_ALL_ACCESS).
    pub const FILE_ALL: u32 = 0x001F_01FF;

    /// Maps generic rights to the file rights they stand for (MS-SMB2 3.3.5.9 / MS-DTYP 2.4.3).
    pub fn map_generic(mask: u32) -> u32 {
        let mut mapped = mask & !(GENERIC_ALL | GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ);
        if mask & GENERIC_READ != 0 {
            mapped |= READ_CONTROL | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE;
        }
        if mask & GENERIC_WRITE != 0 {
            mapped |=
                READ_CONTROL | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | FILE_APPEND_DATA | SYNCHRONIZE;
        }
        if mask & GENERIC_EXECUTE != 0 {
            mapped |= READ_CONTROL | FILE_READ_ATTRIBUTES | FILE_EXECUTE | SYNCHRONIZE;
        }
        if mask & GENERIC_ALL != 0 {
            mapped |= FILE_ALL;
        }
        mapped
    }
}

/// One open as the other opens (and the console's open-files list) see it.
#[derive(Clone, Debug)]
pub struct SharedOpen {
    pub owner: OpenRef,
    pub access: u32,
    pub share: u32,
    pub session_id: SessionId,
    pub user: String,
    pub is_directory: bool,
    /// Its lease or oplock.
    pub caching: Caching,
}

/// A byte-range lock (MS-FSA 2.1.1.3: offset, length, exclusive, owning open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ByteLock {
    pub owner: OpenRef,
    pub offset: u64,
    pub length: u64,
    pub exclusive: bool,
}

impl ByteLock {
    /// Whether a range overlaps this lock's (MS-FSA 2.1.5.7, in 128 bits: a lock may end at
    /// 2^64). A zero-length range meets a lock only strictly inside it; two zero-length ranges
    /// never meet.
    fn overlaps(&self, offset: u64, length: u64) -> bool {
        let (start, end) = (u128::from(self.offset), u128::from(self.offset) + u128::from(self.length));
        let (other_start, other_end) = (u128::from(offset), u128::from(offset) + u128::from(length));
        match (self.length, length) {
            (0, 0) => false,
            (0, _) => other_start < start && start < other_end,
            (_, 0) => start < other_start && other_start < end,
            _ => start < other_end && other_start < end,
        }
    }
}

/// The shared state of one file.
#[derive(Debug)]
pub(crate) struct FileState {
    /// The current share-relative path (updated on rename), and the share it lives in.
    pub share: String,
    pub path: SharePath,
    pub opens: Vec<SharedOpen>,
    pub delete_pending: bool,
    pub locks: Vec<ByteLock>,
    /// Connections waiting for a blocking lock on this file: (connection, async id).
    pub lock_waiters: Vec<Waiter>,
    /// Opens waiting for a lease or oplock break on this file to be acknowledged.
    pub break_waiters: Vec<Waiter>,
}

#[derive(Debug, Default)]
pub(crate) struct FileTable {
    files: HashMap<FileKey, FileState>,
    /// Every lease, whichever file it is on.
    pub leases: Leases,
}

/// Access bits that count for sharing (MS-FSA 2.1.5.1.2.1: data and delete access).
const DATA_ACCESS: u32 =
    access::FILE_READ_DATA | access::FILE_EXECUTE | access::FILE_WRITE_DATA | access::FILE_APPEND_DATA | access::DELETE;

fn conflicts(access: u32, share: u32, other_access: u32, other_share: u32) -> bool {
    let reads = |a: u32| a & (access::FILE_READ_DATA | access::FILE_EXECUTE) != 0;
    let writes = |a: u32| a & (access::FILE_WRITE_DATA | access::FILE_APPEND_DATA) != 0;
    let deletes = |a: u32| a & access::DELETE != 0;
    (reads(access) && other_share & share_access::READ == 0)
        || (writes(access) && other_share & share_access::WRITE == 0)
        || (deletes(access) && other_share & share_access::DELETE == 0)
        || (reads(other_access) && share & share_access::READ == 0)
        || (writes(other_access) && share & share_access::WRITE == 0)
        || (deletes(other_access) && share & share_access::DELETE == 0)
}

impl FileTable {
    pub(crate) fn get(&self, key: &FileKey) -> Option<&FileState> {
        self.files.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &FileKey) -> Option<&mut FileState> {
        self.files.get_mut(key)
    }

    /// Checks sharing against the file's other opens (MS-FSA 2.1.5.1.2).
    pub(crate) fn check_sharing(&self, key: &FileKey, access: u32, share: u32) -> Result<(), NtStatus> {
        let Some(state) = self.files.get(key) else { return Ok(()) };
        if state.delete_pending {
            return Err(NtStatus::DELETE_PENDING);
        }
        if access & DATA_ACCESS == 0 {
            return Ok(());
        }
        for other in &state.opens {
            if other.access & DATA_ACCESS != 0 && conflicts(access, share, other.access, other.share) {
                return Err(NtStatus::SHARING_VIOLATION);
            }
        }
        Ok(())
    }

    /// Records an open (after [`FileTable::check_sharing`] allowed it).
    pub(crate) fn add(&mut self, key: FileKey, share_name: &str, path: &SharePath, open: SharedOpen) {
        let state = self.files.entry(key).or_insert_with(|| FileState {
            share: share_name.to_owned(),
            path: path.clone(),
            opens: Vec::new(),
            delete_pending: false,
            locks: Vec::new(),
            lock_waiters: Vec::new(),
            break_waiters: Vec::new(),
        });
        state.opens.push(open);
    }

    /// Forgets an open and its locks. Returns whether it was the last open, with the file's
    /// state then (for delete-on-close), and the lock waiters to wake.
    pub(crate) fn remove(&mut self, key: &FileKey, owner: OpenRef) -> Removal {
        let Some(state) = self.files.get_mut(key) else { return Removal::default() };
        let mut break_ended = false;
        for open in state.opens.iter().filter(|o| o.owner == owner) {
            break_ended |= self.leases.release(open);
        }
        state.opens.retain(|o| o.owner != owner);
        let released = state.locks.iter().any(|l| l.owner == owner);
        state.locks.retain(|l| l.owner != owner);
        let mut waiters = if released { state.lock_waiters.clone() } else { Vec::new() };
        if break_ended || state.opens.is_empty() {
            waiters.append(&mut state.break_waiters);
        }
        if state.opens.is_empty() {
            let state = self.files.remove(key).expect("present");
            Removal { last: true, delete_pending: state.delete_pending, path: Some(state.path), waiters }
        } else {
            Removal { last: false, delete_pending: state.delete_pending, path: Some(state.path.clone()), waiters }
        }
    }

    /// An open moves to another owner (a durable open reclaimed on a new connection, MS-SMB2
    /// 3.3.5.9.7): its place among the file's opens, its byte-range locks and its lease go with
    /// it. Returns false when the file has no such open.
    pub(crate) fn rehome(&mut self, key: &FileKey, from: OpenRef, to: OpenRef, session_id: SessionId) -> bool {
        let Some(state) = self.files.get_mut(key) else { return false };
        let Some(open) = state.opens.iter_mut().find(|o| o.owner == from) else { return false };
        open.owner = to;
        open.session_id = session_id;
        for lock in state.locks.iter_mut().filter(|l| l.owner == from) {
            lock.owner = to;
        }
        self.leases.rehome(from, to);
        true
    }

    /// The file `owner` has open.
    pub(crate) fn key_of(&self, owner: OpenRef) -> Option<FileKey> {
        self.files.iter().find(|(_, state)| state.opens.iter().any(|o| o.owner == owner)).map(|(key, _)| *key)
    }

    /// The caching `owner` holds on the file now: its oplock level, or its lease's state.
    pub(crate) fn caching_of(&self, key: &FileKey, owner: OpenRef) -> Option<Caching> {
        self.files.get(key)?.opens.iter().find(|o| o.owner == owner).map(|o| o.caching)
    }

    /// Every file whose path is `dir` or below it, in `share`.
    pub(crate) fn open_below(&self, share: &str, dir: &SharePath) -> bool {
        self.files.values().any(|s| same_name(&s.share, share) && s.path.starts_with(dir) && s.path != *dir)
    }

    /// Updates paths after a rename of `from` to `to` (the file itself and, for a directory,
    /// everything below it).
    pub(crate) fn renamed(&mut self, share: &str, from: &SharePath, to: &SharePath) {
        for state in self.files.values_mut().filter(|s| same_name(&s.share, share)) {
            if state.path.starts_with(from) {
                let rest = &state.path.components()[from.components().len()..];
                let mut components = to.components().to_vec();
                components.extend_from_slice(rest);
                state.path = SharePath::from_components(components);
            }
        }
    }

    /// Whether an I/O of `length` bytes at `offset` by `owner` conflicts with a lock
    /// (MS-FSA 2.1.4.10): reads conflict with others' exclusive locks, writes with every other
    /// lock and with the writer's own shared locks.
    pub(crate) fn io_conflicts(&self, key: &FileKey, owner: OpenRef, offset: u64, length: u64, write: bool) -> bool {
        let Some(state) = self.files.get(key) else { return false };
        state.locks.iter().any(|lock| {
            lock.overlaps(offset, length)
                && if write { lock.owner != owner || !lock.exclusive } else { lock.owner != owner && lock.exclusive }
        })
    }

    /// Takes a lock if no held lock conflicts (MS-FSA 2.1.5.7): an exclusive lock conflicts
    /// with every overlapping lock except that its owner may stack shared locks on it; shared
    /// locks conflict only with others' exclusive ones.
    pub(crate) fn try_lock(&mut self, key: &FileKey, lock: ByteLock) -> Result<(), NtStatus> {
        let state = self.files.get_mut(key).ok_or(NtStatus::FILE_CLOSED)?;
        let conflict = state.locks.iter().any(|held| {
            held.overlaps(lock.offset, lock.length)
                && if held.exclusive { lock.exclusive || held.owner != lock.owner } else { lock.exclusive }
        });
        if conflict {
            return Err(NtStatus::LOCK_NOT_GRANTED);
        }
        state.locks.push(lock);
        Ok(())
    }

    /// Releases the lock with exactly this range held by `owner` (MS-FSA 2.1.5.8). Returns the
    /// waiters to wake.
    pub(crate) fn unlock(
        &mut self,
        key: &FileKey,
        owner: OpenRef,
        offset: u64,
        length: u64,
    ) -> Result<Vec<Waiter>, NtStatus> {
        let state = self.files.get_mut(key).ok_or(NtStatus::FILE_CLOSED)?;
        let index = state
            .locks
            .iter()
            .position(|l| l.owner == owner && l.offset == offset && l.length == length)
            .ok_or(NtStatus::RANGE_NOT_LOCKED)?;
        state.locks.remove(index);
        Ok(state.lock_waiters.clone())
    }

    /// The lease and oplock breaks a new open causes (overdue breaks end first), and whether
    /// it must wait for acknowledgments.
    pub(crate) fn break_for_open(&mut self, key: &FileKey, intent: &Intent, now: Instant) -> (Vec<Break>, bool) {
        let Some(state) = self.files.get_mut(key) else { return (Vec::new(), false) };
        self.leases.expire(&mut state.opens, now);
        let conflict = |other: &SharedOpen| {
            intent.access & DATA_ACCESS != 0
                && other.access & DATA_ACCESS != 0
                && conflicts(intent.access, intent.share, other.access, other.share)
        };
        // MS-FSA 2.1.5.1.2: an open that will fail anyway breaks nothing. A file being deleted
        // fails it, and so does a sharing conflict with an open that caches no handle (only
        // handle caching, a batch oplock or an H lease, may give way: the client may be keeping
        // a closed handle open).
        let leases = &self.leases;
        let blocked = state.delete_pending
            || state
                .opens
                .iter()
                .any(|other| other.owner != intent.owner && conflict(other) && !leases.caches_handle(other));
        if blocked {
            return (Vec::new(), false);
        }
        self.leases.break_for_open(&mut state.opens, intent, conflict, now)
    }

    /// The breaks a write or size change through `writer` causes.
    pub(crate) fn break_for_write(&mut self, key: &FileKey, writer: OpenRef, now: Instant) -> Vec<Break> {
        let Some(state) = self.files.get_mut(key) else { return Vec::new() };
        self.leases.break_for_write(&mut state.opens, writer, now)
    }

    /// Grants caching to a just-added open.
    pub(crate) fn grant(&mut self, key: &FileKey, owner: OpenRef, request: Request, is_directory: bool) -> Grant {
        let Some(state) = self.files.get_mut(key) else { return Grant::default() };
        self.leases.grant(*key, &mut state.opens, owner, request, is_directory)
    }

    /// When the earliest break in progress on this file is overdue.
    pub(crate) fn break_deadline(&self, key: &FileKey) -> Option<Instant> {
        self.files.get(key).and_then(|state| self.leases.next_deadline(&state.opens))
    }

    /// An open waits for the breaks on this file; returns false when there is nothing to wait for
    /// any more (the file's last open closed meanwhile).
    pub(crate) fn add_break_waiter(&mut self, key: &FileKey, waiter: Waiter) -> bool {
        match self.files.get_mut(key) {
            Some(state) => {
                if !state.break_waiters.contains(&waiter) {
                    state.break_waiters.push(waiter);
                }
                true
            }
            None => false,
        }
    }

    /// The opens waiting for breaks on this file, which may now go on.
    pub(crate) fn take_break_waiters(&mut self, key: &FileKey) -> Vec<Waiter> {
        self.files.get_mut(key).map(|state| std::mem::take(&mut state.break_waiters)).unwrap_or_default()
    }

    pub(crate) fn remove_break_waiter(&mut self, key: &FileKey, waiter: Waiter) {
        if let Some(state) = self.files.get_mut(key) {
            state.break_waiters.retain(|w| *w != waiter);
        }
    }

    /// The open `owner` of the file `key`, for oplock acknowledgments.
    pub(crate) fn open_mut(&mut self, key: &FileKey, owner: OpenRef) -> Option<&mut SharedOpen> {
        self.files.get_mut(key)?.opens.iter_mut().find(|o| o.owner == owner)
    }

    pub(crate) fn add_waiter(&mut self, key: &FileKey, waiter: Waiter) {
        if let Some(state) = self.files.get_mut(key) {
            state.lock_waiters.push(waiter);
        }
    }

    pub(crate) fn remove_waiter(&mut self, key: &FileKey, waiter: Waiter) {
        if let Some(state) = self.files.get_mut(key) {
            state.lock_waiters.retain(|w| *w != waiter);
        }
    }

    /// Every open file: its state and its opens.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &FileState> {
        self.files.values()
    }
}

/// What closing an open left behind.
#[derive(Debug, Default)]
pub(crate) struct Removal {
    pub last: bool,
    pub delete_pending: bool,
    pub path: Option<SharePath>,
    pub waiters: Vec<Waiter>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ids::ConnectionId;

    const KEY: FileKey = FileKey { device: 1, inode: 2 };

    fn open(volatile: u64, access: u32, share: u32) -> SharedOpen {
        SharedOpen {
            owner: OpenRef { connection: ConnectionId(1), volatile },
            access,
            share,
            session_id: SessionId(1),
            user: "u".into(),
            is_directory: false,
            caching: Caching::None,
        }
    }

    #[test]
    fn a_writer_is_refused_when_another_open_does_not_share_write() {
        let mut table = FileTable::default();
        table.add(KEY, "s", &SharePath::root(), open(1, access::FILE_READ_DATA, share_access::READ));
        assert_eq!(
            table.check_sharing(&KEY, access::FILE_WRITE_DATA, share_access::ALL),
            Err(NtStatus::SHARING_VIOLATION)
        );
        assert_eq!(table.check_sharing(&KEY, access::FILE_READ_DATA, share_access::READ), Ok(()));
        // Attribute-only opens never conflict.
        assert_eq!(table.check_sharing(&KEY, access::FILE_READ_ATTRIBUTES, 0), Ok(()));
    }

    #[test]
    fn an_open_that_shares_nothing_blocks_readers() {
        let mut table = FileTable::default();
        table.add(KEY, "s", &SharePath::root(), open(1, access::FILE_READ_DATA, 0));
        assert_eq!(
            table.check_sharing(&KEY, access::FILE_READ_DATA, share_access::ALL),
            Err(NtStatus::SHARING_VIOLATION)
        );
    }

    #[test]
    fn exclusive_locks_block_others_and_shared_locks_block_writers() {
        let mut table = FileTable::default();
        table.add(KEY, "s", &SharePath::root(), open(1, access::FILE_ALL, share_access::ALL));
        table.add(KEY, "s", &SharePath::root(), open(2, access::FILE_ALL, share_access::ALL));
        let (a, b) = (
            OpenRef { connection: ConnectionId(1), volatile: 1 },
            OpenRef { connection: ConnectionId(1), volatile: 2 },
        );
        table.try_lock(&KEY, ByteLock { owner: a, offset: 0, length: 10, exclusive: true }).unwrap();
        assert_eq!(
            table.try_lock(&KEY, ByteLock { owner: b, offset: 5, length: 10, exclusive: false }),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        assert!(table.io_conflicts(&KEY, b, 0, 1, false));
        assert!(!table.io_conflicts(&KEY, a, 0, 1, true));
        table.unlock(&KEY, a, 0, 10).unwrap();
        table.try_lock(&KEY, ByteLock { owner: b, offset: 5, length: 10, exclusive: false }).unwrap();
        assert!(table.io_conflicts(&KEY, b, 6, 1, true), "a shared lock blocks even its owner's writes");
        assert!(!table.io_conflicts(&KEY, a, 6, 1, false));
        assert_eq!(table.unlock(&KEY, a, 5, 10), Err(NtStatus::RANGE_NOT_LOCKED));
    }

    #[test]
    fn zero_length_locks_meet_only_ranges_strictly_around_them() {
        let lock = |offset, length| ByteLock {
            owner: OpenRef { connection: ConnectionId(1), volatile: 1 },
            offset,
            length,
            exclusive: true,
        };
        let zero = lock(10, 0);
        assert!(!zero.overlaps(10, 0) && !zero.overlaps(9, 1) && !zero.overlaps(10, 2));
        assert!(zero.overlaps(9, 2) && zero.overlaps(9, 3));
        assert!(lock(9, 2).overlaps(10, 0));
        // A lock ending exactly at 2^64 still meets one at the last byte.
        assert!(lock(u64::MAX, 1).overlaps(u64::MAX, 1));
    }

    #[test]
    fn closing_releases_locks_and_reports_the_last_open() {
        let mut table = FileTable::default();
        let owner = OpenRef { connection: ConnectionId(1), volatile: 1 };
        table.add(KEY, "s", &SharePath::root(), open(1, access::FILE_ALL, share_access::ALL));
        table.try_lock(&KEY, ByteLock { owner, offset: 0, length: 1, exclusive: true }).unwrap();
        table.get_mut(&KEY).unwrap().delete_pending = true;
        let removal = table.remove(&KEY, owner);
        assert!(removal.last && removal.delete_pending);
        assert!(table.get(&KEY).is_none());
    }

    #[test]
    fn generic_rights_map_to_file_rights() {
        assert_eq!(access::map_generic(access::GENERIC_ALL), access::FILE_ALL);
        assert_eq!(access::map_generic(access::GENERIC_READ) & access::FILE_WRITE_DATA, 0);
    }
}
