//! State every connection shares: the live configuration, the file table, change watches, the
//! connection registry, account lockout, counters and the event stream.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, mpsc};

use crate::auth::UserLookup;
use crate::engine::config::{EngineConfig, ShareConfig, UserConfig};
use crate::engine::events::{Counters, Event, SessionStatus, Transport};
use crate::engine::files::FileTable;
use crate::engine::notify::{Change, Watches};
use crate::vfs::ShareRoot;

/// A share as served: its configuration and its opened root (or why it could not be opened).
#[derive(Debug)]
pub struct ShareRuntime {
    pub config: ShareConfig,
    pub root: Result<ShareRoot, String>,
}

/// One applied configuration, with lookups built once.
#[derive(Debug, Default)]
pub struct Runtime {
    pub config: EngineConfig,
    pub shares: HashMap<String, Arc<ShareRuntime>>,
    users: HashMap<String, usize>,
}

impl Runtime {
    /// Opens every share's root afresh: a directory replaced since the last configuration is
    /// served as it is now. Trees connected earlier keep the root they opened.
    pub fn new(config: EngineConfig) -> Runtime {
        let shares = config
            .shares
            .iter()
            .map(|share| {
                let root =
                    ShareRoot::open(&share.path).map_err(|e| format!("cannot open {}: {e}", share.path.display()));
                (share.name.to_lowercase(), Arc::new(ShareRuntime { config: share.clone(), root }))
            })
            .collect();
        let users = config.users.iter().enumerate().map(|(i, u)| (u.name.to_lowercase(), i)).collect();
        Runtime { config, shares, users }
    }

    pub fn user(&self, name: &str) -> Option<&UserConfig> {
        self.users.get(&name.to_lowercase()).map(|&i| &self.config.users[i])
    }

    pub fn share(&self, name: &str) -> Option<&Arc<ShareRuntime>> {
        self.shares.get(&name.to_lowercase())
    }
}

/// Messages to a connection's driver from outside its own request flow.
#[derive(Debug)]
pub enum Control {
    /// An async request may now complete (lock released, change recorded).
    Wake { async_id: u64 },
    /// An administrator closes a session.
    CloseSession { session_id: u64 },
    /// An administrator closes an open file.
    CloseFile { volatile: u64 },
    /// Send a lease or oplock break notification for one of its opens.
    Break(crate::engine::leases::Break),
    /// Drop the connection (engine stopping, or the client's address was blocked).
    Disconnect,
}

/// A connection as the registry knows it.
#[derive(Debug)]
pub struct ConnectionEntry {
    pub client: SocketAddr,
    pub transport: Transport,
    pub control: mpsc::UnboundedSender<Control>,
    pub sessions: Vec<SessionStatus>,
}

#[derive(Debug, Default)]
struct LockoutState {
    failures: Vec<Instant>,
    locked_until: Option<SystemTime>,
    /// Locked here, and the lock is not yet known to be stored with the account: a configuration
    /// read before it was stored must not undo it.
    unsaved: bool,
}

pub struct Shared {
    config: RwLock<Arc<Runtime>>,
    pub files: Mutex<FileTable>,
    pub watches: Mutex<Watches>,
    pub connections: Mutex<HashMap<u64, ConnectionEntry>>,
    lockout: Mutex<HashMap<String, LockoutState>>,
    events: broadcast::Sender<Event>,
    next_id: AtomicU64,
    next_session_id: AtomicU64,
    pub started: SystemTime,
    counters: [AtomicU64; 6],
}

/// Locks a mutex, recovering the data of a poisoned one (a panicking handler must not take the
/// whole server down with it).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub enum Counter {
    Connections = 0,
    Logons = 1,
    LogonFailures = 2,
    BytesRead = 3,
    BytesWritten = 4,
    QuicRefused = 5,
}

impl Shared {
    pub fn new(config: EngineConfig) -> Arc<Shared> {
        let (events, _) = broadcast::channel(4096);
        Arc::new(Shared {
            config: RwLock::new(Arc::new(Runtime::new(config))),
            files: Mutex::default(),
            watches: Mutex::default(),
            connections: Mutex::default(),
            lockout: Mutex::default(),
            events,
            // Ids start high and odd-looking, so that a client's stale or guessed ids do not hit.
            next_id: AtomicU64::new(0x0000_0400_0000_0001),
            // Session ids stay within 32 bits: some clients (smbtorture among them) keep them in
            // 32-bit variables. They start at a random point so that a restart does not reuse them.
            next_session_id: AtomicU64::new(u64::from(rand::random::<u32>() >> 4) + 0x0001_0000),
            started: SystemTime::now(),
            counters: Default::default(),
        })
    }

    pub fn runtime(&self) -> Arc<Runtime> {
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn apply(&self, config: EngineConfig) -> Arc<Runtime> {
        let mut current = self.config.write().unwrap_or_else(|p| p.into_inner());
        let runtime = Arc::new(Runtime::new(config));
        // Accounts the new configuration locks or unlocks take effect now, except a lock made
        // here that has not reached the stored accounts yet (the configuration predates it).
        let mut lockout = lock(&self.lockout);
        for user in &runtime.config.users {
            let state = lockout.entry(user.name.to_lowercase()).or_default();
            if state.unsaved {
                continue;
            }
            state.locked_until =
                user.locked_until.map(|t| UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64));
            if state.locked_until.is_none() {
                state.failures.clear();
            }
        }
        *current = runtime.clone();
        runtime
    }

    /// A fresh id for sessions, opens, async operations and connections.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh session id (below 2^32).
    pub fn next_session_id(&self) -> u64 {
        let id = self.next_session_id.fetch_add(1, Ordering::Relaxed);
        if id > u64::from(u32::MAX) {
            self.next_session_id.store(0x0001_0000, Ordering::Relaxed)
        }
        id & u64::from(u32::MAX)
    }

    pub fn emit(&self, event: Event) {
        tracing::debug!(?event, "engine event");
        let _ = self.events.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn count(&self, counter: Counter, amount: u64) {
        self.counters[counter as usize].fetch_add(amount, Ordering::Relaxed);
    }

    pub fn counters(&self) -> Counters {
        let get = |c: Counter| self.counters[c as usize].load(Ordering::Relaxed);
        Counters {
            connections_accepted: get(Counter::Connections),
            logons: get(Counter::Logons),
            logon_failures: get(Counter::LogonFailures),
            bytes_read: get(Counter::BytesRead),
            bytes_written: get(Counter::BytesWritten),
            quic_refused: get(Counter::QuicRefused),
        }
    }

    /// Whether `user` is locked out now.
    pub fn locked_out(&self, user: &str) -> bool {
        let lockout = lock(&self.lockout);
        lockout.get(&user.to_lowercase()).and_then(|s| s.locked_until).is_some_and(|until| until > SystemTime::now())
    }

    /// Counts a failed logon; returns the lock's end (Unix seconds) and the failure count when
    /// this failure locks the account.
    pub fn logon_failed(&self, user: &str) -> Option<(i64, u32)> {
        let policy = self.runtime().config.server.lockout;
        if policy.threshold == 0 {
            return None;
        }
        let now = Instant::now();
        let mut lockout = lock(&self.lockout);
        let state = lockout.entry(user.to_lowercase()).or_default();
        state.failures.retain(|t| now.duration_since(*t) < policy.window);
        state.failures.push(now);
        let count = state.failures.len() as u32;
        if count >= policy.threshold && state.locked_until.is_none_or(|t| t <= SystemTime::now()) {
            let until = SystemTime::now() + policy.duration;
            state.locked_until = Some(until);
            state.unsaved = true;
            state.failures.clear();
            let seconds = until.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
            return Some((seconds, count));
        }
        None
    }

    pub fn logon_succeeded(&self, user: &str) {
        if let Some(state) = lock(&self.lockout).get_mut(&user.to_lowercase()) {
            state.failures.clear();
        }
    }

    /// Unlocks an account now (an administrator's action).
    pub fn unlock(&self, user: &str) {
        if let Some(state) = lock(&self.lockout).get_mut(&user.to_lowercase()) {
            state.failures.clear();
            state.locked_until = None;
            state.unsaved = false;
        }
    }

    /// The lock of `user` ending at `until` (Unix seconds, as [`Event::AccountLockedOut`] gives
    /// it) is stored with the account: configurations read from now on carry it, and an
    /// administrator's unlock there takes effect.
    pub fn lockout_saved(&self, user: &str, until: i64) {
        if let Some(state) = lock(&self.lockout).get_mut(&user.to_lowercase()) {
            let ends = state.locked_until.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs() as i64);
            if ends == Some(until) {
                state.unsaved = false;
            }
        }
    }

    /// Sends a control message to a connection; false if it is gone.
    pub fn control(&self, connection: u64, message: Control) -> bool {
        lock(&self.connections).get(&connection).is_some_and(|c| c.control.send(message).is_ok())
    }

    /// Sends break notifications to the connections holding the caching.
    pub fn send_breaks(&self, breaks: Vec<crate::engine::leases::Break>) {
        use crate::engine::leases::Break;
        for notification in breaks {
            let connection = match notification {
                Break::Lease { via, .. } => via.connection,
                Break::Oplock { owner, .. } => owner.connection,
            };
            self.control(connection, Control::Break(notification));
        }
    }

    /// Wakes an async request at `at` (a deadline it waits for), if a runtime is there to keep time.
    pub fn wake_at(self: &Arc<Self>, connection: u64, async_id: u64, at: Instant) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let shared = Arc::downgrade(self);
        runtime.spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            if let Some(shared) = shared.upgrade() {
                shared.control(connection, Control::Wake { async_id });
            }
        });
    }

    /// Records a change and wakes the requests waiting for it.
    pub fn changed(&self, change: Change<'_>) {
        let ready = lock(&self.watches).record(&change);
        for (connection, async_id) in ready {
            self.control(connection, Control::Wake { async_id });
        }
    }
}

/// Users as the authenticator sees them: disabled users do not exist.
pub struct Users<'a>(pub &'a Runtime);

impl UserLookup for Users<'_> {
    fn nt_hash(&self, user: &str) -> Option<[u8; 16]> {
        self.0.user(user).filter(|u| u.enabled).map(|u| u.nt_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::{LockoutPolicy, UserConfig};
    use std::time::Duration;

    /// One user, locked after one failure, with the stored lock `locked_until`.
    fn config(locked_until: Option<i64>) -> EngineConfig {
        let mut config = EngineConfig::default();
        config.server.lockout =
            LockoutPolicy { threshold: 1, window: Duration::from_secs(60), duration: Duration::from_secs(600) };
        config.users = vec![UserConfig { name: "alice".into(), nt_hash: [0xAB; 16], enabled: true, locked_until }];
        config
    }

    #[test]
    fn a_lockout_not_yet_stored_survives_a_configuration_read_before_it() {
        let shared = Shared::new(config(None));
        let (until, _) = shared.logon_failed("alice").expect("the first failure locks");
        shared.apply(config(None));
        assert!(shared.locked_out("alice"), "a configuration without the lock must not unlock");
        shared.lockout_saved("alice", until);
        shared.apply(config(Some(until)));
        assert!(shared.locked_out("alice"));
        shared.apply(config(None));
        assert!(!shared.locked_out("alice"), "once stored, an unlock in the stored accounts takes effect");
    }

    #[test]
    fn an_administrators_unlock_ends_an_unsaved_lockout() {
        let shared = Shared::new(config(None));
        shared.logon_failed("alice").expect("the first failure locks");
        shared.unlock("Alice");
        assert!(!shared.locked_out("alice"));
        shared.logon_failed("alice").expect("locks again");
        assert!(shared.locked_out("alice"));
    }
}
