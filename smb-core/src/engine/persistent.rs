//! Persistent opens (MS-SMB2 3.3.1.10 Open.IsPersistent, 3.3.5.9.10, 3.3.5.9.12): durable
//! opens on a continuously available share whose state is written to a journal before the
//! client hears of it, so that they survive a restart of the server itself (an upgrade or a
//! crash), not only a lost connection. After a restart the server reads the journal back
//! ([`Shared::restore`]): each open is opened again with its access, sharing, lease or oplock,
//! byte-range locks and delete-on-close, and waits for its client as a durable open whose
//! connection was lost.
//!
//! The journal itself is the server's business ([`OpenJournal`]; EdgeShare keeps it in its
//! database). The engine records an open when it is granted and whenever its locks, name or
//! delete-on-close change, and forgets it when it ends.

use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::clock::Now;
use crate::engine::durable::{Entry, Kept, Place, Terms, Version};
use crate::engine::files::{ByteLock, OpenRef, SharedOpen};
use crate::engine::handlers::create::{data_mode, open_fallback};
use crate::engine::ids::{ConnectionId, SessionId, TreeId};
use crate::engine::leases::{self, Caching, LeaseId};
use crate::engine::session::{Enumeration, Open, OpenKind};
use crate::engine::shared::{Shared, lock};
use crate::proto::FileId;
use crate::vfs::local;
use crate::vfs::{OpenMode, SharePath};

/// Where persistent opens are written (the server's database). `record` must have stored the
/// open when it returns: the client is told of the open (or of its new lock) only after.
pub trait OpenJournal: Send + Sync {
    /// Stores a persistent open's state, replacing what was stored for its id.
    fn record(&self, open: &PersistentOpen) -> Result<(), String>;
    /// The open ended: its state is no longer needed.
    fn forget(&self, persistent_id: u64);
}

/// The state of one persistent open, as the journal keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistentOpen {
    /// Its FileId (MS-SMB2 2.2.14.1: persistent and volatile parts are the same here).
    pub persistent_id: u64,
    pub create_guid: [u8; 16],
    pub client_guid: [u8; 16],
    pub app_instance: Option<[u8; 16]>,
    /// How long it waits for its client after a loss (and after a restart).
    pub timeout_ms: u64,
    /// The user who opened it (only that user reclaims it).
    pub user: String,
    /// The address of the client that holds it, for the console.
    pub client: SocketAddr,
    pub share: String,
    /// Its current share-relative path, Windows style.
    pub path: String,
    pub access: u32,
    pub share_access: u32,
    pub is_directory: bool,
    pub delete_on_close: bool,
    pub caching: PersistedCaching,
    pub locks: Vec<PersistedLock>,
}

/// A persistent open's lease or oplock (MS-SMB2 3.3.1.4, 3.3.1.10 Open.OplockLevel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersistedCaching {
    None,
    Oplock(u8),
    Lease { key: [u8; 16], state: u32, version: u8, parent: Option<[u8; 16]>, epoch: u16 },
}

/// A byte-range lock the open holds (MS-FSA 2.1.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedLock {
    pub offset: u64,
    pub length: u64,
    pub exclusive: bool,
}

/// The owner restored opens have in the file table until their client reclaims them: no
/// connection has this id (connection ids start far above it).
const RESTORED: ConnectionId = ConnectionId(0);

/// The state of the open `volatile` of `owner`, read from the open and the file table.
pub(crate) fn snapshot(
    shared: &Shared,
    open: &Open,
    owner: OpenRef,
    (user, client): (&str, SocketAddr),
    share: &str,
) -> Option<PersistentOpen> {
    let terms = open.durable.filter(|terms| terms.persistent)?;
    let key = open.key?;
    let files = lock(&shared.files);
    let state = files.get(&key)?;
    let shared_open = state.opens.iter().find(|o| o.owner == owner)?;
    let caching = match shared_open.caching {
        Caching::None => PersistedCaching::None,
        Caching::Oplock { level, .. } => PersistedCaching::Oplock(level),
        Caching::Lease(id) => match files.leases.get(&id) {
            Some(lease) => PersistedCaching::Lease {
                key: id.key,
                state: lease.state,
                version: lease.version,
                parent: lease.parent,
                epoch: lease.epoch,
            },
            None => PersistedCaching::None,
        },
    };
    let locks = state
        .locks
        .iter()
        .filter(|l| l.owner == owner)
        .map(|l| PersistedLock { offset: l.offset, length: l.length, exclusive: l.exclusive })
        .collect();
    Some(PersistentOpen {
        persistent_id: open.file_id.persistent,
        create_guid: terms.create_guid,
        client_guid: terms.client_guid,
        app_instance: terms.app_instance,
        timeout_ms: terms.timeout.as_millis() as u64,
        user: user.to_owned(),
        client,
        share: share.to_owned(),
        path: state.path.to_windows(),
        access: shared_open.access,
        share_access: shared_open.share,
        is_directory: shared_open.is_directory,
        delete_on_close: open.delete_on_close,
        caching,
        locks,
    })
}

impl Shared {
    /// Where persistent opens are written from now on (set before clients connect).
    pub fn set_journal(&self, journal: Arc<dyn OpenJournal>) {
        *self.journal.write().unwrap_or_else(|p| p.into_inner()) = Some(journal);
    }

    pub(crate) fn journal(&self) -> Option<Arc<dyn OpenJournal>> {
        self.journal.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether persistent opens can be granted: only with a journal to keep them.
    pub(crate) fn keeps_persistent_opens(&self) -> bool {
        self.journal().is_some()
    }

    /// Writes the state of a persistent open of `owner` to the journal (after a change the
    /// client is about to be told of). An open that is not persistent is left alone.
    pub(crate) fn journal_open(
        &self,
        open: &Open,
        owner: OpenRef,
        holder: (&str, SocketAddr),
        share: &str,
    ) -> Result<(), String> {
        let Some(journal) = self.journal() else { return Ok(()) };
        match snapshot(self, open, owner, holder, share) {
            Some(record) => journal.record(&record),
            None => Ok(()),
        }
    }

    /// A persistent open ended.
    pub(crate) fn unjournal(&self, persistent_id: u64) {
        if let Some(journal) = self.journal() {
            journal.forget(persistent_id);
        }
    }

    /// Reads persistent opens back after a restart: each is opened again as it was and waits
    /// for its client for its timeout, from `now`. Returns, for each, its path and what became of
    /// it (an open whose share is gone or no longer continuously available, or whose file is
    /// gone, cannot be restored: the caller forgets it).
    pub fn restore(&self, records: Vec<PersistentOpen>, now: Now) -> Vec<(PersistentOpen, Result<(), String>)> {
        let highest = records.iter().map(|r| r.persistent_id).max().unwrap_or(0);
        // New opens get ids above the restored ones.
        self.next_id.fetch_max(highest.saturating_add(1), std::sync::atomic::Ordering::Relaxed);
        records
            .into_iter()
            .map(|record| {
                let outcome = self.restore_one(&record, now);
                (record, outcome)
            })
            .collect()
    }

    fn restore_one(&self, record: &PersistentOpen, now: Now) -> Result<(), String> {
        let runtime = self.runtime();
        let share = runtime.share(&record.share).ok_or("the share is gone")?.clone();
        if !share.config.continuous_availability {
            return Err("the share is no longer continuously available".to_owned());
        }
        let root = share.root.as_ref().map_err(|e| format!("the share's folder cannot be opened: {e}"))?;
        let path = SharePath::parse(&record.path).map_err(|s| format!("a path the share refuses ({s:?})"))?;
        let found = root.resolve(&path).ok().flatten().ok_or("the file is gone")?;
        let mode = if record.is_directory { OpenMode::Directory } else { data_mode(record.access, false) };
        let file = open_fallback(root, &found.path, mode).map_err(|s| format!("cannot open the file ({s:?})"))?;
        let key = local::identity(file.as_fd()).map_err(|s| format!("cannot identify the file ({s:?})"))?;
        let owner = OpenRef { connection: RESTORED, volatile: record.persistent_id };
        let request = match record.caching {
            PersistedCaching::None => leases::Request::None,
            PersistedCaching::Oplock(level) => leases::Request::Oplock(level),
            PersistedCaching::Lease { key, state, version, parent, epoch } => leases::Request::Lease {
                id: LeaseId { client_guid: record.client_guid, key },
                state,
                version,
                parent,
                epoch,
            },
        };
        {
            let mut files = lock(&self.files);
            files.check_sharing(&key, record.access, record.share_access).map_err(|s| format!("{s:?}"))?;
            files.add(
                key,
                &share.config.name,
                &found.path,
                SharedOpen {
                    owner,
                    access: record.access,
                    share: record.share_access,
                    session_id: SessionId(0),
                    user: record.user.clone(),
                    is_directory: record.is_directory,
                    caching: Caching::None,
                },
            );
            files.grant(&key, owner, request, record.is_directory);
            for held in &record.locks {
                let taken = files.try_lock(
                    &key,
                    ByteLock { owner, offset: held.offset, length: held.length, exclusive: held.exclusive },
                );
                if let Err(status) = taken {
                    files.remove(&key, owner);
                    return Err(format!("its lock at {} conflicts ({status:?})", held.offset));
                }
            }
        }
        let kind = if record.is_directory {
            OpenKind::Directory { handle: file, enumeration: Enumeration::default() }
        } else {
            OpenKind::File(file)
        };
        let timeout = Duration::from_millis(record.timeout_ms);
        let terms = Terms {
            version: Version::V2,
            create_guid: record.create_guid,
            client_guid: record.client_guid,
            timeout,
            app_instance: record.app_instance,
            persistent: true,
        };
        let file_id = FileId { persistent: record.persistent_id, volatile: record.persistent_id };
        let open = Open {
            file_id,
            tree_id: TreeId(0),
            kind,
            key: Some(key),
            granted_access: record.access,
            delete_on_close: record.delete_on_close,
            position: 0,
            mode: 0,
            path: found.path,
            write_time: Default::default(),
            durable: Some(terms),
            replayable: false,
            channel_sequence: 0,
            lock_sequences: [crate::engine::session::NO_LOCK_SEQUENCE; 64],
        };
        self.opened();
        lock(&self.durable).attach(
            record.persistent_id,
            Entry {
                terms,
                durable: true,
                original: None,
                reclaim_until: None,
                claimants: Vec::new(),
                user: record.user.clone(),
                share: share.config.name.clone(),
                place: Place::Disconnected(Box::new(Kept {
                    open,
                    share,
                    owner,
                    until: now.instant + timeout,
                    client: record.client,
                })),
            },
        );
        Ok(())
    }
}

/// A persistent open of this connection changed (its locks, name or delete-on-close): the
/// journal gets its new state before the client hears of the change. A journal that cannot be
/// written is logged; the change stands for the running server.
pub(crate) fn journal_change(conn: &crate::engine::connection::Connection, session_id: SessionId, volatile: u64) {
    let Some(session) = conn.sessions.get(&session_id) else { return };
    let Some(open) = session.opens.get(&volatile).filter(|o| o.durable.is_some_and(|t| t.persistent)) else { return };
    let Some(tree) = session.trees.get(&open.tree_id) else { return };
    let holder = (session.user(), conn.info.client);
    if let Err(error) = conn.shared.journal_open(open, conn.open_ref(session_id, volatile), holder, &tree.share_name) {
        tracing::error!(%error, path = %open.path.to_windows(), "cannot write a persistent open's change to the journal");
    }
}
