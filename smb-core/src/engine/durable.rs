//! Durable opens (MS-SMB2 3.3.1.10 Open.IsDurable, 3.3.5.9.6 - 3.3.5.9.12, 3.3.7.1): an open
//! its client may reclaim on a new connection after losing one. While its connection lives, the
//! table knows where it is (for reconnects and for CREATE replays by CreateGuid); when the
//! connection is lost, the open itself moves here with its file handle, locks and caching
//! intact, until its client reclaims it or its timeout ends it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::os::fd::AsFd;

use crate::engine::clock::Now;
use crate::engine::config::same_name;
use crate::engine::connection::Connection;
use crate::engine::dispatch::{Done, Error, Outcome, Request};
use crate::engine::events::Event;
use crate::engine::files::{FileKey, FileTable, OpenRef};
use crate::engine::ids::{ConnectionId, SessionId};
use crate::engine::leases::{Break, Caching, Grant, oplock_level, state};
use crate::engine::session::{Open, TreeKind};
use crate::engine::shared::{Control, ShareRuntime, Shared, lock};
use crate::proto::create::{
    CreateContext, CreateRequest, CreateResponse, DURABLE_PERSISTENT, DurableContext, LeaseContext, context_name,
    create_action, durable_response, durable_response_v2, lease_flags,
};
use crate::proto::negotiate::capabilities;
use crate::proto::{NtStatus, Writer};
use crate::vfs::local;

/// The durable handle version a client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// SMB2_CREATE_DURABLE_HANDLE_REQUEST (MS-SMB2 2.2.13.2.3).
    V1,
    /// SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2 (MS-SMB2 2.2.13.2.11).
    V2,
}

/// What makes an open durable (MS-SMB2 3.3.1.10: Open.IsDurable, DurableOpenTimeout,
/// CreateGuid, ClientGuid, AppInstanceId, IsPersistent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Terms {
    pub version: Version,
    /// V2 only (zero for V1).
    pub create_guid: [u8; 16],
    pub client_guid: [u8; 16],
    pub timeout: Duration,
    pub app_instance: Option<[u8; 16]>,
    pub persistent: bool,
}

impl Terms {
    /// The response context that grants these terms (MS-SMB2 2.2.14.2.3, 2.2.14.2.12).
    pub(crate) fn response(&self) -> CreateContext {
        match self.version {
            Version::V1 => durable_response(),
            Version::V2 => durable_response_v2(
                self.timeout.as_millis() as u32,
                if self.persistent { crate::proto::create::DURABLE_PERSISTENT } else { 0 },
            ),
        }
    }
}

/// Where a durable open is.
pub(crate) enum Place {
    /// Served by a live connection.
    Attached { connection: ConnectionId, session_id: SessionId },
    /// Its connection was lost: waiting for its client.
    Disconnected(Box<Kept>),
}

/// A durable open whose connection was lost, with everything a reconnect needs.
pub(crate) struct Kept {
    pub open: Open,
    pub share: Arc<ShareRuntime>,
    /// Its owner in the file table: still the lost connection's, until it is reclaimed.
    pub owner: OpenRef,
    /// When the scavenger closes it (MS-SMB2 3.3.2.x, the durable open scavenger timer).
    pub until: Instant,
    /// The address of the client that lost it, for the console.
    pub client: std::net::SocketAddr,
}

pub(crate) struct Entry {
    pub terms: Terms,
    /// Whether the open is durable; if not, it is here only to answer replays of its CREATE
    /// (a DH2Q CreateGuid counts even when durability was not granted, MS-SMB2 3.3.5.9.10).
    pub durable: bool,
    /// The CREATE response as first sent, while the open is eligible for replay: until a
    /// request names it (MS-SMB2 3.3.5.2.x, Open.IsReplayEligible).
    pub original: Option<Box<CreateResponse>>,
    /// While a reconnect waits for the connection still holding the open to let go: until when.
    pub reclaim_until: Option<Instant>,
    /// The reconnects waiting (woken when the open is let go or closed).
    pub claimants: Vec<crate::engine::ids::Waiter>,
    /// The user who opened it: only that user may reclaim it.
    pub user: String,
    pub share: String,
    pub place: Place,
}

/// Every durable open of the server, by persistent file id.
#[derive(Default)]
pub(crate) struct DurableTable {
    entries: HashMap<u64, Entry>,
    by_create_guid: HashMap<[u8; 16], u64>,
}

impl DurableTable {
    /// A durable open granted (or reclaimed) on a live connection.
    pub(crate) fn attach(&mut self, persistent: u64, entry: Entry) {
        if entry.terms.version == Version::V2 {
            self.by_create_guid.insert(entry.terms.create_guid, persistent);
        }
        self.entries.insert(persistent, entry);
    }

    /// The open ended (closed, or scavenged).
    pub(crate) fn forget(&mut self, persistent: u64) -> Option<Entry> {
        let entry = self.entries.remove(&persistent)?;
        if self.by_create_guid.get(&entry.terms.create_guid) == Some(&persistent) {
            self.by_create_guid.remove(&entry.terms.create_guid);
        }
        Some(entry)
    }

    pub(crate) fn get(&self, persistent: u64) -> Option<&Entry> {
        self.entries.get(&persistent)
    }

    /// The open a CREATE with this CreateGuid made (MS-SMB2 3.3.5.9.10).
    pub(crate) fn by_create_guid(&self, create_guid: &[u8; 16]) -> Option<(u64, &Entry)> {
        let persistent = *self.by_create_guid.get(create_guid)?;
        self.entries.get(&persistent).map(|entry| (persistent, entry))
    }

    /// The open's connection was lost: it waits here for its client.
    /// Returns the reconnects that waited for it, to wake.
    pub(crate) fn disconnect(&mut self, persistent: u64, kept: Kept) -> Vec<crate::engine::ids::Waiter> {
        match self.entries.get_mut(&persistent) {
            Some(entry) => {
                entry.place = Place::Disconnected(Box::new(kept));
                entry.reclaim_until = None;
                std::mem::take(&mut entry.claimants)
            }
            None => Vec::new(),
        }
    }

    /// A session's home channel was lost and `to` serves it now (MS-SMB2 3.3.7.1): its durable
    /// opens are attached there.
    pub(crate) fn move_session(&mut self, session: SessionId, from: ConnectionId, to: ConnectionId) {
        for entry in self.entries.values_mut() {
            if let Place::Attached { connection, session_id } = &mut entry.place
                && *connection == from
                && *session_id == session
            {
                *connection = to;
            }
        }
    }

    /// A reconnect waits for the open `persistent` to be let go.
    pub(crate) fn claim(&mut self, persistent: u64, waiter: crate::engine::ids::Waiter) -> Option<Instant> {
        let entry = self.entries.get_mut(&persistent)?;
        if !entry.claimants.contains(&waiter) {
            entry.claimants.push(waiter);
        }
        entry.reclaim_until
    }

    /// A waiting open reclaimed by its client on `connection`: its entry is attached there and
    /// the open handed over.
    pub(crate) fn reclaim(&mut self, persistent: u64, connection: ConnectionId, session_id: SessionId) -> Option<Kept> {
        let entry = self.entries.get_mut(&persistent)?;
        if !matches!(entry.place, Place::Disconnected(_)) {
            return None;
        }
        match std::mem::replace(&mut entry.place, Place::Attached { connection, session_id }) {
            Place::Disconnected(kept) => Some(*kept),
            Place::Attached { .. } => None,
        }
    }

    /// Ends a waiting open's wait (a conflicting open, or an administrator): it is handed over
    /// for closing.
    pub(crate) fn purge(&mut self, persistent: u64) -> Option<Kept> {
        if !matches!(self.entries.get(&persistent)?.place, Place::Disconnected(_)) {
            return None;
        }
        match self.forget(persistent)?.place {
            Place::Disconnected(kept) => Some(*kept),
            Place::Attached { .. } => None,
        }
    }

    /// Whether `owner` is an open waiting for its client (nobody can acknowledge its breaks).
    pub(crate) fn is_waiting(&self, owner: OpenRef) -> bool {
        self.entries
            .get(&owner.volatile)
            .is_some_and(|entry| matches!(&entry.place, Place::Disconnected(kept) if kept.owner == owner))
    }

    /// Removes the waiting opens whose time is up, for closing.
    pub(crate) fn expired(&mut self, now: Instant) -> Vec<Kept> {
        let due: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, entry)| matches!(&entry.place, Place::Disconnected(kept) if kept.until <= now))
            .map(|(id, _)| *id)
            .collect();
        due.into_iter()
            .filter_map(|id| match self.forget(id)?.place {
                Place::Disconnected(kept) => Some(*kept),
                Place::Attached { .. } => None,
            })
            .collect()
    }

    /// The waiting opens, for the console: persistent id, user, share, path, since, until.
    pub(crate) fn waiting(&self) -> impl Iterator<Item = (u64, &Entry, &Kept)> {
        self.entries.iter().filter_map(|(id, entry)| match &entry.place {
            Place::Disconnected(kept) => Some((*id, entry, kept.as_ref())),
            Place::Attached { .. } => None,
        })
    }

    /// The persistent ids of the durable opens (not those kept only for replays), and whether
    /// each is persistent.
    pub(crate) fn durable_ids(&self) -> impl Iterator<Item = (u64, bool)> + '_ {
        self.entries.iter().filter(|(_, entry)| entry.durable).map(|(id, entry)| (*id, entry.terms.persistent))
    }

    /// A request used the open: replays of its CREATE are no longer answered with it.
    pub(crate) fn settle(&mut self, persistent: u64) {
        if let Some(entry) = self.entries.get_mut(&persistent) {
            entry.original = None;
        }
    }
}

/// How long a reconnect waits for another connection still holding its open to let go.
pub(crate) const RECLAIM_WAIT: Duration = Duration::from_secs(2);

/// How long an open whose client asked for no particular timeout is kept, unless configured
/// otherwise (MS-SMB2 3.3.5.9.10: implementation-specific; Samba keeps such v2 opens a minute).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest a client may ask for (Windows' and Samba's limit, 300 seconds).
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// Whether an open's caching makes it durable: a batch oplock, or a lease with handle caching
/// (MS-SMB2 3.3.5.9.6, 3.3.5.9.10). Checked when it is granted and again when its connection is
/// lost: an open whose caching was broken below that is closed with its connection.
pub(crate) fn caching_qualifies(files: &FileTable, key: &FileKey, owner: OpenRef) -> bool {
    // Held, not breaking (MS-SMB2 3.3.7.1: OplockState Held): an open whose break is on its way
    // is closed, so that the open waiting for that break goes on.
    match files.caching_of(key, owner) {
        Some(Caching::Oplock { level, breaking: None }) => level == oplock_level::BATCH,
        Some(Caching::Lease(id)) => {
            files.leases.get(&id).is_some_and(|lease| lease.state & state::HANDLE != 0 && lease.breaking.is_none())
        }
        _ => false,
    }
}

/// The durability a CREATE gets (MS-SMB2 3.3.5.9.6 and 3.3.5.9.10), and the response context
/// that says so; none when it asked for none or its caching does not allow it.
pub(crate) fn terms_for(
    conn: &Connection,
    context: Option<DurableContext>,
    granted: &Grant,
    app_instance: Option<[u8; 16]>,
    share: &ShareRuntime,
) -> Option<(Terms, CreateContext)> {
    let negotiated = conn.negotiated.as_ref()?;
    // A persistent handle on a continuously available share, whatever its caching
    // (MS-SMB2 3.3.5.9.10), when the connection agreed to them.
    let persistent = matches!(context, Some(DurableContext::RequestV2 { flags, .. }) if flags & DURABLE_PERSISTENT != 0)
        && share.config.continuous_availability
        && negotiated.server_capabilities & capabilities::PERSISTENT_HANDLES != 0;
    let qualifies = persistent
        || granted.oplock_level == oplock_level::BATCH
        || granted.lease.is_some_and(|lease| lease.state & state::HANDLE != 0);
    if !qualifies {
        return None;
    }
    let default = conn.shared.runtime().config.server.durable_timeout;
    let (version, timeout, create_guid) = match context? {
        DurableContext::Request => (Version::V1, default, [0; 16]),
        DurableContext::RequestV2 { timeout_ms, create_guid, .. } if negotiated.dialect.is_smb3() => {
            let asked = Duration::from_millis(u64::from(timeout_ms));
            (Version::V2, if timeout_ms == 0 { default } else { asked.min(MAX_TIMEOUT) }, create_guid)
        }
        _ => return None,
    };
    let terms = Terms { version, create_guid, client_guid: negotiated.client_guid, timeout, app_instance, persistent };
    Some((terms, terms.response()))
}

/// Records a new open that is durable, or whose CREATE carried a DH2Q CreateGuid (for replays
/// of that CREATE, durable or not): returns whether a replay is answered with it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn register(
    conn: &Connection,
    context: Option<DurableContext>,
    terms: Option<Terms>,
    app_instance: Option<[u8; 16]>,
    user: &str,
    share: &ShareRuntime,
    session_id: SessionId,
    response: &CreateResponse,
) -> bool {
    let replay_terms = match context {
        Some(DurableContext::RequestV2 { create_guid, .. }) => Some(Terms {
            version: Version::V2,
            create_guid,
            client_guid: conn.negotiated.as_ref().map(|n| n.client_guid).unwrap_or_default(),
            timeout: Duration::ZERO,
            app_instance,
            persistent: false,
        }),
        _ => None,
    };
    let Some(entry_terms) = terms.or(replay_terms) else { return false };
    let replayable = replay_terms.is_some();
    lock(&conn.shared.durable).attach(
        response.file_id.persistent,
        Entry {
            terms: entry_terms,
            durable: terms.is_some(),
            original: replayable.then(|| Box::new(response.clone())),
            reclaim_until: None,
            claimants: Vec::new(),
            user: user.to_owned(),
            share: share.config.name.clone(),
            place: Place::Attached { connection: conn.home_of(session_id), session_id },
        },
    );
    replayable
}

/// The connection is lost: a session's durable opens wait for their client (MS-SMB2 3.3.7.1),
/// the others are left for [`crate::engine::handlers::logoff::end_session`] to close.
pub(crate) fn keep_opens(conn: &mut Connection, session_id: SessionId, now: Now) {
    let Some(session) = conn.sessions.get(&session_id) else { return };
    let candidates: Vec<u64> =
        session.opens.iter().filter(|(_, open)| open.durable.is_some()).map(|(volatile, _)| *volatile).collect();
    for volatile in candidates {
        let owner = conn.open_ref(session_id, volatile);
        let session = &conn.sessions[&session_id];
        let open = &session.opens[&volatile];
        let (Some(key), Some(terms)) = (open.key, open.durable) else { continue };
        let share = match session.trees.get(&open.tree_id).map(|tree| &tree.kind) {
            Some(TreeKind::Disk(share)) => share.clone(),
            _ => continue,
        };
        if !terms.persistent && !caching_qualifies(&lock(&conn.shared.files), &key, owner) {
            continue;
        }
        crate::engine::handlers::close::end_waits(conn, session_id, volatile);
        let open = conn.sessions.get_mut(&session_id).and_then(|s| s.opens.remove(&volatile)).expect("present");
        tracing::info!(
            connection = %conn.info.id,
            path = %open.path.to_windows(),
            timeout_seconds = terms.timeout.as_secs(),
            "keeping a durable open for its client"
        );
        let kept = Kept { open, share, owner, until: now.instant + terms.timeout, client: conn.info.client };
        let claimants = lock(&conn.shared.durable).disconnect(volatile, kept);
        for waiter in claimants {
            conn.shared.control(waiter.connection, Control::Wake { async_id: waiter.async_id });
        }
    }
}

/// A CREATE with DHnC or DH2C: the client reclaims an open it held on a lost connection
/// (MS-SMB2 3.3.5.9.7, 3.3.5.9.12). The open keeps its FileId, locks, caching and
/// delete-on-close; only the connection and session serving it change.
pub(crate) fn reconnect(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &CreateRequest,
    context: DurableContext,
    share: &ShareRuntime,
    out: &mut Writer,
) -> Result<Outcome, Error> {
    let (file_id, v2) = match context {
        DurableContext::Reconnect { file_id } => (file_id, None),
        DurableContext::ReconnectV2 { file_id, create_guid, .. } => (file_id, Some(create_guid)),
        _ => return Err(NtStatus::INVALID_PARAMETER.into()),
    };
    let negotiated = conn.negotiated.as_ref().ok_or(NtStatus::INVALID_PARAMETER)?;
    let client_guid = negotiated.client_guid;
    let session_id = req.session_id();
    let user = conn.sessions[&session_id].user().to_owned();
    // The lease context counts whatever RequestedOplockLevel says: a reconnect ignores it.
    let lease_key =
        request.context(context_name::REQUEST_LEASE).and_then(|c| LeaseContext::decode(&c.data).ok()).map(|l| l.key);
    let persistent = file_id.persistent;
    {
        let mut durable = lock(&conn.shared.durable);
        let now = conn.now.instant;
        let entry = durable.entries.get_mut(&persistent).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        if let Place::Attached { connection, .. } = entry.place
            && connection != conn.info.id
            && entry.durable
            && v2.is_none_or(|create_guid| create_guid == entry.terms.create_guid)
            && same_name(&entry.user, &user)
        {
            // Still held by another connection of its user: one that is gone but not yet noticed
            // by the server, or whose session this client's PreviousSessionId is ending. The
            // reconnect waits for it to let go, a moment at most (MS-SMB2 3.3.5.5.3).
            let until = *entry.reclaim_until.get_or_insert(now + RECLAIM_WAIT);
            if now < until {
                let key = lock(&conn.shared.files).key_of(OpenRef { connection, volatile: persistent });
                if let Some(key) = key {
                    return Ok(Outcome::Pending(crate::engine::connection::PendingKind::Create {
                        request: req.message.to_vec(),
                        key,
                        rest: None,
                    }));
                }
            }
            entry.reclaim_until = None;
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into());
        }
        let entry = durable.get(persistent).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        let Place::Disconnected(kept) = &entry.place else { return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into()) };
        // DH2C names the open by its CreateGuid too (a v1 open's is zero); DHnC reclaims either.
        if v2.is_some_and(|create_guid| create_guid != entry.terms.create_guid)
            || !same_name(&entry.share, &share.config.name)
        {
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into());
        }
        let key = kept.open.key.ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        let files = lock(&conn.shared.files);
        match files.caching_of(&key, kept.owner) {
            // A lease is reclaimed by its client (the ClientGuid it is keyed by), with its key,
            // for the file's current name (MS-SMB2 3.3.5.9.7).
            Some(Caching::Lease(id)) => {
                if entry.terms.client_guid != client_guid || lease_key != Some(id.key) {
                    return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into());
                }
                let current = files.get(&key).map(|state| state.path.to_windows()).unwrap_or_default();
                if !kept.open.delete_on_close && !same_name(request.name.trim_start_matches('\\'), &current) {
                    return Err(NtStatus::INVALID_PARAMETER.into());
                }
            }
            // An oplock from any client of the user, without a lease.
            Some(Caching::Oplock { .. }) if lease_key.is_none() => {}
            _ if entry.terms.persistent && lease_key.is_none() => {}
            _ => return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into()),
        }
        if !same_name(&entry.user, &user) {
            return Err(NtStatus::ACCESS_DENIED.into());
        }
    }
    let kept = lock(&conn.shared.durable)
        .reclaim(persistent, conn.home_of(session_id), session_id)
        .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    let Kept { mut open, owner: old_owner, .. } = kept;
    let key = open.key.expect("durable opens are of files");
    lock(&conn.shared.files).rehome(&key, old_owner, conn.open_ref(session_id, file_id.volatile), session_id);
    tracing::info!(connection = %conn.info.id, path = %open.path.to_windows(), "durable open reclaimed");
    conn.shared.emit(Event::DurableReclaimed {
        user,
        share: share.config.name.clone(),
        path: open.path.to_windows(),
        client: conn.info.client,
    });
    open.tree_id = req.tree_id();
    // The client's channel sequence on its new connection starts where that connection's does.
    open.channel_sequence = req.header.channel_sequence();
    conn.sessions.get_mut(&session_id).expect("checked").opens.insert(file_id.volatile, open);
    // A reclaimed open's response carries no durable context (the tests of Windows' behaviour).
    describe(conn, session_id, file_id.volatile, out)
}

/// A CREATE with DH2Q names a CreateGuid this client used before (MS-SMB2 3.3.5.9.10). Without
/// the replay flag that is STATUS_DUPLICATE_OBJECTID. With it, the original open is answered
/// again (its response as first sent, with the lease's current state), not opened twice; an
/// original that still waits for a break cannot be answered yet (STATUS_FILE_NOT_AVAILABLE, as
/// Samba). `None` when the CREATE is to be carried out: the CreateGuid is new, or its open is no
/// longer eligible for replay (a request has used it since).
pub(crate) fn replay(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &CreateRequest,
    create_guid: [u8; 16],
    share: &ShareRuntime,
    out: &mut Writer,
) -> Result<Option<Outcome>, Error> {
    let replaying = req.header.flags & crate::proto::header::flags::REPLAY_OPERATION != 0;
    // (Not the request itself, when it runs again after waiting for a break.)
    let message_id = req.header.message_id;
    if replaying
        && conn.pending.values().any(|p| p.message_id != message_id && pending_create_guid(p) == Some(create_guid))
    {
        return Err(NtStatus::FILE_NOT_AVAILABLE.into());
    }
    // The same CREATE waiting on another channel of the session, or waiting when its channel
    // was lost: while the breaks it waits for are under way it is still in progress for its
    // client; after them (its channel gone), a replay opens anew.
    if replaying && let Some(session) = conn.sessions.get_mut(&req.session_id()) {
        let connections = lock(&conn.shared.connections);
        let live: Vec<bool> = session.waiting_creates.iter().map(|w| connections.contains_key(&w.connection)).collect();
        drop(connections);
        let files = lock(&conn.shared.files);
        let mut live = live.into_iter();
        session.waiting_creates.retain(|w| live.next().unwrap_or(false) || files.break_deadline(&w.key).is_some());
        drop(files);
        if session.waiting_creates.iter().any(|w| w.create_guid == create_guid && w.connection != conn.info.id) {
            return Err(NtStatus::FILE_NOT_AVAILABLE.into());
        }
    }
    let client_guid = conn.negotiated.as_ref().map(|n| n.client_guid).unwrap_or_default();
    let (persistent, attached, original, is_persistent) = {
        let durable = lock(&conn.shared.durable);
        let Some((persistent, entry)) = durable.by_create_guid(&create_guid) else { return Ok(None) };
        if entry.terms.client_guid != client_guid {
            return Ok(None);
        }
        let attached = match entry.place {
            Place::Attached { connection, session_id } => Some((connection, session_id)),
            Place::Disconnected(_) => None,
        };
        (persistent, attached, entry.original.clone(), entry.terms.persistent)
    };
    if !replaying {
        return Err(NtStatus::DUPLICATE_OBJECTID.into());
    }
    let file_id = crate::proto::FileId { persistent, volatile: persistent };
    let context = DurableContext::ReconnectV2 { file_id, create_guid, flags: 0 };
    match (attached, original) {
        // A persistent open replayed on a new connection is reclaimed and answered as it was
        // first (the CREATE's own response, durable context included), as Windows does.
        (None, Some(original)) if is_persistent => {
            let outcome = reconnect(conn, req, request, context, share, &mut Writer::new())?;
            replayed(conn, request, persistent, *original)?.encode(out);
            Ok(Some(outcome))
        }
        (None, _) => reconnect(conn, req, request, context, share, out).map(Some),
        (Some((connection, session_id)), Some(original))
            if conn.sessions.get(&session_id).is_some_and(|s| s.home == connection)
                && session_id == req.session_id() =>
        {
            let response = replayed(conn, request, persistent, *original)?;
            response.encode(out);
            Ok(Some(Outcome::Done(Done { new_file: Some(file_id), ..Done::default() })))
        }
        (Some(_), Some(_)) => Err(NtStatus::FILE_NOT_AVAILABLE.into()),
        (Some(_), None) => Ok(None),
    }
}

/// The CreateGuid of a CREATE waiting for breaks, when it asked for DH2Q.
pub(crate) fn pending_create_guid(pending: &crate::engine::connection::Pending) -> Option<[u8; 16]> {
    let crate::engine::connection::PendingKind::Create { request, .. } = &pending.kind else { return None };
    match DurableContext::of(&CreateRequest::decode(request).ok()?).ok()? {
        Some(DurableContext::RequestV2 { create_guid, .. }) => Some(create_guid),
        _ => None,
    }
}

/// The answer to a replayed CREATE: the original response, with a lease's current state; an
/// oplock replayed at a lower level is answered at that level (and without the durable context
/// when that level could not be durable). A replay that changes the kind of caching or the lease
/// key is refused (what Windows does, smbtorture's replay suite pins it down).
fn replayed(
    conn: &Connection,
    request: &CreateRequest,
    persistent: u64,
    mut response: CreateResponse,
) -> Result<CreateResponse, NtStatus> {
    let asked_lease = (request.requested_oplock_level == oplock_level::LEASE)
        .then(|| request.context(context_name::REQUEST_LEASE).and_then(|c| LeaseContext::decode(&c.data).ok()))
        .flatten();
    let lease_at = response.contexts.iter().position(|c| c.name == context_name::REQUEST_LEASE);
    match lease_at {
        Some(at) => {
            let mut lease = LeaseContext::decode(&response.contexts[at].data).map_err(|_| NtStatus::INTERNAL_ERROR)?;
            if asked_lease.as_ref().is_some_and(|asked| asked.key != lease.key) {
                return Err(NtStatus::ACCESS_DENIED);
            }
            let holder = conn.sessions.iter().find(|(_, s)| s.opens.contains_key(&persistent)).map(|(id, _)| *id);
            let open = conn.open_ref(holder.unwrap_or(SessionId(0)), persistent);
            let files = lock(&conn.shared.files);
            let key = conn.sessions.values().find_map(|s| s.opens.get(&persistent)).and_then(|o| o.key);
            if let Some(Caching::Lease(id)) = key.and_then(|key| files.caching_of(&key, open))
                && let Some(current) = files.leases.get(&id)
            {
                lease.state = current.state;
                lease.epoch = current.epoch;
            }
            response.contexts[at].data = lease.encode();
        }
        None => {
            if asked_lease.is_some() {
                return Err(NtStatus::ACCESS_DENIED);
            }
            if request.requested_oplock_level < response.oplock_level {
                response.oplock_level = request.requested_oplock_level;
                if response.oplock_level != oplock_level::BATCH {
                    response.contexts.retain(|c| c.name != context_name::DURABLE_HANDLE_REQUEST_V2);
                }
            }
        }
    }
    Ok(response)
}

/// The CREATE response for an open the session holds, as its state is now: its caching, its
/// lease's state and its durability (a reclaimed or replayed open).
fn describe(conn: &Connection, session_id: SessionId, volatile: u64, out: &mut Writer) -> Result<Outcome, Error> {
    let open = conn.sessions.get(&session_id).and_then(|s| s.opens.get(&volatile)).ok_or(NtStatus::FILE_CLOSED)?;
    let key = open.key.ok_or(NtStatus::INVALID_PARAMETER)?;
    let (caching, lease) = {
        let files = lock(&conn.shared.files);
        let caching = files.caching_of(&key, conn.open_ref(session_id, volatile)).unwrap_or_default();
        let lease = match caching {
            Caching::Lease(id) => files.leases.get(&id).map(|lease| (id, lease.clone())),
            _ => None,
        };
        (caching, lease)
    };
    let meta = open.file().map(|f| local::meta_of(f.as_fd())).transpose()?.ok_or(NtStatus::INTERNAL_ERROR)?;
    let mut contexts = Vec::new();
    if let Some((id, lease)) = lease {
        let context = LeaseContext {
            key: id.key,
            state: lease.state,
            flags: if lease.breaking.is_some() { lease_flags::BREAK_IN_PROGRESS } else { 0 },
            parent_key: lease.parent,
            epoch: lease.epoch,
            v2: lease.version >= 2,
        };
        contexts.push(CreateContext::new(context_name::REQUEST_LEASE, context.encode()));
    }
    let oplock = match caching {
        Caching::Oplock { level, .. } => level,
        Caching::Lease(_) => oplock_level::LEASE,
        Caching::None => oplock_level::NONE,
    };
    CreateResponse::of(&meta, oplock, create_action::OPENED, open.file_id, contexts).encode(out);
    Ok(Outcome::Done(Done { new_file: Some(open.file_id), ..Done::default() }))
}

/// An application instance opens again (MS-SMB2 3.3.5.9.13, a clustered application moving to
/// another node): the opens an earlier instance with the same AppInstanceId holds are closed.
pub(crate) fn close_app_instance(conn: &mut Connection, app_instance: [u8; 16]) {
    let holders: Vec<(u64, Option<(ConnectionId, SessionId)>)> = lock(&conn.shared.durable)
        .entries
        .iter()
        .filter(|(_, entry)| entry.terms.app_instance == Some(app_instance))
        .map(|(id, entry)| match entry.place {
            Place::Attached { connection, session_id } => (*id, Some((connection, session_id))),
            Place::Disconnected(_) => (*id, None),
        })
        .collect();
    for (persistent, place) in holders {
        match place {
            None => {
                let kept = lock(&conn.shared.durable).purge(persistent);
                if let Some(kept) = kept {
                    conn.shared.end_wait(kept, "the same application instance opened it again", conn.now);
                }
            }
            Some((connection, session_id)) if conn.sessions.get(&session_id).is_some_and(|s| s.home == connection) => {
                crate::engine::handlers::close::close_open(conn, session_id, persistent);
            }
            Some((connection, _)) => {
                conn.shared.control(connection, Control::CloseFile { volatile: persistent });
            }
        }
    }
}

impl Shared {
    /// Closes a durable open waiting for its client (an administrator's action); false if
    /// `owner` is no such open.
    pub fn close_waiting(&self, owner: OpenRef, now: Now) -> bool {
        if !lock(&self.durable).is_waiting(owner) {
            return false;
        }
        let purged = lock(&self.durable).purge(owner.volatile);
        let Some(kept) = purged else { return false };
        self.end_wait(kept, "an administrator closed it", now);
        true
    }

    /// Closes a durable open that waited for its client, and says why.
    pub(crate) fn end_wait(&self, kept: Kept, reason: &str, now: Now) {
        tracing::info!(path = %kept.open.path.to_windows(), reason, "closing a durable open that waited for its client");
        self.emit(Event::DurableExpired {
            share: kept.share.config.name.clone(),
            path: kept.open.path.to_windows(),
            reason: reason.to_owned(),
        });
        crate::engine::handlers::close::release(self, Some(&kept.share), kept.open, kept.owner, now);
    }
}

/// Opens waiting for their client that `breaks` would go to: nobody can acknowledge those, so
/// they are closed now (as Windows and Samba do), and the breaks to them dropped. Returns the
/// breaks left to send, and whether any open was closed (the caller then decides again).
pub(crate) fn close_unreachable(shared: &Shared, breaks: Vec<Break>, now: Now) -> (Vec<Break>, bool) {
    let mut reachable = Vec::with_capacity(breaks.len());
    let mut closed = false;
    for notification in breaks {
        let (target, needs_ack) = match notification {
            Break::Lease { via, ack_required, .. } => (via, ack_required),
            // Only a batch oplock keeps an open waiting, and breaking it needs an acknowledgment.
            Break::Oplock { owner, .. } => (owner, true),
        };
        if !lock(&shared.durable).is_waiting(target) {
            reachable.push(notification);
            continue;
        }
        if !needs_ack {
            continue;
        }
        let purged = lock(&shared.durable).purge(target.volatile);
        if let Some(kept) = purged {
            shared.end_wait(kept, "another client's open needed the file", now);
            closed = true;
        }
    }
    (reachable, closed)
}

impl Shared {
    /// Closes the durable opens whose client did not come back in time (MS-SMB2 3.3.2.x, the
    /// durable open scavenger timer). Returns how many were closed. The server calls it about
    /// once a second.
    pub fn scavenge(&self, now: Now) -> usize {
        let expired = lock(&self.durable).expired(now.instant);
        let count = expired.len();
        for kept in expired {
            self.end_wait(kept, "its client did not come back in time", now);
        }
        count
    }
}
