//! [`EngineHandle`]: the only way the rest of the program talks to the engine.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

use crate::engine::config::{EngineConfig, QuicSettings};
use crate::engine::events::{Counters, Event, OpenFileStatus, SessionStatus, Transport};
use crate::engine::files::{OpenRef, access};
use crate::engine::ids::{ConnectionId, SessionId};
use crate::engine::shared::{Control, Shared, lock};
use crate::transport;
use crate::transport::quic::QuicListener;

/// A running listener: its bound address and the switch that stops it.
struct Listener {
    address: SocketAddr,
    stop: watch::Sender<bool>,
}

/// SMB over QUIC's listener, or why it is missing.
#[derive(Default)]
struct QuicState {
    listener: Option<QuicListener>,
    error: Option<String>,
}

/// Cloneable handle on one engine.
#[derive(Clone)]
pub struct EngineHandle {
    shared: Arc<Shared>,
    tcp: Arc<Mutex<Option<Listener>>>,
    quic: Arc<Mutex<QuicState>>,
    /// Connections of stopped listeners end with them; this stops everything at shutdown.
    all: Arc<Mutex<HashMap<&'static str, watch::Sender<bool>>>>,
    /// Whether the durable open scavenger runs.
    scavenging: Arc<std::sync::atomic::AtomicBool>,
}

impl EngineHandle {
    pub fn new(config: EngineConfig) -> EngineHandle {
        EngineHandle {
            shared: Shared::new(config),
            tcp: Arc::default(),
            quic: Arc::default(),
            all: Arc::default(),
            scavenging: Arc::default(),
        }
    }

    /// Starts the durable open scavenger once (MS-SMB2 3.3.2.x): about every second, durable
    /// opens whose client did not come back in time are closed. It ends with the engine.
    fn scavenge(&self) {
        if self.scavenging.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let shared = Arc::downgrade(&self.shared);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                ticker.tick().await;
                let Some(shared) = shared.upgrade() else { return };
                shared.scavenge(crate::engine::clock::Now::read());
            }
        });
    }

    /// Replaces the configuration. New connections, tree connects and opens see it at once;
    /// established sessions keep their keys, and removed shares end their tree connects. SMB
    /// over QUIC starts, stops, moves or takes new certificate mappings to match; its
    /// established connections are untouched unless it stops or moves.
    pub fn apply(&self, config: EngineConfig) {
        let quic = config.quic.clone();
        self.shared.apply(config);
        self.sync_quic(&quic);
    }

    /// Where persistent opens (of continuously available shares) are written; without a journal,
    /// none are granted.
    pub fn set_journal(&self, journal: Arc<dyn crate::OpenJournal>) {
        self.shared.set_journal(journal);
    }

    /// Opens the persistent opens a previous run of the server journaled again: each waits for
    /// its client for its timeout. Returns what became of each (see [`Shared::restore`]).
    pub fn restore(&self, opens: Vec<crate::PersistentOpen>) -> Vec<(crate::PersistentOpen, Result<(), String>)> {
        self.shared.restore(opens, crate::engine::clock::Now::read())
    }

    /// The TGTs served to user-to-user Kerberos clients
    /// ([`crate::auth::kerberos::service_ticket`]); replaced as a whole.
    pub fn set_service_tickets(&self, tickets: Vec<crate::auth::kerberos::service_ticket::ServiceTicket>) {
        self.shared.set_service_tickets(tickets);
    }

    /// The service keys of the configuration in force.
    pub fn service_keys(&self) -> Vec<crate::auth::kerberos::ServiceKey> {
        self.shared.runtime().config.kerberos.keys.clone()
    }

    /// Starts what the configuration given to [`EngineHandle::new`] enables (SMB over QUIC).
    /// Needs a Tokio runtime.
    pub fn start(&self) {
        self.scavenge();
        let quic = self.shared.runtime().config.quic.clone();
        self.sync_quic(&quic);
    }

    fn sync_quic(&self, settings: &QuicSettings) {
        let mut state = lock(&self.quic);
        if !settings.enabled {
            if let Some(listener) = state.listener.take() {
                tracing::info!(address = %listener.bound, "SMB over QUIC stopped");
                listener.stop();
            }
            state.error = None;
            return;
        }
        if let Some(listener) = state.listener.as_mut()
            && listener.requested == settings.address
        {
            listener.update(settings);
            return;
        }
        if let Some(old) = state.listener.take() {
            old.stop();
        }
        match QuicListener::start(settings, self.shared.clone()) {
            Ok(listener) => {
                tracing::info!(address = %listener.bound, mappings = settings.mappings.len(), "SMB over QUIC listening");
                state.listener = Some(listener);
                state.error = None;
            }
            Err(error) => {
                tracing::error!(%error, "SMB over QUIC cannot start");
                state.error = Some(error);
            }
        }
    }

    /// The UDP address SMB over QUIC listens on, when it does.
    pub fn quic_address(&self) -> Option<SocketAddr> {
        lock(&self.quic).listener.as_ref().map(|l| l.bound)
    }

    /// Why SMB over QUIC is enabled but not listening (e.g. the port is taken).
    pub fn quic_error(&self) -> Option<String> {
        lock(&self.quic).error.clone()
    }

    pub fn config(&self) -> EngineConfig {
        self.shared.runtime().config.clone()
    }

    /// Starts SMB over TCP on `address` (replacing a running TCP listener); returns the address
    /// actually bound (useful with port 0).
    pub async fn listen_tcp(&self, address: SocketAddr) -> std::io::Result<SocketAddr> {
        self.stop_tcp();
        let listener = transport::tcp::bind(address)?;
        let bound = listener.local_addr()?;
        if !bound.ip().is_loopback() {
            tracing::warn!(%bound, "SMB over TCP listens on a non-loopback address: at the edge, expose only SMB over QUIC");
        }
        let (stop, stopped) = watch::channel(false);
        self.scavenge();
        tokio::spawn(transport::tcp::serve(listener, self.shared.clone(), stopped));
        *lock(&self.tcp) = Some(Listener { address: bound, stop });
        tracing::info!(%bound, "SMB over TCP listening");
        Ok(bound)
    }

    /// Stops the TCP listener and ends its connections.
    pub fn stop_tcp(&self) {
        if let Some(listener) = lock(&self.tcp).take() {
            let _ = listener.stop.send(true);
            tracing::info!(address = %listener.address, "SMB over TCP stopped");
        }
    }

    pub fn tcp_address(&self) -> Option<SocketAddr> {
        lock(&self.tcp).as_ref().map(|l| l.address)
    }

    /// Stops every listener and connection.
    pub fn shutdown(&self) {
        self.stop_tcp();
        if let Some(listener) = lock(&self.quic).listener.take() {
            listener.stop();
        }
        for (_, stop) in lock(&self.all).drain() {
            let _ = stop.send(true);
        }
        for connection in lock(&self.shared.connections).values() {
            let _ = connection.control.send(Control::Disconnect);
        }
    }

    pub fn sessions(&self) -> Vec<SessionStatus> {
        let mut sessions: Vec<SessionStatus> =
            lock(&self.shared.connections).values().flat_map(|c| c.sessions.iter().cloned()).collect();
        sessions.sort_by_key(|s| (s.connection, s.session_id));
        sessions
    }

    pub fn open_files(&self) -> Vec<OpenFileStatus> {
        let clients: HashMap<ConnectionId, SocketAddr> =
            lock(&self.shared.connections).iter().map(|(id, c)| (*id, c.client)).collect();
        let now = std::time::Instant::now();
        // Durable opens: waiting ones by owner (seconds left, the lost connection's client), and
        // the ids of all.
        let (waiting, durable): (HashMap<OpenRef, (u64, SocketAddr)>, HashMap<u64, bool>) = {
            let table = lock(&self.shared.durable);
            let waiting = table
                .waiting()
                .map(|(_, _, kept)| (kept.owner, (kept.until.saturating_duration_since(now).as_secs(), kept.client)))
                .collect();
            (waiting, table.durable_ids().collect())
        };
        let files = lock(&self.shared.files);
        let mut opens = Vec::new();
        for state in files.iter() {
            for open in &state.opens {
                let waits = waiting.get(&open.owner);
                let Some(client) = clients.get(&open.owner.connection).or(waits.map(|(_, client)| client)) else {
                    continue;
                };
                let mut granted = Vec::new();
                if open.access & (access::FILE_READ_DATA | access::FILE_EXECUTE) != 0 {
                    granted.push("read");
                }
                if open.access & (access::FILE_WRITE_DATA | access::FILE_APPEND_DATA) != 0 {
                    granted.push("write");
                }
                if open.access & access::DELETE != 0 {
                    granted.push("delete");
                }
                opens.push(OpenFileStatus {
                    connection: open.owner.connection.0,
                    session_id: open.session_id.0,
                    file_id: open.owner.volatile,
                    user: open.user.clone(),
                    client: *client,
                    share: state.share.clone(),
                    path: state.path.to_windows(),
                    access: granted,
                    locks: state.locks.iter().filter(|l| l.owner == open.owner).count(),
                    is_directory: open.is_directory,
                    durable: durable.contains_key(&open.owner.volatile),
                    persistent: durable.get(&open.owner.volatile).copied().unwrap_or(false),
                    waiting_seconds: waits.map(|(seconds, _)| *seconds),
                });
            }
        }
        opens.sort_by(|a, b| (&a.share, &a.path).cmp(&(&b.share, &b.path)));
        opens
    }

    /// Ends a session (its client sees STATUS_USER_SESSION_DELETED next). False if not found.
    pub fn close_session(&self, connection: u64, session_id: u64) -> bool {
        let found =
            self.shared.control(ConnectionId(connection), Control::CloseSession { session_id: SessionId(session_id) });
        if found {
            self.shared.emit(Event::ClosedByAdministrator {
                what: format!("session {session_id:#x} on connection {connection}"),
            });
        }
        found
    }

    /// Closes an open file (its client sees STATUS_FILE_CLOSED next). False if not found.
    pub fn close_file(&self, connection: u64, file_id: u64) -> bool {
        // A durable open waiting for its client is closed here: its connection is gone.
        if self.shared.close_waiting(
            OpenRef { connection: ConnectionId(connection), volatile: file_id },
            crate::engine::clock::Now::read(),
        ) {
            self.shared.emit(Event::ClosedByAdministrator {
                what: format!("durable open {file_id:#x} waiting for its client"),
            });
            return true;
        }
        let found = self.shared.control(ConnectionId(connection), Control::CloseFile { volatile: file_id });
        if found {
            self.shared
                .emit(Event::ClosedByAdministrator { what: format!("open {file_id:#x} on connection {connection}") });
        }
        found
    }

    /// Drops a whole connection.
    pub fn disconnect(&self, connection: u64) -> bool {
        self.shared.control(ConnectionId(connection), Control::Disconnect)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.subscribe()
    }

    pub fn unlock_user(&self, name: &str) {
        self.shared.unlock(name);
    }

    pub fn is_locked_out(&self, name: &str) -> bool {
        self.shared.locked_out(name, crate::engine::clock::Now::read())
    }

    /// Connections open now: (TCP, QUIC).
    pub fn connection_counts(&self) -> (usize, usize) {
        let connections = lock(&self.shared.connections);
        let quic = connections.values().filter(|c| c.transport == Transport::Quic).count();
        (connections.len() - quic, quic)
    }

    pub fn counters(&self) -> Counters {
        self.shared.counters()
    }

    /// Raises the process's open-descriptor limit (RLIMIT_NOFILE) to its hard limit, and keeps
    /// opens below it with descriptors in reserve for the console, the database and the
    /// connections. Returns the limit now in force.
    pub fn raise_descriptor_limit(&self) -> u64 {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let current = getrlimit(Resource::Nofile);
        let raised = Rlimit { current: current.maximum, maximum: current.maximum };
        let limit = match setrlimit(Resource::Nofile, raised) {
            Ok(()) => current.maximum,
            Err(error) => {
                tracing::warn!(%error, "cannot raise the open-descriptor limit");
                current.current
            }
        };
        // Unlimited: opens are bounded by the setting alone.
        let limit = limit.unwrap_or(u64::MAX);
        self.shared.set_descriptor_limit(limit);
        limit
    }

    /// How often each limit of the resource budget has refused something.
    pub fn refusals(&self) -> Vec<(crate::Refusal, u64)> {
        self.shared.refusals()
    }

    /// The resource budget in use now.
    pub fn budget_use(&self) -> crate::engine::shared::BudgetUse {
        self.shared.budget_use()
    }

    /// For transports living outside this crate's TCP listener (QUIC).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}
