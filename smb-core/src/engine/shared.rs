//! State every connection shares: the live configuration, the file table, change watches, the
//! connection registry, account lockout, counters and the event stream.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Semaphore, broadcast, mpsc};

use crate::auth::UserLookup;
use crate::auth::kerberos::keytab::Keytab;
use crate::auth::kerberos::keytab_of;
use crate::auth::kerberos::replay::ReplayCache;
use crate::auth::kerberos::service_ticket::ServiceTicket;
use crate::engine::clock::Now;
use crate::engine::config::{Access, EngineConfig, NtlmPolicy, ShareConfig, UserConfig, fold_name};
use crate::engine::connection::ConnectionInfo;
use crate::engine::durable::DurableTable;
use crate::engine::events::{Counters, Event, SessionStatus, Transport};
use crate::engine::files::FileTable;
use crate::engine::ids::{AsyncId, ConnectionId, SessionId, Waiter};
use crate::engine::notify::{Change, Watches};
use crate::engine::offenders::Offenders;
use crate::engine::session::Identity;
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
    /// By folded name ([`fold_name`]).
    pub shares: HashMap<String, Arc<ShareRuntime>>,
    users: HashMap<String, usize>,
    /// The domain names of [`KerberosSettings::domain_names`] by folded name, to their SIDs.
    domain_sids: HashMap<String, String>,
    /// The principals of [`KerberosSettings::principal_map`] by folded name, to local users.
    mapped_principals: HashMap<String, String>,
    /// The Kerberos service keys as the acceptor reads them.
    pub(crate) keytab: Keytab,
}

impl Runtime {
    /// Opens every share's root afresh: a directory replaced since the last configuration is
    /// served as it is now. Trees connected earlier keep the root they opened.
    pub fn new(config: EngineConfig) -> Runtime {
        let shares = unambiguous("share", config.shares.iter().map(|share| &share.name))
            .into_iter()
            .map(|(key, i)| {
                let share = &config.shares[i];
                let root =
                    ShareRoot::open(&share.path).map_err(|e| format!("cannot open {}: {e}", share.path.display()));
                (key, Arc::new(ShareRuntime { config: share.clone(), root }))
            })
            .collect();
        let users = unambiguous("user", config.users.iter().map(|user| &user.name));
        let kerberos = &config.kerberos;
        let domain_sids =
            kerberos.domain_names.iter().map(|(name, sid)| (fold_name(name), sid.to_ascii_uppercase())).collect();
        let mapped_principals =
            kerberos.principal_map.iter().map(|(principal, user)| (fold_name(principal), user.clone())).collect();
        let keytab = keytab_of(&kerberos.keys);
        Runtime { config, shares, users, domain_sids, mapped_principals, keytab }
    }

    /// The account `name` is, in any case: the configured spelling is its `name`.
    pub fn user(&self, name: &str) -> Option<&UserConfig> {
        self.users.get(&fold_name(name)).map(|&i| &self.config.users[i])
    }

    pub fn share(&self, name: &str) -> Option<&Arc<ShareRuntime>> {
        self.shares.get(&fold_name(name))
    }

    /// The local user a Kerberos principal (`bob@EXAMPLE.COM`) is mapped to.
    pub(crate) fn mapped_user(&self, principal: &str) -> Option<&str> {
        self.mapped_principals.get(&fold_name(principal)).map(String::as_str)
    }

    /// Whether SESSION_SETUP offers and accepts Kerberos: the keytab holds a key.
    pub(crate) fn kerberos_enabled(&self) -> bool {
        !self.keytab.entries.is_empty()
    }

    /// Whether SESSION_SETUP accepts NTLM.
    pub(crate) fn ntlm_allowed(&self) -> bool {
        self.config.kerberos.ntlm == NtlmPolicy::Allow
    }

    /// The SPNEGO hint of the NEGOTIATE response: the mechanisms SESSION_SETUP accepts now.
    pub(crate) fn negotiate_hint(&self) -> Vec<u8> {
        crate::auth::negotiate_hint(self.kerberos_enabled(), self.ntlm_allowed())
    }

    /// The permission `identity` has on `share` (by name, alias or SID; Deny wins).
    pub(crate) fn access(&self, share: &ShareConfig, identity: &Identity) -> Access {
        share.access_of(|name, access| identity.is_named(name, access == Access::Deny, |name| self.sid_of(name)))
    }

    /// The SID a permission entry names: written out (`S-1-5-21-...`), or a domain name the
    /// configuration maps to one (`CORP\Sales`).
    pub(crate) fn sid_of(&self, name: &str) -> Option<String> {
        if name.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("S-1-")) {
            return Some(name.to_ascii_uppercase());
        }
        self.domain_sids.get(&fold_name(name)).cloned()
    }
}

/// Index by folded name of `names`, leaving out names that fold alike: such a name could mean
/// either, so it means neither (the database refuses them since migration 0006, but may hold
/// some from before it).
fn unambiguous<'a>(what: &str, names: impl Iterator<Item = &'a String>) -> HashMap<String, usize> {
    let mut index = HashMap::new();
    let mut ambiguous = Vec::new();
    for (i, name) in names.enumerate() {
        let key = fold_name(name);
        if index.insert(key.clone(), i).is_some() {
            ambiguous.push(key);
        }
    }
    for key in ambiguous {
        if index.remove(&key).is_some() {
            tracing::warn!(name = %key, "two SMB {what}s differ only in case: neither is served until one is removed");
        }
    }
    index
}

/// Messages to a connection's driver from outside its own request flow.
#[derive(Debug)]
pub enum Control {
    /// An async request may now complete (lock released, change recorded).
    Wake { async_id: AsyncId },
    /// An administrator closes a session.
    CloseSession { session_id: SessionId },
    /// A session ends because its client reconnected elsewhere (MS-SMB2 3.3.5.5.3,
    /// PreviousSessionId): its durable opens wait for the client.
    ExpireSession { session_id: SessionId },
    /// An administrator closes an open file.
    CloseFile { volatile: u64 },
    /// Send a lease or oplock break notification for one of its opens.
    Break(crate::engine::leases::Break),
    /// Its sessions changed elsewhere (another channel of one was lost and left it the
    /// session's opens): list them again.
    Publish,
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

/// Names that are no account but are tracked for lockout (see [`Lockouts`]): at most this many.
pub const MAX_UNKNOWN_NAMES: usize = 4096;

/// Names are tracked for lockout by at most this many characters (account names have at most
/// 20), so that made-up names cost bounded memory each.
const MAX_TRACKED_NAME_CHARS: usize = 64;

#[derive(Debug, Default)]
struct LockoutState {
    failures: Vec<Instant>,
    last_failure: Option<Instant>,
    locked_until: Option<SystemTime>,
    /// Locked here, and the lock is not yet known to be stored with the account: a configuration
    /// read before it was stored must not undo it.
    unsaved: bool,
}

impl LockoutState {
    /// Whether forgetting this state changes nothing: no failure in the window, no lock in force.
    fn idle(&self, now: Now, window: Duration) -> bool {
        self.locked_until.is_none_or(|until| until <= now.system)
            && self.failures.iter().all(|t| now.instant.duration_since(*t) >= window)
    }
}

/// Failed logons and lockouts by folded name. Names that are no account count and lock exactly
/// as accounts do, so that a client cannot tell the accounts by which names get locked out
/// (Windows too answers STATUS_LOGON_FAILURE, then STATUS_ACCOUNT_LOCKED_OUT, for any name).
/// Made-up names are bounded: beyond [`MAX_UNKNOWN_NAMES`], idle ones are forgotten, then the
/// least recently failed. Accounts are never forgotten, so that a flood of made-up names cannot
/// reset an account's count. The accounts are exactly the configured users.
#[derive(Debug, Default)]
struct Lockouts {
    accounts: HashMap<String, LockoutState>,
    unknown: HashMap<String, LockoutState>,
}

/// The key of `user` in [`Lockouts`].
fn lockout_key(user: &str) -> String {
    let end = user.char_indices().nth(MAX_TRACKED_NAME_CHARS).map_or(user.len(), |(i, _)| i);
    fold_name(&user[..end])
}

impl Lockouts {
    fn get(&self, user: &str) -> Option<&LockoutState> {
        let key = lockout_key(user);
        self.accounts.get(&key).or_else(|| self.unknown.get(&key))
    }

    fn get_mut(&mut self, user: &str) -> Option<&mut LockoutState> {
        let key = lockout_key(user);
        match self.accounts.get_mut(&key) {
            Some(state) => Some(state),
            None => self.unknown.get_mut(&key),
        }
    }

    /// The state of `user`, made for a name not seen yet (forgetting another when full); and
    /// whether it is an account.
    fn entry(&mut self, user: &str, now: Now, window: Duration) -> (&mut LockoutState, bool) {
        let key = lockout_key(user);
        if self.accounts.contains_key(&key) {
            return (self.accounts.get_mut(&key).expect("present"), true);
        }
        if !self.unknown.contains_key(&key) && self.unknown.len() >= MAX_UNKNOWN_NAMES {
            self.unknown.retain(|_, state| !state.idle(now, window));
            if self.unknown.len() >= MAX_UNKNOWN_NAMES {
                let oldest = self.unknown.iter().min_by_key(|(_, state)| state.last_failure).map(|(k, _)| k.clone());
                oldest.map(|k| self.unknown.remove(&k));
            }
        }
        (self.unknown.entry(key).or_default(), false)
    }

    /// Takes the accounts from a configuration: their stored locks take effect, except a lock
    /// made here and not stored yet (the configuration predates it). Removed users are forgotten.
    fn follow(&mut self, users: &[UserConfig]) {
        let mut accounts = HashMap::with_capacity(users.len());
        for user in users {
            let key = lockout_key(&user.name);
            self.unknown.remove(&key);
            let mut state = self.accounts.remove(&key).unwrap_or_default();
            if !state.unsaved {
                state.locked_until = user.locked_until.map(|t| UNIX_EPOCH + Duration::from_secs(t.max(0) as u64));
                if state.locked_until.is_none() {
                    state.failures.clear();
                }
            }
            accounts.insert(key, state);
        }
        self.accounts = accounts;
    }
}

/// A limit of the resource budget ([`crate::engine::config::Limits`]) that refused something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// A connection over the server's limit.
    Connections,
    /// A connection over its client address's limit.
    ConnectionsPerClient,
    /// A connection without an authenticated session at the pre-authentication deadline.
    PreauthTimeout,
    /// A connection without a session, silent past the idle timeout.
    IdleWithoutSession,
    /// A message over the size allowed before authentication.
    PreauthMessage,
    /// A new session over the connection's limit.
    Sessions,
    /// An open over the session's or the server's limit.
    Opens,
    /// A client that did not read its responses for the send timeout.
    SendTimeout,
    /// A compound whose responses would exceed the largest message.
    CompoundResponse,
    /// An async request over the connection's limit.
    PendingRequests,
    /// An RPC call larger than the reassembly limit.
    RpcCall,
    /// A QUIC client asked to prove its address (Retry) under load.
    QuicRetry,
    /// A connection from an address that keeps breaking the limits (see [`crate::engine::offenders`]).
    RepeatOffender,
}

impl Refusal {
    pub const ALL: [Refusal; 13] = [
        Refusal::Connections,
        Refusal::ConnectionsPerClient,
        Refusal::PreauthTimeout,
        Refusal::IdleWithoutSession,
        Refusal::PreauthMessage,
        Refusal::Sessions,
        Refusal::Opens,
        Refusal::SendTimeout,
        Refusal::CompoundResponse,
        Refusal::PendingRequests,
        Refusal::RpcCall,
        Refusal::QuicRetry,
        Refusal::RepeatOffender,
    ];

    /// Its name in metrics and the audit log.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::Connections => "connections",
            Refusal::ConnectionsPerClient => "connections_per_client",
            Refusal::PreauthTimeout => "preauth_timeout",
            Refusal::IdleWithoutSession => "idle_without_session",
            Refusal::PreauthMessage => "preauth_message_size",
            Refusal::Sessions => "sessions",
            Refusal::Opens => "opens",
            Refusal::SendTimeout => "send_timeout",
            Refusal::CompoundResponse => "compound_response_size",
            Refusal::PendingRequests => "pending_requests",
            Refusal::RpcCall => "rpc_call_size",
            Refusal::QuicRetry => "quic_retry",
            Refusal::RepeatOffender => "repeat_offender",
        }
    }

    /// Whether this refusal is a strike against the client's address: what only a misbehaving
    /// client does (not a limit a busy but honest client can reach, like its opens).
    pub fn is_offence(self) -> bool {
        matches!(self, Refusal::PreauthTimeout | Refusal::PreauthMessage | Refusal::SendTimeout | Refusal::Sessions)
    }
}

/// The resource budget in use, for the health report.
#[derive(Clone, Debug)]
pub struct BudgetUse {
    pub connections: u32,
    pub max_connections: u32,
    pub opens: u64,
    /// The opens the server allows now: the setting, or fewer when descriptors are short.
    pub max_opens: u64,
    /// The process's descriptor limit, when known.
    pub descriptor_limit: Option<u64>,
    pub refusals: Vec<(Refusal, u64)>,
}

/// Connections admitted: in all, and by client address.
#[derive(Debug, Default)]
struct Admitted {
    total: u32,
    by_client: HashMap<IpAddr, u32>,
}

/// A connection's place in the budget, given back when it is dropped.
pub struct Admission {
    shared: Arc<Shared>,
    client: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut admitted = lock(&self.shared.admitted);
        admitted.total = admitted.total.saturating_sub(1);
        if let std::collections::hash_map::Entry::Occupied(mut entry) = admitted.by_client.entry(self.client) {
            *entry.get_mut() -= 1;
            if *entry.get() == 0 {
                entry.remove();
            }
        }
    }
}

pub struct Shared {
    config: RwLock<Arc<Runtime>>,
    pub(crate) files: Mutex<FileTable>,
    pub(crate) watches: Mutex<Watches>,
    /// Durable opens, attached or waiting for their client.
    pub(crate) durable: Mutex<DurableTable>,
    /// Where persistent opens are written, when the server keeps them ([`Shared::set_journal`]).
    pub(crate) journal: RwLock<Option<Arc<dyn crate::engine::persistent::OpenJournal>>>,
    pub(crate) connections: Mutex<HashMap<ConnectionId, ConnectionEntry>>,
    /// GlobalSessionTable: every session, whichever connections it is bound to.
    pub(crate) sessions: Mutex<crate::engine::channels::SessionTable>,
    lockout: Mutex<Lockouts>,
    events: broadcast::Sender<Event>,
    pub(crate) next_id: AtomicU64,
    next_session_id: AtomicU64,
    counters: [AtomicU64; 6],
    refusals: [AtomicU64; Refusal::ALL.len()],
    admitted: Mutex<Admitted>,
    offenders: Mutex<Offenders>,
    /// Where each connection's random generator is seeded from.
    pub(crate) rng: Mutex<StdRng>,
    /// Kerberos authenticators seen within the clock skew (RFC 4120 section 3.2.3).
    pub(crate) replay: Mutex<ReplayCache>,
    /// The TGTs of our service principals, for user-to-user clients; kept current by the
    /// server ([`Shared::set_service_tickets`]), not part of the configuration.
    pub(crate) service_tickets: RwLock<Arc<Vec<ServiceTicket>>>,
    /// The host's network interfaces, as the server last read them (multichannel clients ask
    /// for them, MS-SMB2 3.3.5.15.11).
    interfaces: RwLock<Arc<Vec<crate::proto::ioctl::NetworkInterfaceInfo>>>,
    /// Opens in the whole server.
    opens: AtomicU64,
    /// Descriptors the process may hold (its raised RLIMIT_NOFILE), when known: opens stay
    /// below it with room for the console, the database and connections.
    descriptor_limit: AtomicU64,
    /// Response bytes queued for all connections (in [`RESPONSE_UNIT`]s), and the size of that
    /// budget as last configured.
    responses: Arc<Semaphore>,
    response_units: Mutex<usize>,
}

/// The response budgets count bytes in units of this size.
pub const RESPONSE_UNIT: usize = 1 << 10;

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
    /// The state of a server, with randomness from the operating system.
    pub fn new(config: EngineConfig) -> Arc<Shared> {
        Shared::with(config, StdRng::from_os_rng())
    }

    /// The state of a server whose random numbers (session ids, salts, challenges, nonces) all
    /// come from `seed`: the same seed and messages give the same answers (for tests on virtual
    /// time; never for a server facing clients).
    pub fn seeded(config: EngineConfig, seed: u64) -> Arc<Shared> {
        Shared::with(config, StdRng::seed_from_u64(seed))
    }

    fn with(config: EngineConfig, mut rng: StdRng) -> Arc<Shared> {
        let (events, _) = broadcast::channel(4096);
        let response_units = (config.server.limits.max_queued_response_bytes_total as usize).div_ceil(RESPONSE_UNIT);
        let mut lockout = Lockouts::default();
        lockout.follow(&config.users);
        let replay = ReplayCache::new(config.kerberos.max_skew, crate::auth::kerberos::replay::DEFAULT_CAPACITY);
        Arc::new(Shared {
            config: RwLock::new(Arc::new(Runtime::new(config))),
            files: Mutex::default(),
            durable: Mutex::default(),
            journal: RwLock::default(),
            watches: Mutex::default(),
            connections: Mutex::default(),
            sessions: Mutex::default(),
            lockout: Mutex::new(lockout),
            events,
            // Ids start high and odd-looking, so that a client's stale or guessed ids do not hit.
            next_id: AtomicU64::new(0x0000_0400_0000_0001),
            // Session ids stay within 32 bits: some clients (smbtorture among them) keep them in
            // 32-bit variables. They start at a random point so that a restart does not reuse them.
            next_session_id: AtomicU64::new(u64::from(rng.random::<u32>() >> 4) + 0x0001_0000),
            counters: Default::default(),
            refusals: Default::default(),
            admitted: Mutex::default(),
            offenders: Mutex::default(),
            replay: Mutex::new(replay),
            service_tickets: RwLock::default(),
            interfaces: RwLock::default(),
            opens: AtomicU64::new(0),
            descriptor_limit: AtomicU64::new(u64::MAX),
            responses: Arc::new(Semaphore::new(response_units)),
            response_units: Mutex::new(response_units),
            rng: Mutex::new(rng),
        })
    }

    /// The budget of response bytes queued for all connections together.
    pub fn responses(&self) -> &Arc<Semaphore> {
        &self.responses
    }

    /// The total response budget, in [`RESPONSE_UNIT`]s.
    pub fn response_units(&self) -> usize {
        *lock(&self.response_units)
    }

    /// Whether more than half of the total response budget is taken.
    pub fn responses_under_pressure(&self) -> bool {
        self.responses.available_permits() * 2 < *lock(&self.response_units)
    }

    /// Resizes the total response budget to the configured limit.
    fn resize_responses(&self, bytes: u32) {
        let wanted = (bytes as usize).div_ceil(RESPONSE_UNIT);
        let mut units = lock(&self.response_units);
        if wanted > *units {
            self.responses.add_permits(wanted - *units);
            *units = wanted;
        } else if wanted < *units {
            // Only free room can go now; what is taken returns and stays (a smaller budget
            // settles as queued responses go out).
            *units -= self.responses.forget_permits(*units - wanted);
        }
    }

    /// Counts something a limit refused.
    pub fn refuse(&self, refusal: Refusal) {
        self.refusals[refusal as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `refusal` of something `client` did at `now`, and when it is an offence, a strike
    /// against the client's address.
    pub fn refuse_client(&self, refusal: Refusal, client: IpAddr, now: Instant) {
        self.refuse(refusal);
        if refusal.is_offence() {
            let per_minute = self.runtime().config.server.limits.offences_per_minute;
            lock(&self.offenders).strike(client, per_minute, now);
        }
    }

    /// How often each limit has refused something since the start.
    pub fn refusals(&self) -> Vec<(Refusal, u64)> {
        Refusal::ALL.iter().map(|r| (*r, self.refusals[*r as usize].load(Ordering::Relaxed))).collect()
    }

    /// Takes a place for a new connection from `client` at `now`, or names the limit that
    /// refuses it.
    pub fn admit(self: &Arc<Self>, client: IpAddr, now: Instant) -> Result<Admission, Refusal> {
        let limits = self.runtime().config.server.limits;
        if lock(&self.offenders).refuses(client, limits.offences_per_minute, now) {
            self.refuse(Refusal::RepeatOffender);
            return Err(Refusal::RepeatOffender);
        }
        let mut admitted = lock(&self.admitted);
        let refusal = if admitted.total >= limits.max_connections {
            Some(Refusal::Connections)
        } else if admitted.by_client.get(&client).copied().unwrap_or(0) >= limits.max_connections_per_client {
            Some(Refusal::ConnectionsPerClient)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            drop(admitted);
            self.refuse(refusal);
            return Err(refusal);
        }
        admitted.total += 1;
        *admitted.by_client.entry(client).or_default() += 1;
        Ok(Admission { shared: self.clone(), client })
    }

    /// Connections admitted now.
    pub fn admitted(&self) -> u32 {
        lock(&self.admitted).total
    }

    /// Descriptors reserved for everything but open files: the console, the database, logs,
    /// and the connections themselves.
    const DESCRIPTOR_RESERVE: u64 = 512;

    /// Tells the engine how many descriptors the process may hold.
    pub fn set_descriptor_limit(&self, limit: u64) {
        self.descriptor_limit.store(limit, Ordering::Relaxed);
    }

    /// Whether one more open fits the server's budget (the setting, and the descriptors left
    /// after the reserve and one per admitted connection).
    pub fn may_open(&self) -> bool {
        let configured = u64::from(self.runtime().config.server.limits.max_opens);
        let descriptors = self
            .descriptor_limit
            .load(Ordering::Relaxed)
            .saturating_sub(Self::DESCRIPTOR_RESERVE + u64::from(self.admitted()));
        self.opens.load(Ordering::Relaxed) < configured.min(descriptors)
    }

    /// An open was added to a session (see [`Shared::may_open`]).
    pub fn opened(&self) {
        self.opens.fetch_add(1, Ordering::Relaxed);
    }

    /// An open was closed.
    pub fn closed(&self) {
        let _ = self.opens.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// What the budget holds now, against its limits.
    pub fn budget_use(&self) -> BudgetUse {
        let limits = self.runtime().config.server.limits;
        let descriptors = self.descriptor_limit.load(Ordering::Relaxed);
        BudgetUse {
            connections: self.admitted(),
            max_connections: limits.max_connections,
            opens: self.opens.load(Ordering::Relaxed),
            max_opens: u64::from(limits.max_opens)
                .min(descriptors.saturating_sub(Self::DESCRIPTOR_RESERVE + u64::from(self.admitted()))),
            descriptor_limit: (descriptors != u64::MAX).then_some(descriptors),
            refusals: self.refusals(),
        }
    }

    pub fn runtime(&self) -> Arc<Runtime> {
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn apply(&self, config: EngineConfig) -> Arc<Runtime> {
        let mut current = self.config.write().unwrap_or_else(|p| p.into_inner());
        let runtime = Arc::new(Runtime::new(config));
        // Accounts the new configuration locks or unlocks take effect now.
        lock(&self.lockout).follow(&runtime.config.users);
        lock(&self.replay).set_skew(runtime.config.kerberos.max_skew);
        self.resize_responses(runtime.config.server.limits.max_queued_response_bytes_total);
        *current = runtime.clone();
        runtime
    }

    /// Replaces the TGTs user-to-user clients are served with (the current one of each
    /// principal, and a predecessor while tickets issued under it may still arrive).
    pub fn set_service_tickets(&self, tickets: Vec<ServiceTicket>) {
        *self.service_tickets.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(tickets);
    }

    /// Replaces the list of the host's interface addresses that QUERY_NETWORK_INTERFACE_INFO
    /// reports.
    pub fn set_network_interfaces(&self, interfaces: Vec<crate::proto::ioctl::NetworkInterfaceInfo>) {
        *self.interfaces.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(interfaces);
    }

    pub(crate) fn network_interfaces(&self) -> Arc<Vec<crate::proto::ioctl::NetworkInterfaceInfo>> {
        self.interfaces.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn service_tickets(&self) -> Arc<Vec<ServiceTicket>> {
        self.service_tickets.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A fresh id for sessions, opens, async operations and connections.
    /// A fresh volatile file id (MS-SMB2 2.2.14.1), unique for the server's life.
    pub(crate) fn next_volatile_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh connection id.
    pub fn next_connection_id(&self) -> ConnectionId {
        ConnectionId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// A fresh async id.
    pub(crate) fn next_async_id(&self) -> AsyncId {
        AsyncId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// A fresh session id (below 2^32).
    pub fn next_session_id(&self) -> SessionId {
        let id = self.next_session_id.fetch_add(1, Ordering::Relaxed);
        if id > u64::from(u32::MAX) {
            self.next_session_id.store(0x0001_0000, Ordering::Relaxed)
        }
        SessionId(id & u64::from(u32::MAX))
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

    /// Whether `user` (an account or not) is locked out at `now`.
    pub fn locked_out(&self, user: &str, now: Now) -> bool {
        let lockout = lock(&self.lockout);
        lockout.get(user).and_then(|s| s.locked_until).is_some_and(|until| until > now.system)
    }

    /// Counts a failed logon of `user`, an account or not; returns the lock's end (Unix seconds)
    /// and the failure count when this failure locks an account (a name that is no account is
    /// locked as silently as it fails: there is no account to store the lock with).
    pub fn logon_failed(&self, user: &str, now: Now) -> Option<(i64, u32)> {
        let policy = self.runtime().config.server.lockout;
        if policy.threshold == 0 {
            return None;
        }
        let mut lockout = lock(&self.lockout);
        let (state, account) = lockout.entry(user, now, policy.window);
        state.failures.retain(|t| now.instant.duration_since(*t) < policy.window);
        state.failures.push(now.instant);
        state.last_failure = Some(now.instant);
        let count = state.failures.len() as u32;
        if count >= policy.threshold && state.locked_until.is_none_or(|t| t <= now.system) {
            let until = now.system + policy.duration;
            state.locked_until = Some(until);
            state.unsaved = account;
            state.failures.clear();
            let seconds = until.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
            return account.then_some((seconds, count));
        }
        None
    }

    pub fn logon_succeeded(&self, user: &str) {
        if let Some(state) = lock(&self.lockout).get_mut(user) {
            state.failures.clear();
        }
    }

    /// Unlocks an account now (an administrator's action).
    pub fn unlock(&self, user: &str) {
        if let Some(state) = lock(&self.lockout).get_mut(user) {
            state.failures.clear();
            state.locked_until = None;
            state.unsaved = false;
        }
    }

    /// The lock of `user` ending at `until` (Unix seconds, as [`Event::AccountLockedOut`] gives
    /// it) is stored with the account: configurations read from now on carry it, and an
    /// administrator's unlock there takes effect.
    pub fn lockout_saved(&self, user: &str, until: i64) {
        if let Some(state) = lock(&self.lockout).get_mut(user) {
            let ends = state.locked_until.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs() as i64);
            if ends == Some(until) {
                state.unsaved = false;
            }
        }
    }

    /// Sends a control message to a connection; false if it is gone.
    pub fn control(&self, connection: ConnectionId, message: Control) -> bool {
        lock(&self.connections).get(&connection).is_some_and(|c| c.control.send(message).is_ok())
    }

    /// Sends break notifications to the connections holding the caching. A break to a durable
    /// open waiting for its client closes that open instead (see
    /// [`crate::engine::durable::close_unreachable`]).
    pub fn send_breaks(&self, breaks: Vec<crate::engine::leases::Break>, now: Now) {
        let (breaks, _) = crate::engine::durable::close_unreachable(self, breaks, now);
        self.deliver_breaks(breaks);
    }

    /// Sends breaks already sorted by [`crate::engine::durable::close_unreachable`].
    pub(crate) fn deliver_breaks(&self, breaks: Vec<crate::engine::leases::Break>) {
        use crate::engine::leases::Break;
        for notification in breaks {
            let connection = match notification {
                Break::Lease { via, .. } => via.connection,
                Break::Oplock { owner, .. } => owner.connection,
            };
            self.control(connection, Control::Break(notification));
        }
    }

    /// Registers a connection that starts now: it is counted and announced, and what other
    /// connections and the console ask of it (breaks, wake-ups, closes) arrives on the receiver,
    /// which its driver must handle between messages.
    pub fn attach(&self, info: &ConnectionInfo) -> mpsc::UnboundedReceiver<Control> {
        let (control, receiver) = mpsc::unbounded_channel();
        let entry = ConnectionEntry { client: info.client, transport: info.transport, control, sessions: Vec::new() };
        lock(&self.connections).insert(info.id, entry);
        self.count(Counter::Connections, 1);
        self.emit(Event::Connected { connection: info.id.0, client: info.client, transport: info.transport });
        receiver
    }

    /// The end of a connection [`Shared::attach`]ed.
    pub fn detach(&self, info: &ConnectionInfo) {
        lock(&self.connections).remove(&info.id);
        self.emit(Event::Disconnected { connection: info.id.0, client: info.client, transport: info.transport });
    }

    /// Records a change and wakes the requests waiting for it.
    pub fn changed(&self, change: Change<'_>) {
        let ready = lock(&self.watches).record(&change);
        for Waiter { connection, async_id } in ready {
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
        let (until, _) = shared.logon_failed("alice", Now::read()).expect("the first failure locks");
        shared.apply(config(None));
        assert!(shared.locked_out("alice", Now::read()), "a configuration without the lock must not unlock");
        shared.lockout_saved("alice", until);
        shared.apply(config(Some(until)));
        assert!(shared.locked_out("alice", Now::read()));
        shared.apply(config(None));
        assert!(!shared.locked_out("alice", Now::read()), "once stored, an unlock in the stored accounts takes effect");
    }

    #[test]
    fn an_administrators_unlock_ends_an_unsaved_lockout() {
        let shared = Shared::new(config(None));
        shared.logon_failed("alice", Now::read()).expect("the first failure locks");
        shared.unlock("Alice");
        assert!(!shared.locked_out("alice", Now::read()));
        shared.logon_failed("alice", Now::read()).expect("locks again");
        assert!(shared.locked_out("alice", Now::read()));
    }

    /// `names` as users, with `threshold` failures locking.
    fn accounts(names: &[&str], threshold: u32) -> EngineConfig {
        let mut config = config(None);
        config.server.lockout.threshold = threshold;
        config.users = names
            .iter()
            .map(|name| UserConfig { name: (*name).into(), nt_hash: [0xAB; 16], enabled: true, locked_until: None })
            .collect();
        config
    }

    #[test]
    fn a_user_is_found_in_any_case_under_its_configured_spelling() {
        let runtime = Runtime::new(accounts(&["Émile"], 1));
        assert_eq!(runtime.user("ÉMILE").map(|u| u.name.as_str()), Some("Émile"));
        assert_eq!(runtime.user("émile").map(|u| u.name.as_str()), Some("Émile"));
        assert!(runtime.user("emile").is_none());
    }

    #[test]
    fn users_whose_names_differ_only_in_case_are_neither_found() {
        let runtime = Runtime::new(accounts(&["Émile", "émile", "alice"], 1));
        assert!(runtime.user("émile").is_none());
        assert!(runtime.user("ÉMILE").is_none());
        assert!(runtime.user("alice").is_some());
    }

    #[test]
    fn a_lockout_holds_for_every_case_of_the_name() {
        let shared = Shared::new(accounts(&["Émile"], 1));
        shared.logon_failed("ÉMILE", Now::read()).expect("the first failure locks the account");
        assert!(shared.locked_out("émile", Now::read()));
        assert!(shared.locked_out("Émile", Now::read()));
    }

    #[test]
    fn a_name_that_is_no_account_locks_as_an_account_does_but_silently() {
        let shared = Shared::new(accounts(&["alice"], 2));
        assert!(shared.logon_failed("alice", Now::read()).is_none());
        assert!(shared.logon_failed("mallory", Now::read()).is_none());
        assert!(!shared.locked_out("alice", Now::read()) && !shared.locked_out("mallory", Now::read()));
        assert!(shared.logon_failed("alice", Now::read()).is_some(), "an account's lock is told, to be stored");
        assert!(shared.logon_failed("mallory", Now::read()).is_none(), "there is no account to store this one with");
        assert!(shared.locked_out("alice", Now::read()) && shared.locked_out("mallory", Now::read()));
    }

    #[test]
    fn an_account_created_under_a_locked_made_up_name_starts_unlocked() {
        let shared = Shared::new(accounts(&["alice"], 1));
        shared.logon_failed("bob", Now::read());
        assert!(shared.locked_out("bob", Now::read()));
        shared.apply(accounts(&["alice", "Bob"], 1));
        assert!(!shared.locked_out("bob", Now::read()));
    }

    #[test]
    fn made_up_names_stay_bounded_and_never_reset_an_accounts_count() {
        let shared = Shared::new(accounts(&["alice"], 3));
        shared.logon_failed("alice", Now::read());
        shared.logon_failed("alice", Now::read());
        for i in 0..3 * MAX_UNKNOWN_NAMES {
            shared.logon_failed(&format!("random-{i}-{}", "x".repeat(200)), Now::read());
            assert!(lock(&shared.lockout).unknown.len() <= MAX_UNKNOWN_NAMES);
        }
        assert!(shared.logon_failed("alice", Now::read()).is_some(), "the account's two failures were kept");
        let lockouts = lock(&shared.lockout);
        assert!(lockouts.unknown.keys().all(|k| k.chars().count() <= MAX_TRACKED_NAME_CHARS));
        assert!(lockouts.unknown.keys().any(|k| k.starts_with(&format!("random-{}-", 3 * MAX_UNKNOWN_NAMES - 1))));
    }
}
