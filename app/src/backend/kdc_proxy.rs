//! What the console and `/metrics` see of the KDC proxy (MS-KKDCP) the server runs: where it
//! listens (or why it cannot), and what became of the requests it was sent. The proxy itself
//! is the server's (`server::kdc_proxy`); it writes here.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What became of one request, as counted and audited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxyOutcome {
    /// A KDC answered; the answer went back (200).
    Forwarded,
    /// Not a KDC-PROXY-MESSAGE with one AS-REQ or TGS-REQ for a named realm (400).
    Malformed,
    /// No Content-Length (411).
    LengthRequired,
    /// Larger than the proxy accepts (413).
    TooLarge,
    /// A realm the server is not configured for: never forwarded (503, as python3-kdcproxy).
    UnknownRealm,
    /// None of the realm's KDCs answered in time (503).
    Unavailable,
    /// Too many requests in flight already (503).
    Busy,
    /// Another method than POST on /KdcProxy (405), or another path (404).
    NotAProxyRequest,
}

impl ProxyOutcome {
    pub const ALL: [ProxyOutcome; 8] = [
        ProxyOutcome::Forwarded,
        ProxyOutcome::Malformed,
        ProxyOutcome::LengthRequired,
        ProxyOutcome::TooLarge,
        ProxyOutcome::UnknownRealm,
        ProxyOutcome::Unavailable,
        ProxyOutcome::Busy,
        ProxyOutcome::NotAProxyRequest,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProxyOutcome::Forwarded => "forwarded",
            ProxyOutcome::Malformed => "malformed",
            ProxyOutcome::LengthRequired => "length_required",
            ProxyOutcome::TooLarge => "too_large",
            ProxyOutcome::UnknownRealm => "unknown_realm",
            ProxyOutcome::Unavailable => "kdc_unavailable",
            ProxyOutcome::Busy => "busy",
            ProxyOutcome::NotAProxyRequest => "not_a_proxy_request",
        }
    }

    fn index(self) -> usize {
        ProxyOutcome::ALL.iter().position(|outcome| *outcome == self).unwrap_or_default()
    }
}

/// The proxy's state, shared by the proxy, the console and `/metrics`.
#[derive(Debug, Default)]
pub struct KdcProxyState {
    listening: Mutex<Option<SocketAddr>>,
    error: Mutex<Option<String>>,
    outcomes: [AtomicU64; ProxyOutcome::ALL.len()],
}

impl KdcProxyState {
    /// Where the proxy listens now.
    pub fn listening(&self) -> Option<SocketAddr> {
        *self.listening.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why the enabled proxy does not listen (its port is taken, ...).
    pub fn error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records the listener's state: listening at an address, stopped (both `None`), or failing.
    pub fn set(&self, listening: Option<SocketAddr>, error: Option<String>) {
        *self.listening.lock().unwrap_or_else(|e| e.into_inner()) = listening;
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = error;
    }

    /// Waits, at most `limit`, until the proxy has acted on a change of its settings: listening
    /// on `port` when `enabled`, or failing with a reason; stopped otherwise. The proxy applies
    /// configuration changes within a second (`server::engine::watch_config`), so a console
    /// action can answer with the outcome rather than "starting".
    pub async fn settled(&self, enabled: bool, port: u16, limit: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let done = match self.listening() {
                Some(address) => enabled && address.port() == port,
                None => !enabled || self.error().is_some(),
            };
            if done || tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    pub fn count(&self, outcome: ProxyOutcome) {
        self.outcomes[outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// How many requests ended each way since the server started.
    pub fn outcomes(&self) -> Vec<(ProxyOutcome, u64)> {
        ProxyOutcome::ALL
            .iter()
            .map(|outcome| (*outcome, self.outcomes[outcome.index()].load(Ordering::Relaxed)))
            .collect()
    }
}
