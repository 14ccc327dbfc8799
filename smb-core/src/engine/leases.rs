//! Client caching: leases (MS-SMB2 3.3.1.4) and oplocks (3.3.1.10), one model for both as
//! Windows and Samba have it: an oplock is a lease of one open (batch = read, handle and write
//! caching; exclusive = read and write; level II = read).
//!
//! When caching must be broken follows MS-FSA 2.1.4.12 and 2.1.5.17: a new open of a file takes
//! write caching from every other holder, and handle caching too when it would otherwise fail
//! on sharing; overwriting the file takes everything; a write or a size change takes read
//! caching from the other holders. A break from a state with write or handle caching waits for
//! the holder's acknowledgment (3.3.4.7), and so does the open that caused it, for at most
//! [`BREAK_TIMEOUT`]. This module is pure state; the file table keeps it under its lock and
//! handlers send the breaks it decides.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::engine::files::{FileKey, OpenRef, SharedOpen, access};
use crate::proto::NtStatus;

/// MS-SMB2 2.2.13.2.8 LeaseState bits.
pub mod state {
    pub const NONE: u32 = 0;
    pub const READ: u32 = 0x01;
    pub const HANDLE: u32 = 0x02;
    pub const WRITE: u32 = 0x04;
}

/// MS-SMB2 2.2.13 RequestedOplockLevel / 2.2.14 OplockLevel.
pub mod oplock_level {
    pub const NONE: u8 = 0x00;
    pub const II: u8 = 0x01;
    pub const EXCLUSIVE: u8 = 0x08;
    pub const BATCH: u8 = 0x09;
    pub const LEASE: u8 = 0xFF;
}

/// How long a break may go unacknowledged before the server takes the caching away itself
/// (MS-SMB2 3.3.2.5, the oplock break acknowledgment timer: 35 seconds on Windows).
pub const BREAK_TIMEOUT: Duration = Duration::from_secs(35);

/// A lease's identity: the client's GUID and the key it chose (MS-SMB2 3.3.1.4 LeaseTable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseId {
    pub client_guid: [u8; 16],
    pub key: [u8; 16],
}

/// One lease (MS-SMB2 3.3.1.4 Lease).
#[derive(Clone, Debug)]
pub struct Lease {
    pub file: FileKey,
    pub state: u32,
    /// While a break waits for its acknowledgment: the state it breaks to, and until when.
    pub breaking: Option<(u32, Instant)>,
    pub epoch: u16,
    /// 1 (SMB 2.1) or 2 (SMB 3).
    pub version: u8,
    pub parent: Option<[u8; 16]>,
    /// The opens that hold it.
    pub holders: Vec<OpenRef>,
}

/// What one open caches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Caching {
    #[default]
    None,
    Lease(LeaseId),
    /// An oplock: its level and, while breaking, the level it breaks to and until when.
    Oplock {
        level: u8,
        breaking: Option<(u8, Instant)>,
    },
}

/// The caching asked for in a CREATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    None,
    Oplock(u8),
    Lease { id: LeaseId, state: u32, version: u8, parent: Option<[u8; 16]>, epoch: u16 },
}

/// The caching granted by a CREATE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    pub oplock_level: u8,
    pub lease: Option<LeaseGrant>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseGrant {
    pub key: [u8; 16],
    pub state: u32,
    pub break_in_progress: bool,
    pub epoch: u16,
    pub version: u8,
    pub parent: Option<[u8; 16]>,
}

/// A break notification to send (MS-SMB2 2.2.23).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Break {
    /// To the connection of `via` (an open holding the lease).
    Lease {
        via: OpenRef,
        key: [u8; 16],
        from: u32,
        to: u32,
        ack_required: bool,
        epoch: u16,
        version: u8,
    },
    Oplock {
        owner: OpenRef,
        level: u8,
    },
}

/// Every lease of the server, by identity.
#[derive(Debug, Default)]
pub struct Leases {
    leases: HashMap<LeaseId, Lease>,
}

/// Access that touches data: opens without it ("stat opens") break no caching (MS-FSA 2.1.5.1.2).
const DATA_ACCESS: u32 =
    access::FILE_READ_DATA | access::FILE_WRITE_DATA | access::FILE_APPEND_DATA | access::FILE_EXECUTE | access::DELETE;

/// What a "stat open" may ask for: attributes and synchronize only. Any other access, even to
/// extended attributes or the security descriptor, breaks other opens' caching (smbtorture's
/// oplock.statopen1 pins down Windows' list).
const STAT_ACCESS: u32 = access::FILE_READ_ATTRIBUTES | access::FILE_WRITE_ATTRIBUTES | access::SYNCHRONIZE;

fn is_stat_open(access: u32) -> bool {
    access & !STAT_ACCESS == 0
}

fn oplock_state(level: u8) -> u32 {
    match level {
        oplock_level::BATCH => state::READ | state::HANDLE | state::WRITE,
        oplock_level::EXCLUSIVE => state::READ | state::WRITE,
        oplock_level::II => state::READ,
        _ => state::NONE,
    }
}

fn oplock_for(state: u32) -> u8 {
    if state & state::READ != 0 { oplock_level::II } else { oplock_level::NONE }
}

/// What a new open intends, for deciding the breaks it causes.
#[derive(Clone, Copy, Debug)]
pub struct Intent {
    pub owner: OpenRef,
    pub lease: Option<LeaseId>,
    pub access: u32,
    pub share: u32,
    /// Overwrite or supersede: the file's data goes.
    pub overwrite: bool,
}

impl Leases {
    pub fn get(&self, id: &LeaseId) -> Option<&Lease> {
        self.leases.get(id)
    }

    /// A lease key names one file only (MS-SMB2 3.3.5.9.8: STATUS_INVALID_PARAMETER otherwise).
    pub fn check_key(&self, id: &LeaseId, file: FileKey) -> Result<(), NtStatus> {
        match self.leases.get(id) {
            Some(lease) if lease.file != file => Err(NtStatus::INVALID_PARAMETER),
            _ => Ok(()),
        }
    }

    /// The breaks a new open of a file causes in its other opens' caching, applied to the state
    /// (a break that needs no acknowledgment takes effect at once). Returns the breaks to send
    /// and whether the open must wait for acknowledgments.
    pub fn break_for_open(
        &mut self,
        opens: &mut [SharedOpen],
        intent: &Intent,
        sharing_conflict: impl Fn(&SharedOpen) -> bool,
        now: Instant,
    ) -> (Vec<Break>, bool) {
        let mut breaks = Vec::new();
        // A stat open breaks nothing; what counts as one differs for leases and for oplocks
        // (smbtorture's lease.statopen4 and oplock.statopen1 pin Windows' lists down).
        let breaks_leases = !is_stat_open(intent.access & !access::READ_CONTROL) || intent.overwrite;
        let breaks_oplocks = !is_stat_open(intent.access) || intent.overwrite;
        if breaks_leases || breaks_oplocks {
            let mut seen = Vec::new();
            for index in 0..opens.len() {
                let (owner, caching) = (opens[index].owner, opens[index].caching);
                if owner == intent.owner {
                    continue;
                }
                match caching {
                    Caching::Lease(id) if Some(id) != intent.lease && !seen.contains(&id) && breaks_leases => {
                        seen.push(id);
                        let conflict = opens.iter().any(|o| o.caching == Caching::Lease(id) && sharing_conflict(o));
                        if let Some(lease) = self.leases.get_mut(&id) {
                            // An open that conflicts with the holder's sharing first takes only
                            // its handle caching: until the holder closes, it fails anyway.
                            let target = if conflict && lease.state & state::HANDLE != 0 && !intent.overwrite {
                                lease.state & !state::HANDLE
                            } else {
                                target_state(lease.state, intent, conflict)
                            };
                            if let Some(b) = start_lease_break(lease, target, owner, &id, now) {
                                breaks.push(b);
                            }
                        }
                    }
                    Caching::Oplock { level, breaking } if breaks_oplocks => {
                        let current = breaking.map_or(level, |(to, _)| to);
                        let conflict = sharing_conflict(&opens[index]);
                        let target = oplock_for(target_state(oplock_state(current), intent, conflict));
                        let target = if target == oplock_level::NONE || current == oplock_level::II {
                            target
                        } else {
                            oplock_level::II
                        };
                        if let Some(b) = start_oplock_break(&mut opens[index], target, now) {
                            breaks.push(b);
                        }
                    }
                    _ => {}
                }
            }
        }
        (breaks, self.waits(opens, intent.lease))
    }

    /// The breaks a write, size change or byte-range lock through `writer` causes: the other
    /// holders lose read caching, and so does the writer's own level II oplock (MS-FSA
    /// 2.1.4.12). Writes do not wait for acknowledgments.
    pub fn break_for_write(&mut self, opens: &mut [SharedOpen], writer: OpenRef, now: Instant) -> Vec<Break> {
        let writer_lease = opens.iter().find(|o| o.owner == writer).and_then(|o| match o.caching {
            Caching::Lease(id) => Some(id),
            _ => None,
        });
        let mut breaks = Vec::new();
        let mut seen = Vec::new();
        for open in opens.iter_mut() {
            let (owner, caching) = (open.owner, open.caching);
            let own_level_two = matches!(caching, Caching::Oplock { level: oplock_level::II, breaking: None });
            if owner == writer && !own_level_two {
                continue;
            }
            match caching {
                Caching::Lease(id) if Some(id) != writer_lease && !seen.contains(&id) => {
                    seen.push(id);
                    if let Some(lease) = self.leases.get_mut(&id) {
                        let current = lease.breaking.map_or(lease.state, |(to, _)| to);
                        if current & state::READ != 0
                            && let Some(b) = start_lease_break(lease, state::NONE, owner, &id, now)
                        {
                            breaks.push(b);
                        }
                    }
                }
                Caching::Oplock { level, breaking } if breaking.map_or(level, |(to, _)| to) != oplock_level::NONE => {
                    if let Some(b) = start_oplock_break(open, oplock_level::NONE, now) {
                        breaks.push(b);
                    }
                }
                _ => {}
            }
        }
        breaks
    }

    /// Whether a break another holder has yet to acknowledge stands in the way of an open.
    pub fn waits(&self, opens: &[SharedOpen], own: Option<LeaseId>) -> bool {
        opens.iter().any(|open| match open.caching {
            Caching::Lease(id) => Some(id) != own && self.leases.get(&id).is_some_and(|l| l.breaking.is_some()),
            Caching::Oplock { breaking, .. } => breaking.is_some(),
            Caching::None => false,
        })
    }

    /// Ends breaks whose acknowledgment is overdue: an oplock as if acknowledged at its target
    /// level, a lease with no caching left.
    /// Returns whether any ended.
    pub fn expire(&mut self, opens: &mut [SharedOpen], now: Instant) -> bool {
        let mut ended = false;
        for open in opens.iter_mut() {
            match &mut open.caching {
                Caching::Lease(id) => {
                    // A lease whose holder does not acknowledge in time loses all its caching,
                    // whatever the break was to (Windows; smbtorture's lease.timeout).
                    if let Some(lease) = self.leases.get_mut(id)
                        && let Some((_, deadline)) = lease.breaking
                        && deadline <= now
                    {
                        lease.state = state::NONE;
                        lease.breaking = None;
                        ended = true;
                    }
                }
                Caching::Oplock { level, breaking } => {
                    if let Some((to, deadline)) = *breaking
                        && deadline <= now
                    {
                        *level = to;
                        *breaking = None;
                        ended = true;
                    }
                }
                Caching::None => {}
            }
        }
        ended
    }

    /// The earliest deadline of a break in progress among these opens.
    pub fn next_deadline(&self, opens: &[SharedOpen]) -> Option<Instant> {
        opens
            .iter()
            .filter_map(|open| match open.caching {
                Caching::Lease(id) => self.leases.get(&id).and_then(|l| l.breaking.map(|(_, d)| d)),
                Caching::Oplock { breaking, .. } => breaking.map(|(_, d)| d),
                Caching::None => None,
            })
            .min()
    }

    /// Grants caching to a new open (already in `opens`), as much of the request as the other
    /// opens allow (MS-SMB2 3.3.5.9.8 and 3.3.5.9.11; MS-FSA 2.1.5.17). Directories get none:
    /// directory leasing is not offered.
    pub fn grant(
        &mut self,
        file: FileKey,
        opens: &mut [SharedOpen],
        owner: OpenRef,
        request: Request,
        is_directory: bool,
    ) -> Grant {
        let own_lease = match request {
            Request::Lease { id, .. } => Some(id),
            _ => None,
        };
        // Opens that keep this one from caching writes: any other open with data access, and
        // any other open caching reads (a stat open's lease too: smbtorture's lease.statopen).
        let others_with_data = opens.iter().any(|o| {
            o.owner != owner
                && own_lease.is_none_or(|id| o.caching != Caching::Lease(id))
                && (o.access & DATA_ACCESS != 0
                    || match o.caching {
                        Caching::Lease(id) => self.leases.get(&id).is_some_and(|l| l.state != state::NONE),
                        Caching::Oplock { level, .. } => level != oplock_level::NONE,
                        Caching::None => false,
                    })
        });
        // Opens of the file that are not this lease's: while there are any, a lease that exists
        // is upgraded only to all it asks for, or not at all (smbtorture's lease.upgrade3).
        let others_outside =
            own_lease.is_some_and(|id| opens.iter().any(|o| o.owner != owner && o.caching != Caching::Lease(id)));
        // Another holder still caching writes (its break not yet acknowledged) allows nothing.
        let others_write = opens.iter().any(|o| {
            o.owner != owner
                && match o.caching {
                    Caching::Lease(id) => {
                        Some(id) != own_lease && self.leases.get(&id).is_some_and(|l| l.state & state::WRITE != 0)
                    }
                    Caching::Oplock { level, .. } => oplock_state(level) & state::WRITE != 0,
                    Caching::None => false,
                }
        });
        let allowed = if others_write {
            state::NONE
        } else if others_with_data {
            state::READ | state::HANDLE
        } else {
            state::READ | state::HANDLE | state::WRITE
        };
        // Oplocks and handle caching by leases do not mix (smbtorture's lease.oplock): beside an
        // oplock a lease caches no handle, and beside a lease caching handles an oplock is refused.
        let others_oplock = opens.iter().any(|o| {
            o.owner != owner && matches!(o.caching, Caching::Oplock { level, .. } if level != oplock_level::NONE)
        });
        let others_handle_lease = opens.iter().any(|o| {
            o.owner != owner
                && matches!(o.caching, Caching::Lease(id)
                    if Some(id) != own_lease && self.leases.get(&id).is_some_and(|l| l.state & state::HANDLE != 0))
        });
        let Some(index) = opens.iter().position(|o| o.owner == owner) else { return Grant::default() };
        match request {
            Request::None => Grant::default(),
            _ if is_directory => Grant::default(),
            Request::Oplock(_) if others_handle_lease => Grant::default(),
            Request::Oplock(requested) => {
                let level = match requested {
                    oplock_level::BATCH | oplock_level::EXCLUSIVE if allowed & state::WRITE != 0 => requested,
                    oplock_level::BATCH | oplock_level::EXCLUSIVE | oplock_level::II if allowed & state::READ != 0 => {
                        oplock_level::II
                    }
                    _ => oplock_level::NONE,
                };
                if level != oplock_level::NONE {
                    opens[index].caching = Caching::Oplock { level, breaking: None };
                }
                Grant { oplock_level: level, lease: None }
            }
            Request::Lease { id, state: requested, version, parent, epoch } => {
                // Valid requests are R, RH, RW and RWH (MS-SMB2 3.3.5.9.8); anything else gets none.
                let requested = requested & (state::READ | state::HANDLE | state::WRITE);
                let requested = if requested & state::READ == 0 { state::NONE } else { requested };
                let lease = self.leases.entry(id).or_insert_with(|| Lease {
                    file,
                    state: state::NONE,
                    breaking: None,
                    epoch: if version >= 2 { epoch } else { 0 },
                    version,
                    parent,
                    holders: Vec::new(),
                });
                let existed = !lease.holders.is_empty();
                lease.holders.push(owner);
                opens[index].caching = Caching::Lease(id);
                let allowed = if others_oplock { allowed & !state::HANDLE } else { allowed };
                let wanted = requested & allowed;
                // A lease only grows through a create: to a superset of what it holds.
                if lease.breaking.is_none()
                    && wanted != lease.state
                    && wanted & lease.state == lease.state
                    && !(existed && others_outside && requested & !allowed != 0)
                {
                    lease.state = wanted;
                    if lease.version >= 2 {
                        lease.epoch = lease.epoch.wrapping_add(1);
                    }
                }
                Grant {
                    oplock_level: oplock_level::LEASE,
                    lease: Some(LeaseGrant {
                        key: id.key,
                        state: lease.state,
                        break_in_progress: lease.breaking.is_some(),
                        epoch: lease.epoch,
                        version: lease.version,
                        parent: lease.parent,
                    }),
                }
            }
        }
    }

    /// A lease break acknowledgment (MS-SMB2 3.3.5.22.2).
    pub fn acknowledge(&mut self, id: &LeaseId, acknowledged: u32) -> Result<(FileKey, u32), NtStatus> {
        let lease = self.leases.get_mut(id).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        let Some((to, _)) = lease.breaking else { return Err(NtStatus::UNSUCCESSFUL) };
        if acknowledged & !to != 0 {
            return Err(NtStatus::REQUEST_NOT_ACCEPTED);
        }
        lease.state = acknowledged;
        lease.breaking = None;
        Ok((lease.file, lease.state))
    }

    /// Whether an open caches its handle: a batch oplock, or a lease with handle caching (also
    /// while breaking, until the break is acknowledged).
    pub fn caches_handle(&self, open: &SharedOpen) -> bool {
        match open.caching {
            Caching::Oplock { level, .. } => level == oplock_level::BATCH,
            Caching::Lease(id) => self.leases.get(&id).is_some_and(|lease| lease.state & state::HANDLE != 0),
            Caching::None => false,
        }
    }

    /// An open moves to another owner (see `FileTable::rehome`).
    pub fn rehome(&mut self, from: OpenRef, to: OpenRef) {
        for lease in self.leases.values_mut() {
            for holder in lease.holders.iter_mut().filter(|h| **h == from) {
                *holder = to;
            }
        }
    }

    /// An open goes: it stops holding its lease, which ends with its last holder. Returns
    /// whether a break in progress ended with it.
    pub fn release(&mut self, open: &SharedOpen) -> bool {
        let Caching::Lease(id) = open.caching else {
            return matches!(open.caching, Caching::Oplock { breaking: Some(_), .. });
        };
        let Some(lease) = self.leases.get_mut(&id) else { return false };
        lease.holders.retain(|h| *h != open.owner);
        if lease.holders.is_empty() {
            let lease = self.leases.remove(&id).expect("present");
            return lease.breaking.is_some();
        }
        false
    }
}

/// The state a holder keeps when `intent` opens the file.
fn target_state(current: u32, intent: &Intent, sharing_conflict: bool) -> u32 {
    if intent.overwrite {
        return state::NONE;
    }
    let mut target = current & !state::WRITE;
    if sharing_conflict {
        target &= !state::HANDLE;
    }
    target
}

fn start_lease_break(lease: &mut Lease, target: u32, via: OpenRef, id: &LeaseId, now: Instant) -> Option<Break> {
    let current = lease.breaking.map_or(lease.state, |(to, _)| to);
    let target = target & current;
    if target == current {
        return None;
    }
    // Breaking from write or handle caching needs the holder's acknowledgment (MS-SMB2 3.3.4.7).
    let ack_required = current & (state::WRITE | state::HANDLE) != 0;
    if lease.version >= 2 {
        lease.epoch = lease.epoch.wrapping_add(1);
    }
    let from = lease.state;
    if ack_required {
        let deadline = lease.breaking.map_or(now + BREAK_TIMEOUT, |(_, d)| d);
        lease.breaking = Some((target, deadline));
    } else if lease.breaking.is_some() {
        lease.breaking = Some((target, lease.breaking.expect("breaking").1));
    } else {
        lease.state = target;
    }
    Some(Break::Lease { via, key: id.key, from, to: target, ack_required, epoch: lease.epoch, version: lease.version })
}

fn start_oplock_break(open: &mut SharedOpen, target: u8, now: Instant) -> Option<Break> {
    let Caching::Oplock { level, breaking } = &mut open.caching else { return None };
    let current = breaking.map_or(*level, |(to, _)| to);
    if current == target || (current == oplock_level::II && target != oplock_level::NONE) {
        return None;
    }
    if current == oplock_level::II {
        // Level II breaks to none without an acknowledgment.
        *level = oplock_level::NONE;
        *breaking = None;
        open.caching = Caching::None;
    } else {
        let deadline = breaking.map_or(now + BREAK_TIMEOUT, |(_, d)| d);
        *breaking = Some((target, deadline));
    }
    Some(Break::Oplock { owner: open.owner, level: target })
}

/// An oplock break acknowledgment (MS-SMB2 3.3.5.22.1): the level must not exceed the one the
/// break went to. Returns the new level.
pub fn acknowledge_oplock(open: &mut SharedOpen, acknowledged: u8) -> Result<u8, NtStatus> {
    let Caching::Oplock { breaking: Some((to, _)), .. } = open.caching else {
        return Err(NtStatus::INVALID_OPLOCK_PROTOCOL);
    };
    let level = match (to, acknowledged) {
        (oplock_level::II, oplock_level::II | oplock_level::NONE) => acknowledged,
        (oplock_level::NONE, oplock_level::NONE) => oplock_level::NONE,
        _ => return Err(NtStatus::INVALID_OPLOCK_PROTOCOL),
    };
    open.caching = if level == oplock_level::NONE { Caching::None } else { Caching::Oplock { level, breaking: None } };
    Ok(level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ids::{ConnectionId, SessionId};
    use crate::proto::create::share_access;

    const FILE: FileKey = FileKey { device: 1, inode: 1 };

    fn owner(volatile: u64) -> OpenRef {
        OpenRef { connection: ConnectionId(volatile), volatile }
    }

    fn open(volatile: u64, access: u32) -> SharedOpen {
        SharedOpen {
            owner: OpenRef { connection: ConnectionId(volatile), volatile },
            access,
            share: share_access::ALL,
            session_id: SessionId(1),
            user: "u".into(),
            is_directory: false,
            caching: Caching::None,
        }
    }

    fn lease(key: u8, state: u32) -> Request {
        Request::Lease {
            id: LeaseId { client_guid: [key; 16], key: [key; 16] },
            state,
            version: 2,
            parent: None,
            epoch: 0,
        }
    }

    fn intent(volatile: u64, lease: Option<u8>) -> Intent {
        Intent {
            owner: OpenRef { connection: ConnectionId(volatile), volatile },
            lease: lease.map(|k| LeaseId { client_guid: [k; 16], key: [k; 16] }),
            access: access::FILE_READ_DATA,
            share: share_access::ALL,
            overwrite: false,
        }
    }

    const RWH: u32 = state::READ | state::WRITE | state::HANDLE;
    const RH: u32 = state::READ | state::HANDLE;

    #[test]
    fn a_sole_opener_gets_the_lease_it_asks_for() {
        let mut leases = Leases::default();
        let mut opens = vec![open(1, access::FILE_READ_DATA)];
        let grant = leases.grant(FILE, &mut opens, owner(1), lease(1, RWH), false);
        assert_eq!(grant.oplock_level, oplock_level::LEASE);
        assert_eq!(grant.lease.unwrap().state, RWH);
        assert_eq!(grant.lease.unwrap().epoch, 1, "a v2 lease's epoch counts its changes");
    }

    #[test]
    fn invalid_lease_requests_get_no_caching() {
        let mut leases = Leases::default();
        let mut opens = vec![open(1, access::FILE_READ_DATA)];
        let grant = leases.grant(FILE, &mut opens, owner(1), lease(1, state::WRITE | state::HANDLE), false);
        assert_eq!(grant.lease.unwrap().state, state::NONE);
    }

    #[test]
    fn a_second_opener_breaks_write_caching_and_waits_for_the_acknowledgment() {
        let mut leases = Leases::default();
        let now = Instant::now();
        let mut opens = vec![open(1, access::FILE_READ_DATA)];
        leases.grant(FILE, &mut opens, owner(1), lease(1, RWH), false);
        let (breaks, wait) = leases.break_for_open(&mut opens, &intent(2, Some(2)), |_| false, now);
        assert!(wait);
        assert!(matches!(breaks[..], [Break::Lease { from: RWH, to: RH, ack_required: true, .. }]));
        let id = LeaseId { client_guid: [1; 16], key: [1; 16] };
        assert_eq!(leases.acknowledge(&id, RWH), Err(NtStatus::REQUEST_NOT_ACCEPTED));
        assert_eq!(leases.acknowledge(&id, RH).unwrap().1, RH);
        assert!(!leases.waits(&opens, None));
        assert_eq!(leases.acknowledge(&id, RH), Err(NtStatus::UNSUCCESSFUL), "no break in progress");
        opens.push(open(2, access::FILE_READ_DATA));
        let grant = leases.grant(FILE, &mut opens, owner(2), lease(2, RWH), false);
        assert_eq!(grant.lease.unwrap().state, RH, "shared: read and handle caching only");
    }

    #[test]
    fn a_sharing_conflict_breaks_handle_caching_too() {
        let mut leases = Leases::default();
        let mut opens = vec![open(1, access::FILE_READ_DATA)];
        leases.grant(FILE, &mut opens, owner(1), lease(1, RH), false);
        let (breaks, wait) = leases.break_for_open(&mut opens, &intent(2, None), |_| true, Instant::now());
        assert!(wait);
        assert!(matches!(breaks[..], [Break::Lease { from: RH, to: state::READ, ack_required: true, .. }]));
    }

    #[test]
    fn read_caching_breaks_at_a_write_without_an_acknowledgment() {
        let mut leases = Leases::default();
        let mut opens = vec![open(1, access::FILE_READ_DATA), open(2, access::FILE_WRITE_DATA)];
        leases.grant(FILE, &mut opens, owner(1), lease(1, state::READ), false);
        let breaks = leases.break_for_write(&mut opens, owner(2), Instant::now());
        assert!(matches!(breaks[..], [Break::Lease { from: state::READ, to: state::NONE, ack_required: false, .. }]));
        assert!(!leases.waits(&opens, None));
        let id = LeaseId { client_guid: [1; 16], key: [1; 16] };
        assert_eq!(leases.get(&id).unwrap().state, state::NONE);
    }

    #[test]
    fn a_level_two_holder_writing_loses_its_own_oplock() {
        let mut leases = Leases::default();
        let mut opens = vec![open(1, access::FILE_WRITE_DATA)];
        opens[0].caching = Caching::Oplock { level: oplock_level::II, breaking: None };
        let breaks = leases.break_for_write(&mut opens, owner(1), Instant::now());
        assert!(matches!(breaks[..], [Break::Oplock { level: oplock_level::NONE, .. }]));
        assert_eq!(opens[0].caching, Caching::None);
    }

    #[test]
    fn an_unacknowledged_break_ends_at_its_deadline() {
        let mut leases = Leases::default();
        let now = Instant::now();
        let mut opens = vec![open(1, access::FILE_READ_DATA)];
        leases.grant(FILE, &mut opens, owner(1), lease(1, RWH), false);
        leases.break_for_open(&mut opens, &intent(2, None), |_| false, now);
        assert!(!leases.expire(&mut opens, now));
        assert!(leases.expire(&mut opens, now + BREAK_TIMEOUT));
        assert!(!leases.waits(&opens, None));
    }

    #[test]
    fn stat_opens_break_nothing() {
        let mut leases = Leases::default();
        let mut opens = vec![open(1, access::FILE_READ_DATA)];
        leases.grant(FILE, &mut opens, owner(1), lease(1, RWH), false);
        let stat = Intent { access: access::FILE_READ_ATTRIBUTES, ..intent(2, None) };
        let (breaks, wait) = leases.break_for_open(&mut opens, &stat, |_| false, Instant::now());
        assert!(breaks.is_empty() && !wait);
    }

    #[test]
    fn a_batch_oplock_breaks_to_level_two_and_an_overwrite_to_none() {
        let mut leases = Leases::default();
        let mut opens = vec![open(1, access::FILE_READ_DATA)];
        let grant = leases.grant(FILE, &mut opens, owner(1), Request::Oplock(oplock_level::BATCH), false);
        assert_eq!(grant.oplock_level, oplock_level::BATCH);
        let (breaks, wait) = leases.break_for_open(&mut opens, &intent(2, None), |_| false, Instant::now());
        assert!(wait && matches!(breaks[..], [Break::Oplock { level: oplock_level::II, .. }]));
        assert_eq!(acknowledge_oplock(&mut opens[0], oplock_level::BATCH), Err(NtStatus::INVALID_OPLOCK_PROTOCOL));
        assert_eq!(acknowledge_oplock(&mut opens[0], oplock_level::II), Ok(oplock_level::II));
        let overwrite = Intent { overwrite: true, ..intent(3, None) };
        let (breaks, wait) = leases.break_for_open(&mut opens, &overwrite, |_| false, Instant::now());
        assert!(!wait && matches!(breaks[..], [Break::Oplock { level: oplock_level::NONE, .. }]));
    }

    #[test]
    fn a_lease_key_names_one_file() {
        let mut leases = Leases::default();
        let mut opens = vec![open(1, access::FILE_READ_DATA)];
        leases.grant(FILE, &mut opens, owner(1), lease(1, RWH), false);
        let id = LeaseId { client_guid: [1; 16], key: [1; 16] };
        assert_eq!(leases.check_key(&id, FileKey { device: 9, inode: 9 }), Err(NtStatus::INVALID_PARAMETER));
        assert_eq!(leases.check_key(&id, FILE), Ok(()));
        assert!(!leases.release(&opens[0]));
        assert!(leases.get(&id).is_none(), "the lease ends with its last open");
    }
}
