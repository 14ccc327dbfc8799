//! The KDC proxy (MS-KKDCP): Kerberos over HTTPS for clients on the internet, so that a laptop
//! gets its tickets through the same public name as SMB over QUIC, on TCP 443, with the KDCs
//! out of reach.
//!
//! `POST /KdcProxy` takes a KDC-PROXY-MESSAGE holding one AS-REQ or TGS-REQ for a realm the
//! server is configured for (never another: this is no open relay), forwards it to that realm's
//! KDCs in order, over TCP and then UDP, and answers with the first reply. The answers for what
//! goes wrong are python3-kdcproxy's: 405 for another method, 411 without a length, 413 above
//! 128 KiB, 400 for a malformed message, 503 for an unknown realm or when no KDC answers in
//! time. Every request is counted (`/metrics`), and failures are audited (client address, realm,
//! message type, outcome; never the message).
//!
//! The listener is the server's public HTTPS listener: its own address and port (443 by
//! default), the certificate of the SMB over QUIC mapping the client names (SNI), bounded in
//! connections and time like the console's, turned on and off live.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use app::backend::audit::{self, Entry};
use app::backend::kdc_proxy::{KdcProxyState, ProxyOutcome};
use app::backend::kerberos::split_host_port;
use app::backend::{certs, kerberos, smb};
use app::model::audit::Action;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use smb_core::auth::kerberos::kkdcp::{ProxyRequest, encode_reply};
use smb_core::transport::quic::MappedCertificates;
use sqlx::SqlitePool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// The largest request accepted (python3-kdcproxy's limit).
pub const MAX_REQUEST: usize = 128 * 1024;
/// The largest KDC reply relayed.
const MAX_REPLY: usize = 1 << 20;
/// One TCP attempt at one KDC address, and one UDP attempt.
const TCP_ATTEMPT: Duration = Duration::from_secs(3);
const UDP_ATTEMPT: Duration = Duration::from_secs(2);
/// Requests forwarded at once; more are answered 503 at once.
const MAX_IN_FLIGHT: usize = 64;
/// Connections to the listener at once.
const MAX_CONNECTIONS: usize = 256;
/// Connections from one client address at once: a quarter of all, so that filling the
/// listener takes several addresses, while an office behind one NAT address still has room
/// (each Kerberos request holds its connection for milliseconds).
const MAX_PER_CLIENT: usize = MAX_CONNECTIONS / 4;
/// Failures audited one by one per minute; past that, counted in one summary a minute.
const AUDITED_FAILURES_PER_MINUTE: u32 = 60;

/// What the proxy serves, read from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    enabled: bool,
    address: IpAddr,
    port: u16,
    timeout: Duration,
}

struct Running {
    requested: (IpAddr, u16),
    stop: oneshot::Sender<()>,
}

/// The proxy: its configuration, its listener, and what it reports.
pub struct KdcProxy {
    db: SqlitePool,
    state: Arc<KdcProxyState>,
    certificates: Arc<MappedCertificates>,
    /// The configured realms' KDCs, by realm name.
    realms: RwLock<Arc<HashMap<String, Vec<String>>>>,
    timeout: RwLock<Duration>,
    in_flight: Arc<Semaphore>,
    running: Mutex<Option<Running>>,
    audit: mpsc::Sender<Entry>,
}

impl KdcProxy {
    /// A proxy that reports into `state`; [`KdcProxy::reconcile`] starts it as configured.
    pub async fn new(db: SqlitePool, state: Arc<KdcProxyState>) -> anyhow::Result<Arc<KdcProxy>> {
        let quic = certs::quic_settings(&db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let (audit, entries) = mpsc::channel(1024);
        tokio::spawn(record_audit(db.clone(), entries));
        Ok(Arc::new(KdcProxy {
            db,
            state,
            certificates: MappedCertificates::new(&quic),
            realms: RwLock::default(),
            timeout: RwLock::new(Duration::from_secs(10)),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            running: Mutex::new(None),
            audit,
        }))
    }

    async fn settings(&self) -> anyhow::Result<Settings> {
        let values = smb::list_settings(&self.db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let value =
            |key: &str| values.iter().find(|(spec, _)| spec.key == key).map(|(_, v)| v.clone()).unwrap_or_default();
        Ok(Settings {
            enabled: value("kdc_proxy_enabled") == "true",
            address: value("kdc_proxy_address").parse().unwrap_or(IpAddr::from([0u16; 8])),
            port: value("kdc_proxy_port").parse().unwrap_or(443),
            timeout: Duration::from_secs(value("kdc_proxy_timeout_seconds").parse().unwrap_or(10)),
        })
    }

    /// Brings the proxy in line with the stored configuration: realms, certificates and the
    /// timeout at once; the listener started, moved or stopped. Called at start, on every
    /// configuration change, and every second while the listener fails (a taken port).
    pub async fn reconcile(self: &Arc<Self>) {
        let settings = match self.settings().await {
            Ok(settings) => settings,
            Err(error) => {
                tracing::error!(%error, "KDC proxy: cannot read its configuration");
                return;
            }
        };
        match kerberos::list_realms(&self.db).await {
            Ok(realms) => {
                let realms = realms.into_iter().map(|realm| (realm.name, realm.kdcs)).collect();
                *self.realms.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(realms);
            }
            Err(error) => tracing::error!(%error, "KDC proxy: cannot read the realms"),
        }
        match certs::quic_settings(&self.db).await {
            Ok(quic) => self.certificates.update(&quic),
            Err(error) => tracing::error!(%error, "KDC proxy: cannot read the certificate mappings"),
        }
        *self.timeout.write().unwrap_or_else(|e| e.into_inner()) = settings.timeout;

        let requested = (settings.address, settings.port);
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if !settings.enabled {
            if let Some(old) = running.take() {
                let _ = old.stop.send(());
                tracing::info!("KDC proxy stopped");
            }
            self.state.set(None, None);
            return;
        }
        if running.as_ref().is_some_and(|r| r.requested == requested) {
            return;
        }
        if let Some(old) = running.take() {
            let _ = old.stop.send(());
        }
        let address = SocketAddr::new(settings.address, settings.port);
        // Bound synchronously (std) so that the state is known when this returns.
        let listener = std::net::TcpListener::bind(address)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .and_then(TcpListener::from_std);
        let listener = match listener {
            Ok(listener) => listener,
            Err(error) => {
                let error = format!("cannot listen on TCP {address}: {error}");
                if self.state.error().as_deref() != Some(error.as_str()) {
                    tracing::warn!(%error, "KDC proxy enabled but not listening");
                }
                self.state.set(None, Some(error));
                return;
            }
        };
        let bound = listener.local_addr().unwrap_or(address);
        let (stop, stopped) = oneshot::channel();
        *running = Some(Running { requested, stop });
        drop(running);
        self.state.set(Some(bound), None);
        tracing::info!(%bound, "KDC proxy listening");
        let tls = self.tls_config();
        let router = self.router();
        tokio::spawn(async move {
            let limits = crate::serve::Limits {
                name: "KDC proxy",
                max_connections: MAX_CONNECTIONS,
                max_per_client: MAX_PER_CLIENT,
                handshake_timeout: Duration::from_secs(10),
                header_read_timeout: Duration::from_secs(10),
                idle_timeout: Duration::from_secs(30),
                request_timeout: Duration::from_secs(70),
            };
            let stop = async move {
                let _ = stopped.await;
            };
            crate::serve::serve(listener, Some(tls), router, limits, stop, Duration::from_secs(1)).await;
        });
    }

    /// Whether the enabled proxy failed to listen (the caller retries every second).
    pub fn failing(&self) -> bool {
        self.state.error().is_some()
    }

    /// Stops the listener (server shutdown).
    pub fn stop(&self) {
        if let Some(running) = self.running.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = running.stop.send(());
        }
        self.state.set(None, None);
    }

    fn tls_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("the default provider supports the default versions")
            .with_no_client_auth()
            .with_cert_resolver(self.certificates.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/KdcProxy", axum::routing::post(proxy).fallback(method_not_allowed))
            .fallback(not_found)
            .with_state(self.clone())
    }

    fn kdcs_of(&self, realm: &str) -> Option<Vec<String>> {
        self.realms.read().unwrap_or_else(|e| e.into_inner()).get(realm).cloned()
    }

    /// Counts an outcome, audits it if it is a failure, and answers.
    fn answer(
        &self,
        outcome: ProxyOutcome,
        client: SocketAddr,
        about: &str,
        status: StatusCode,
        text: &str,
    ) -> Response {
        self.state.count(outcome);
        if outcome != ProxyOutcome::Forwarded {
            let entry = Entry::failure("-", Action::KdcProxy, about)
                .detail(format!("{}: {text}", outcome.name()))
                .source(&client.ip().to_string());
            let _ = self.audit.try_send(entry);
        }
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{text}\n")).into_response()
    }
}

async fn method_not_allowed(
    State(proxy): State<Arc<KdcProxy>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
) -> Response {
    proxy.answer(
        ProxyOutcome::NotAProxyRequest,
        client,
        "/KdcProxy",
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed.",
    )
}

async fn not_found(State(proxy): State<Arc<KdcProxy>>, ConnectInfo(client): ConnectInfo<SocketAddr>) -> Response {
    proxy.answer(ProxyOutcome::NotAProxyRequest, client, "(other path)", StatusCode::NOT_FOUND, "Not found.")
}

async fn proxy(
    State(proxy): State<Arc<KdcProxy>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let Some(length) = length else {
        return proxy.answer(
            ProxyOutcome::LengthRequired,
            client,
            "-",
            StatusCode::LENGTH_REQUIRED,
            "Length required.",
        );
    };
    if length > MAX_REQUEST as u64 {
        return proxy.answer(
            ProxyOutcome::TooLarge,
            client,
            "-",
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request entity too large.",
        );
    }
    let bytes = match axum::body::to_bytes(body, MAX_REQUEST).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return proxy.answer(
                ProxyOutcome::Malformed,
                client,
                "-",
                StatusCode::BAD_REQUEST,
                "Incomplete request body.",
            );
        }
    };
    let request = match ProxyRequest::decode(&bytes) {
        Ok(request) => request,
        Err(error) => {
            return proxy.answer(ProxyOutcome::Malformed, client, "-", StatusCode::BAD_REQUEST, &error.to_string());
        }
    };
    let about = format!("{} {}", request.realm, request.kind.name());
    let Some(kdcs) = proxy.kdcs_of(&request.realm) else {
        let text = format!("Can't find remote ({}): the realm is not configured.", request.realm);
        return proxy.answer(ProxyOutcome::UnknownRealm, client, &about, StatusCode::SERVICE_UNAVAILABLE, &text);
    };
    let Ok(_place) = proxy.in_flight.clone().try_acquire_owned() else {
        return proxy.answer(
            ProxyOutcome::Busy,
            client,
            &about,
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many requests in flight.",
        );
    };
    let timeout = *proxy.timeout.read().unwrap_or_else(|e| e.into_inner());
    match tokio::time::timeout(timeout, forward(&request.message, &kdcs)).await {
        Ok(Some(reply)) => {
            proxy.state.count(ProxyOutcome::Forwarded);
            let mut response = encode_reply(&reply).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/kerberos"));
            response
        }
        _ => {
            let text = format!("Remote unavailable ({about}): no KDC answered.");
            proxy.answer(ProxyOutcome::Unavailable, client, &about, StatusCode::SERVICE_UNAVAILABLE, &text)
        }
    }
}

/// Sends `message` (with its 4-byte length) to the KDCs in order: each address over TCP, then
/// over UDP (without the length, which UDP does not carry); the first reply, with its length.
pub(crate) async fn forward(message: &[u8], kdcs: &[String]) -> Option<Vec<u8>> {
    for kdc in kdcs {
        let Some((host, port)) = split_host_port(kdc) else { continue };
        let Ok(addresses) = tokio::net::lookup_host((host, port)).await else {
            tracing::debug!(%kdc, "KDC proxy: the KDC's name does not resolve");
            continue;
        };
        let addresses: Vec<SocketAddr> = addresses.take(4).collect();
        for address in &addresses {
            match tokio::time::timeout(TCP_ATTEMPT, over_tcp(*address, message)).await {
                Ok(Ok(reply)) => return Some(reply),
                Ok(Err(error)) => tracing::debug!(%address, %error, "KDC proxy: TCP attempt failed"),
                Err(_) => tracing::debug!(%address, "KDC proxy: TCP attempt timed out"),
            }
        }
        for address in &addresses {
            match tokio::time::timeout(UDP_ATTEMPT, over_udp(*address, &message[4..])).await {
                Ok(Ok(reply)) => return Some(reply),
                Ok(Err(error)) => tracing::debug!(%address, %error, "KDC proxy: UDP attempt failed"),
                Err(_) => tracing::debug!(%address, "KDC proxy: UDP attempt timed out"),
            }
        }
    }
    None
}

async fn over_tcp(address: SocketAddr, message: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(message).await?;
    let mut length = [0; 4];
    stream.read_exact(&mut length).await?;
    let length = u32::from_be_bytes(length) as usize;
    if length > MAX_REPLY {
        return Err(std::io::Error::other(format!("a reply of {length} bytes")));
    }
    let mut reply = vec![0; 4 + length];
    reply[..4].copy_from_slice(&(length as u32).to_be_bytes());
    stream.read_exact(&mut reply[4..]).await?;
    Ok(reply)
}

async fn over_udp(address: SocketAddr, message: &[u8]) -> std::io::Result<Vec<u8>> {
    let local: SocketAddr = if address.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().expect("an address");
    let socket = UdpSocket::bind(local).await?;
    socket.connect(address).await?;
    socket.send(message).await?;
    let mut buffer = vec![0; 65_536];
    let received = socket.recv(&mut buffer).await?;
    let mut reply = (received as u32).to_be_bytes().to_vec();
    reply.extend_from_slice(&buffer[..received]);
    Ok(reply)
}

/// Writes the proxy's failures to the audit log: one by one up to the per-minute limit, then
/// one summary a minute of those left out, so that a flood cannot flood the log.
async fn record_audit(db: SqlitePool, mut entries: mpsc::Receiver<Entry>) {
    let mut minute = tokio::time::interval(Duration::from_secs(60));
    let (mut recorded, mut left_out) = (0_u32, 0_u64);
    loop {
        tokio::select! {
            entry = entries.recv() => {
                let Some(entry) = entry else { return };
                if recorded < AUDITED_FAILURES_PER_MINUTE {
                    recorded += 1;
                    audit::record(&db, entry).await;
                } else {
                    left_out += 1;
                }
            }
            _ = minute.tick() => {
                if left_out > 0 {
                    let entry = Entry::failure("-", Action::KdcProxy, "(many)")
                        .detail(format!("{left_out} more failed requests in the last minute, not recorded one by one (after {recorded})"))
                        .source("KDC proxy");
                    audit::record(&db, entry).await;
                }
                (recorded, left_out) = (0, 0);
            }
        }
    }
}
