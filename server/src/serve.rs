//! The console's listener (and the KDC proxy's): HTTPS (or loopback-only HTTP), HTTP/1.1,
//! bounded in connections, in connections per client address and in the time a connection may
//! take without making progress, and a graceful stop that lets requests in flight finish.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How many connections a listener (the console's, the KDC proxy's) serves at once, and how
/// long each may take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// What the log calls the listener ("console", "KDC proxy").
    pub name: &'static str,
    /// Connections served at once; further ones wait in the kernel's backlog until one closes.
    pub max_connections: usize,
    /// Connections from one client address at once; further ones from it are closed at once,
    /// so that one address cannot take every place.
    pub max_per_client: usize,
    /// TLS handshakes that take longer are dropped.
    pub handshake_timeout: Duration,
    /// A request's line and headers must arrive within this, or the connection is closed
    /// (slow-loris); it also bounds the wait for the next request on a kept-alive connection.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Duration,
    /// A request must be answered within this, its body read included (a body that never
    /// finishes arriving).
    pub request_timeout: Duration,
}

impl Limits {
    pub fn new(max_connections: usize) -> Limits {
        Limits {
            name: "console",
            max_connections,
            max_per_client: (max_connections / 4).max(1),
            handshake_timeout: Duration::from_secs(15),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
        }
    }
}

/// One connection's count against its client address; released when dropped.
struct ClientPlace {
    clients: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl ClientPlace {
    /// A place for a connection from `ip`, unless it already holds `limit`.
    fn take(clients: &Arc<Mutex<HashMap<IpAddr, usize>>>, ip: IpAddr, limit: usize) -> Option<ClientPlace> {
        let mut counts = clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(ip).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(ClientPlace { clients: Arc::clone(clients), ip })
    }
}

impl Drop for ClientPlace {
    fn drop(&mut self) {
        let mut counts = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let std::collections::hash_map::Entry::Occupied(mut entry) = counts.entry(self.ip) {
            *entry.get_mut() -= 1;
            if *entry.get() == 0 {
                entry.remove();
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then waits up to `grace` for open
/// connections.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let clients = Arc::new(Mutex::new(HashMap::new()));
    let mut full_since: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        // A free place first, then accept: beyond the limit, connections wait in the backlog.
        let place = match Arc::clone(&connections).try_acquire_owned() {
            Ok(place) => place,
            Err(_) => {
                if full_since.is_none_or(|since| since.elapsed() > Duration::from_secs(60)) {
                    tracing::warn!(
                        listener = limits.name,
                        limit = limits.max_connections,
                        "connection limit reached; new connections wait"
                    );
                    full_since = Some(Instant::now());
                }
                tokio::select! {
                    place = Arc::clone(&connections).acquire_owned() => place.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors and the like: pause instead of spinning.
                    tracing::warn!(listener = limits.name, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(client_place) = ClientPlace::take(&clients, peer.ip(), limits.max_per_client) else {
            tracing::debug!(listener = limits.name, %peer, limit = limits.max_per_client, "too many connections from this address; closed");
            drop(stream);
            continue;
        };
        let router = router.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _place = (place, client_place);
            let activity = Arc::new(Activity::default());
            let service = {
                let activity = Arc::clone(&activity);
                TowerToHyperService::new(tower::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    let busy = Busy::start(&activity);
                    let response = tokio::time::timeout(limits.request_timeout, router.clone().oneshot(request));
                    async move {
                        let response = match response.await {
                            Ok(Ok(response)) => response,
                            Ok(Err(never)) => match never {},
                            Err(_elapsed) => {
                                tracing::debug!(listener = limits.name, %peer, "request timed out");
                                (StatusCode::REQUEST_TIMEOUT, "The request took too long.\n").into_response()
                            }
                        };
                        Ok::<_, std::convert::Infallible>(response.map(|body| Tracked { body, _busy: busy }))
                    }
                }))
            };
            // HTTP/1.1 only (the console's TLS offers no other ALPN protocol): hyper-util's
            // detection would wait without a deadline for the first bytes of a connection.
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
            let served = match acceptor {
                Some(acceptor) => match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let connection =
                            builder.http1_only().serve_connection(TokioIo::new(stream), service).into_owned();
                        until_idle(watcher.watch(connection), &activity, limits.idle_timeout).await
                    }
                    Ok(Err(error)) => {
                        tracing::debug!(listener = limits.name, %peer, %error, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(listener = limits.name, %peer, "TLS handshake timed out");
                        return;
                    }
                },
                None => {
                    let connection = builder.http1_only().serve_connection(TokioIo::new(stream), service).into_owned();
                    until_idle(watcher.watch(connection), &activity, limits.idle_timeout).await
                }
            };
            match served {
                Some(Err(error)) => {
                    tracing::debug!(listener = limits.name, %peer, %error, "connection ended with an error")
                }
                Some(Ok(())) => {}
                None => tracing::debug!(listener = limits.name, %peer, "closed an idle connection"),
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!(listener = limits.name, "all connections closed"),
        () = tokio::time::sleep(grace) => tracing::warn!(listener = limits.name, seconds = grace.as_secs(), "connections still open after the grace period; closing them"),
    }
}

/// Runs `connection` until it ends, or until it has had no request in flight for `idle` (`None`).
async fn until_idle<T>(connection: impl Future<Output = T>, activity: &Activity, idle: Duration) -> Option<T> {
    tokio::select! {
        ended = connection => Some(ended),
        () = activity.idle_for(idle) => None,
    }
}

/// The requests in flight on one connection, and when the last one ended.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity { in_flight: AtomicUsize::new(0), last: Mutex::new(Instant::now()) }
    }
}

impl Activity {
    fn touch(&self) {
        *self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
    }

    /// Completes once no request has been in flight for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = *self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            tokio::time::sleep_until(last + idle).await;
            let last = *self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if self.in_flight.load(Ordering::Acquire) == 0 && last.elapsed() >= idle {
                return;
            }
            if self.in_flight.load(Ordering::Acquire) > 0 {
                tokio::time::sleep(idle).await;
            }
        }
    }
}

/// One request in flight, from its head to the last byte of its response.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: &Arc<Activity>) -> Busy {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        Busy(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight until it is sent (a large file
/// to a slow client is not idle).
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn stop_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received: stopping"),
        () = terminate => tracing::info!("SIGTERM received: stopping"),
    }
}
