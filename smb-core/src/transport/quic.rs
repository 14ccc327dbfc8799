//! SMB over QUIC (MS-SMB2 2.1): UDP, TLS 1.3 only, ALPN `smb`; the client opens one bidirectional
//! stream that carries the whole SMB connection with Direct-TCP framing, driven like TCP by
//! [`super::drive`]. The client's server name (SNI) selects a certificate mapping (MS-SMB2
//! 3.3.5.1); mappings and certificates change live, without touching established connections.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use quinn::crypto::rustls::{HandshakeData, QuicServerConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::sync::watch;

use crate::engine::config::{CertificateMapping, QuicSettings};
use crate::engine::connection::ConnectionInfo;
use crate::engine::events::{Event, Transport};
use crate::engine::shared::{Admission, Counter, Refusal, Shared};
use crate::transport::client_access;
use crate::transport::handshakes::{self, Remembering, ServerNames};

/// The ALPN protocol of SMB over QUIC.
pub const ALPN: &[u8] = b"smb";

/// The close code of a connection refused by client access control: TLS access_denied (49).
const ACCESS_DENIED: u8 = 49;

/// How long a finished connection waits for its client to close before closing itself, so
/// that the last responses are delivered.
const LINGER: Duration = Duration::from_secs(1);

/// One mapping ready to answer handshakes.
struct Answer {
    mapping: CertificateMapping,
    certified: Arc<CertifiedKey>,
}

/// The mappings in force, by lower-case name, and the default for clients without SNI.
#[derive(Default)]
struct Mappings {
    by_name: HashMap<String, Arc<Answer>>,
    default: Option<Arc<Answer>>,
}

impl Mappings {
    /// The mappings of `settings`. A certificate's signing key is made once however many names
    /// map to it, and taken over from `previous` when its chain and key are unchanged, so a
    /// configuration change does not re-parse every private key.
    fn build(settings: &QuicSettings, previous: &Mappings) -> Mappings {
        let mut keys: HashMap<&str, Arc<CertifiedKey>> = HashMap::new();
        let mut by_name = HashMap::new();
        for mapping in &settings.mappings {
            let unchanged = || {
                previous.by_name.values().find(|answer| {
                    answer.mapping.thumbprint == mapping.thumbprint
                        && answer.mapping.chain == mapping.chain
                        && answer.mapping.key == mapping.key
                })
            };
            let certified = match keys.get(mapping.thumbprint.as_str()) {
                Some(certified) => Ok(certified.clone()),
                None => unchanged().map_or_else(|| certified_key(mapping), |answer| Ok(answer.certified.clone())),
            };
            match certified {
                Ok(certified) => {
                    keys.insert(mapping.thumbprint.as_str(), certified.clone());
                    let answer = Arc::new(Answer { mapping: mapping.clone(), certified });
                    by_name.insert(mapping.name.to_ascii_lowercase(), answer);
                }
                Err(error) => tracing::error!(
                    name = %mapping.name,
                    thumbprint = %mapping.thumbprint,
                    %error,
                    "SMB over QUIC: the mapped certificate cannot be used; the name is refused"
                ),
            }
        }
        let default =
            settings.default_mapping.as_deref().and_then(|name| by_name.get(&name.to_ascii_lowercase()).cloned());
        Mappings { by_name, default }
    }

    fn answer(&self, server_name: Option<&str>) -> Option<Arc<Answer>> {
        match server_name {
            Some(name) => self.by_name.get(&name.to_ascii_lowercase()).cloned(),
            None => self.default.clone(),
        }
    }
}

fn certified_key(mapping: &CertificateMapping) -> Result<Arc<CertifiedKey>, rustls::Error> {
    let chain: Vec<CertificateDer<'static>> =
        mapping.chain.iter().map(|der| CertificateDer::from(der.clone())).collect();
    let key = PrivateKeyDer::from_pem_slice(&mapping.key)
        .map_err(|e| rustls::Error::General(format!("unreadable private key: {e}")))?;
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match()?;
    Ok(Arc::new(certified))
}

/// rustls' certificate choice: the mapping of the client's SNI, read live.
struct Resolver {
    mappings: RwLock<Arc<Mappings>>,
}

impl Resolver {
    fn current(&self) -> Arc<Mappings> {
        self.mappings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn replace(&self, mappings: Mappings) {
        *self.mappings.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(mappings);
    }
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.current().by_name.keys().cloned().collect();
        f.debug_struct("Resolver").field("names", &names).finish()
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        handshakes::record(hello.server_name());
        self.current().answer(hello.server_name()).map(|answer| answer.certified.clone())
    }
}

/// The certificates of the SMB over QUIC mappings by server name, for another TLS listener on
/// the same names (the KDC proxy's HTTPS listener): the client's server name (SNI) picks one,
/// no server name the default mapping's. Updated with [`MappedCertificates::update`] when the
/// mappings change; handshakes in progress keep what they picked.
pub struct MappedCertificates {
    resolver: Resolver,
}

impl MappedCertificates {
    pub fn new(settings: &QuicSettings) -> Arc<MappedCertificates> {
        let mappings = Mappings::build(settings, &Mappings::default());
        Arc::new(MappedCertificates { resolver: Resolver { mappings: RwLock::new(Arc::new(mappings)) } })
    }

    pub fn update(&self, settings: &QuicSettings) {
        self.resolver.replace(Mappings::build(settings, &self.resolver.current()));
    }

    /// Whether a handshake naming `server_name` (or none) gets a certificate.
    pub fn serves(&self, server_name: Option<&str>) -> bool {
        self.resolver.current().answer(server_name).is_some()
    }
}

impl std::fmt::Debug for MappedCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.resolver.fmt(f)
    }
}

impl ResolvesServerCert for MappedCertificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.resolver.current().answer(hello.server_name()).map(|answer| answer.certified.clone())
    }
}

/// What the QUIC and TLS configuration depends on besides the mappings (which the resolver
/// reads live): a change rebuilds it for new handshakes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Shape {
    idle_timeout: Duration,
    keep_alive: Duration,
    /// Client certificates are asked for (some mapping requires them) and checked against these.
    client_cas: Option<Vec<Vec<u8>>>,
}

impl Shape {
    fn of(settings: &QuicSettings) -> Shape {
        let asks = settings.mappings.iter().any(|m| m.require_client_auth);
        Shape {
            idle_timeout: settings.idle_timeout,
            keep_alive: settings.keep_alive,
            client_cas: asks.then(|| settings.client_cas.clone()),
        }
    }
}

/// The QUIC and TLS configuration: TLS 1.3 only, ALPN `smb`, no 0-RTT, one bidirectional stream
/// per connection; client certificates asked for (optional in TLS, enforced per mapping after
/// the handshake) when some mapping requires them, and validated against the client CAs.
fn server_config(
    shape: &Shape,
    resolver: Arc<Resolver>,
    names: Arc<ServerNames>,
) -> Result<quinn::ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?;
    let builder = match &shape.client_cas {
        Some(cas) if !cas.is_empty() => {
            let mut roots = rustls::RootCertStore::empty();
            for der in cas {
                roots.add(CertificateDer::from(der.clone())).map_err(|e| format!("unusable client CA: {e}"))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| e.to_string())?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut tls = builder.with_cert_resolver(resolver);
    tls.alpn_protocols = vec![ALPN.to_vec()];
    tls.max_early_data_size = 0;
    let crypto = QuicServerConfig::try_from(tls).map_err(|e| e.to_string())?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(Remembering { inner: Arc::new(crypto), names }));
    let mut transport = quinn::TransportConfig::default();
    let idle = quinn::IdleTimeout::try_from(shape.idle_timeout).map_err(|e| e.to_string())?;
    transport
        .max_idle_timeout(Some(idle))
        .keep_alive_interval(Some(shape.keep_alive))
        .max_concurrent_bidi_streams(1_u8.into())
        .max_concurrent_uni_streams(0_u8.into())
        // Room for 8 MiB READs and WRITEs in flight on one stream, once the client has a session
        // (`AUTHENTICATED_RECEIVE_WINDOW`); before, what it may send ahead of the server's reading
        // is bounded like a TCP socket's buffer.
        .stream_receive_window((16_u32 << 20).into())
        .receive_window(PREAUTH_RECEIVE_WINDOW.into())
        .send_window(32 << 20);
    config.transport_config(Arc::new(transport));
    config.migration(true);
    Ok(config)
}

/// Bytes a client without a session may have sent that the server has not read yet (QUIC's
/// connection flow-control window). The server reads as data arrives, so a larger message still
/// passes; what the window bounds is the memory of clients that send and are not read.
const PREAUTH_RECEIVE_WINDOW: u32 = 64 << 10;
/// The same once the client has a session: several 8 MiB WRITEs in flight.
const AUTHENTICATED_RECEIVE_WINDOW: u32 = 32 << 20;

/// A running QUIC listener.
pub(crate) struct QuicListener {
    /// The address asked for (the bound one may differ with port 0).
    pub requested: SocketAddr,
    pub bound: SocketAddr,
    endpoint: quinn::Endpoint,
    resolver: Arc<Resolver>,
    names: Arc<ServerNames>,
    shape: Shape,
    stop: watch::Sender<bool>,
}

impl QuicListener {
    /// Binds `settings.address` and starts accepting connections. Needs a Tokio runtime.
    pub(crate) fn start(settings: &QuicSettings, shared: Arc<Shared>) -> Result<QuicListener, String> {
        let mappings = Mappings::build(settings, &Mappings::default());
        let resolver = Arc::new(Resolver { mappings: RwLock::new(Arc::new(mappings)) });
        let shape = Shape::of(settings);
        let names = Arc::new(ServerNames::default());
        let config = server_config(&shape, resolver.clone(), names.clone())?;
        let endpoint = quinn::Endpoint::server(config, settings.address)
            .map_err(|e| format!("cannot listen on UDP {}: {e}", settings.address))?;
        let bound = endpoint.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(serve(endpoint.clone(), shared, resolver.clone(), names.clone(), stopped));
        Ok(QuicListener { requested: settings.address, bound, endpoint, resolver, names, shape, stop })
    }

    /// Takes new mappings, timeouts and client CAs for new handshakes; established connections
    /// continue.
    pub(crate) fn update(&mut self, settings: &QuicSettings) {
        let mappings = Mappings::build(settings, &self.resolver.current());
        self.resolver.replace(mappings);
        let shape = Shape::of(settings);
        if shape != self.shape {
            match server_config(&shape, self.resolver.clone(), self.names.clone()) {
                Ok(config) => {
                    self.endpoint.set_server_config(Some(config));
                    self.shape = shape;
                }
                Err(error) => tracing::error!(%error, "SMB over QUIC: cannot apply the new settings"),
            }
        }
    }

    /// Stops accepting and ends every connection of this listener.
    pub(crate) fn stop(self) {
        let _ = self.stop.send(true);
        self.endpoint.close(0_u8.into(), b"server stopping");
    }
}

async fn serve(
    endpoint: quinn::Endpoint,
    shared: Arc<Shared>,
    resolver: Arc<Resolver>,
    names: Arc<ServerNames>,
    stop: watch::Receiver<bool>,
) {
    let mut stop_accepting = stop.clone();
    let handshakes = Arc::new(AtomicU32::new(0));
    loop {
        let incoming = tokio::select! {
            incoming = endpoint.accept() => match incoming {
                Some(incoming) => incoming,
                None => return,
            },
            _ = stop_accepting.changed() => return,
        };
        let client = incoming.remote_address();
        let limits = shared.runtime().config.server.limits;
        // Under load, a client must first prove it receives at its address (RFC 9000 8.1.2):
        // spoofed sources then cost one stateless packet each, not a handshake.
        if !incoming.remote_address_validated()
            && incoming.may_retry()
            && handshakes.load(Ordering::Relaxed) >= limits.quic_handshakes_before_retry
        {
            shared.refuse(Refusal::QuicRetry);
            let _ = incoming.retry();
            continue;
        }
        let admission = match shared.admit(client.ip(), std::time::Instant::now()) {
            Ok(admission) => admission,
            Err(refusal) => {
                tracing::debug!(%client, limit = refusal.name(), "SMB over QUIC: connection refused");
                incoming.refuse();
                continue;
            }
        };
        let local = endpoint.local_addr().unwrap_or(client);
        let handshake = Handshake::start(&handshakes);
        tokio::spawn(connection(
            incoming,
            local,
            (admission, handshake),
            shared.clone(),
            resolver.clone(),
            names.clone(),
            stop.clone(),
        ));
    }
}

/// A handshake in progress, counted while it lasts.
struct Handshake(Arc<AtomicU32>);

impl Handshake {
    fn start(count: &Arc<AtomicU32>) -> Handshake {
        count.fetch_add(1, Ordering::Relaxed);
        Handshake(count.clone())
    }
}

impl Drop for Handshake {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One QUIC connection: handshake, its mapping, its one stream, then SMB until either side ends.
async fn connection(
    incoming: quinn::Incoming,
    local: SocketAddr,
    (admission, handshake): (Admission, Handshake),
    shared: Arc<Shared>,
    resolver: Arc<Resolver>,
    names: Arc<ServerNames>,
    stop: watch::Receiver<bool>,
) {
    let client = incoming.remote_address();
    let original = incoming.orig_dst_cid();
    let refuse = |server_name: Option<String>, reason: String| {
        tracing::info!(%client, server_name = server_name.as_deref().unwrap_or("-"), %reason, "SMB over QUIC: refused");
        shared.count(Counter::QuicRefused, 1);
        shared.emit(Event::QuicRefused { client, server_name, reason });
    };
    // quinn reads the first packet (usually the whole ClientHello) while accepting, so a refused
    // server name can fail `accept` itself as well as the rest of the handshake.
    let result = match incoming.accept() {
        Ok(connecting) => connecting.await,
        Err(error) => Err(error),
    };
    drop(handshake);
    // What the ClientHello asked for; the connection's own handshake data says it when it succeeds.
    let asked = names.take(&original);
    let connection = match result {
        Ok(connection) => connection,
        Err(error) => {
            let unmapped = match &asked {
                Some(name) if resolver.current().answer(name.as_deref()).is_none() => Some(match name {
                    Some(_) => "no certificate mapping for this server name",
                    None => "the client sent no server name and no default mapping is set",
                }),
                _ => None,
            };
            let reason = match unmapped {
                Some(why) => format!("{why} (handshake failed: {error})"),
                None => format!("handshake failed: {error}"),
            };
            return refuse(asked.flatten(), reason);
        }
    };
    let server_name = connection
        .handshake_data()
        .and_then(|data| data.downcast::<HandshakeData>().ok())
        .and_then(|data| data.server_name);
    let Some(answer) = resolver.current().answer(server_name.as_deref()) else {
        connection.close(0_u8.into(), b"no certificate mapping");
        return refuse(server_name, "no certificate mapping for this server name".into());
    };
    let presented: Vec<Vec<u8>> = connection
        .peer_identity()
        .and_then(|identity| identity.downcast::<Vec<CertificateDer<'static>>>().ok())
        .map(|chain| chain.iter().map(|der| der.to_vec()).collect())
        .unwrap_or_default();
    let client_cas = &shared.runtime().config.quic.client_cas;
    let decision = client_access::admit(&answer.mapping, &presented, client_cas, std::time::SystemTime::now());
    let client_certificate = match decision {
        Ok(admitted) => admitted,
        Err(reason) => {
            // The handshake is over: a TLS alert can no longer be sent, so the connection closes
            // with the TLS access_denied alert's number (49) as its code.
            connection.close(ACCESS_DENIED.into(), b"access denied");
            return refuse(server_name, reason);
        }
    };
    shared.emit(Event::QuicAccepted {
        client,
        server_name: server_name.clone(),
        mapping: answer.mapping.name.clone(),
        thumbprint: answer.mapping.thumbprint.clone(),
        client_certificate,
    });
    // The server's keep-alives hold the connection open: a client that never opens its stream
    // gets the pre-authentication deadline, like a silent TCP connection.
    let limits = shared.runtime().config.server.limits;
    let (send, recv) = match tokio::time::timeout(limits.preauth_timeout, connection.accept_bi()).await {
        Ok(Ok(streams)) => streams,
        Ok(Err(error)) => {
            tracing::debug!(%client, %error, "SMB over QUIC: the client left before opening its stream");
            return;
        }
        Err(_) => {
            shared.refuse_client(Refusal::PreauthTimeout, client.ip(), std::time::Instant::now());
            connection.close(0_u8.into(), b"no SMB stream");
            return;
        }
    };
    let info = ConnectionInfo {
        id: shared.next_connection_id(),
        client,
        local,
        transport: Transport::Quic,
        transport_secure: shared.runtime().config.server.skip_encryption_on_secure_transport,
        allow_named_pipes: answer.mapping.allow_named_pipes,
        connected: Instant::now(),
    };
    let raise_window = {
        let connection = connection.clone();
        move || connection.set_receive_window(AUTHENTICATED_RECEIVE_WINDOW.into())
    };
    super::drive(recv, send, shared, info, admission, stop, raise_window).await;
    let _ = tokio::time::timeout(LINGER, connection.closed()).await;
    connection.close(0_u8.into(), b"");
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    /// A self-signed certificate for `name` (DER) and its key (PEM), made with rcgen.
    fn certificate(name: &str) -> (Vec<u8>, Vec<u8>) {
        let certified = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        (certified.cert.der().to_vec(), certified.signing_key.serialize_pem().into_bytes())
    }

    fn mapping(name: &str, thumbprint: &str, (chain, key): &(Vec<u8>, Vec<u8>)) -> CertificateMapping {
        CertificateMapping {
            name: name.into(),
            thumbprint: thumbprint.into(),
            chain: vec![chain.clone()],
            key: Zeroizing::new(key.clone()),
            allow_named_pipes: false,
            require_client_auth: false,
            skip_client_access_check: false,
            access: Vec::new(),
        }
    }

    fn key_of<'a>(mappings: &'a Mappings, name: &str) -> &'a Arc<CertifiedKey> {
        &mappings.by_name[name].certified
    }

    #[test]
    fn names_of_one_certificate_share_its_key_and_a_change_elsewhere_keeps_it() {
        let (first, second) = (certificate("fs.example.com"), certificate("files.example.com"));
        let mut settings = QuicSettings {
            mappings: vec![
                mapping("fs.example.com", "AA", &first),
                mapping("fs", "AA", &first),
                mapping("files.example.com", "BB", &second),
            ],
            ..Default::default()
        };
        let before = Mappings::build(&settings, &Mappings::default());
        assert!(Arc::ptr_eq(key_of(&before, "fs.example.com"), key_of(&before, "fs")));
        assert!(!Arc::ptr_eq(key_of(&before, "fs.example.com"), key_of(&before, "files.example.com")));

        settings.mappings.retain(|m| m.name != "fs");
        settings.mappings[1].require_client_auth = true;
        let after = Mappings::build(&settings, &before);
        assert!(Arc::ptr_eq(key_of(&before, "fs.example.com"), key_of(&after, "fs.example.com")));
        assert!(Arc::ptr_eq(key_of(&before, "files.example.com"), key_of(&after, "files.example.com")));
        assert!(after.by_name["files.example.com"].mapping.require_client_auth, "the new flags are in force");
        assert!(!after.by_name.contains_key("fs"));
    }

    #[test]
    fn a_certificate_whose_key_changed_gets_a_new_signing_key() {
        let (old, new) = (certificate("fs.example.com"), certificate("fs.example.com"));
        let before = Mappings::build(
            &QuicSettings { mappings: vec![mapping("fs.example.com", "AA", &old)], ..Default::default() },
            &Mappings::default(),
        );
        let after = Mappings::build(
            &QuicSettings { mappings: vec![mapping("fs.example.com", "AA", &new)], ..Default::default() },
            &before,
        );
        assert!(!Arc::ptr_eq(key_of(&before, "fs.example.com"), key_of(&after, "fs.example.com")));
        assert_eq!(key_of(&after, "fs.example.com").cert[0].as_ref(), &new.0[..]);
    }

    #[test]
    fn an_unusable_key_leaves_its_name_unmapped() {
        let (chain, _) = certificate("fs.example.com");
        let broken = (chain, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec());
        let mappings = Mappings::build(
            &QuicSettings { mappings: vec![mapping("fs.example.com", "AA", &broken)], ..Default::default() },
            &Mappings::default(),
        );
        assert!(mappings.answer(Some("fs.example.com")).is_none());
    }
}
