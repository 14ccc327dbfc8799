//! SMB over QUIC's certificate store and listener with a minimal quinn client of the test's own:
//! the server name (SNI) picks the certificate, unknown names are refused and logged as events,
//! renewed certificates take over their names without dropping connections, the store keeps
//! what it refuses out, turning QUIC off and on needs no restart, dialects below 3.1.1 are
//! refused, and a client that moves to a new address (connection migration) keeps its connection.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app::backend::certs::{self, KeyKind, Mapping};
use quinn::crypto::rustls::QuicClientConfig;
use rustls::pki_types::CertificateDer;
use smb_core::Event;
use support::SmbServer;

const LIMIT: Duration = Duration::from_secs(20);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A trust store holding only the CA file `ca` (DER).
fn roots(ca: &Path) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(std::fs::read(ca).unwrap())).unwrap();
    roots
}

/// A TLS 1.3 client configuration, up to the choice of how the server is verified.
fn tls13() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier> {
    rustls::ClientConfig::builder_with_provider(provider()).with_protocol_versions(&[&rustls::version::TLS13]).unwrap()
}

/// `tls` as a QUIC client configuration offering ALPN `smb`, and a loopback endpoint to use it.
fn quic_client(mut tls: rustls::ClientConfig) -> (quinn::Endpoint, quinn::ClientConfig) {
    tls.alpn_protocols = vec![b"smb".to_vec()];
    let config = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(tls).unwrap()));
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    (endpoint, config)
}

/// A QUIC client trusting only `ca`, offering ALPN `smb`.
fn client(ca: &Path) -> (quinn::Endpoint, quinn::ClientConfig) {
    quic_client(tls13().with_root_certificates(roots(ca)).with_no_client_auth())
}

/// Dials `address` as `name` with `tls`; the connection and the SHA-1 thumbprint of the
/// certificate the server presented.
async fn dial(
    tls: rustls::ClientConfig,
    address: SocketAddr,
    name: &str,
) -> Result<(quinn::Connection, String), String> {
    let (endpoint, config) = quic_client(tls);
    let connecting = endpoint.connect_with(config, address, name).map_err(|e| e.to_string())?;
    let connection = tokio::time::timeout(LIMIT, connecting)
        .await
        .map_err(|_| "the handshake hung".to_owned())?
        .map_err(|e| e.to_string())?;
    let chain = connection
        .peer_identity()
        .and_then(|identity| identity.downcast::<Vec<CertificateDer<'static>>>().ok())
        .expect("the server's certificate chain");
    let thumbprint = certs::inspect(&chain[0]).unwrap().thumbprint;
    Ok((connection, thumbprint))
}

/// Connects as `name`; the SHA-1 thumbprint of the certificate the server presented.
async fn handshake(address: SocketAddr, ca: &Path, name: &str) -> Result<(quinn::Connection, String), String> {
    dial(tls13().with_root_certificates(roots(ca)).with_no_client_auth(), address, name).await
}

async fn thumbprint_of(server: &SmbServer, name: &str) -> String {
    certs::list_mappings(&server.db).await.unwrap().into_iter().find(|m| m.name == name).unwrap().thumbprint
}

/// Maps `localhost` again to its certificate with these flags, and applies the change.
async fn map_localhost(server: &SmbServer, require_client_auth: bool, is_default: bool) -> Mapping {
    let mapping = Mapping {
        name: "localhost".into(),
        thumbprint: thumbprint_of(server, "localhost").await,
        require_client_auth,
        skip_client_access_check: false,
        allow_named_pipes: false,
        is_default,
    };
    certs::map(&server.db, &mapping).await.unwrap();
    server.apply().await;
    mapping
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_name_selects_the_mapped_certificate_and_unknown_names_are_refused_with_an_event() {
    let server = SmbServer::start().await;
    let mut events = server.engine.subscribe();
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    let (_, presented) = handshake(address, &ca, "localhost").await.expect("a mapped name connects");
    assert_eq!(presented, thumbprint_of(&server, "localhost").await);

    let refused = handshake(address, &ca, "unknown.example").await;
    assert!(refused.is_err(), "an unmapped name should be refused");
    let (server_name, reason) = tokio::time::timeout(LIMIT, async {
        loop {
            if let Ok(Event::QuicRefused { server_name, reason, .. }) = events.recv().await {
                return (server_name, reason);
            }
        }
    })
    .await
    .expect("a refusal event");
    assert_eq!(server_name.as_deref(), Some("unknown.example"), "the event should name what the client asked for");
    assert!(reason.starts_with("no certificate mapping for this server name"), "the event should say why: {reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_takes_over_its_names_without_dropping_connections() {
    let server = SmbServer::start().await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    let old = thumbprint_of(&server, "localhost").await;
    let (established, _) = handshake(address, &ca, "localhost").await.unwrap();
    // Issued a second later, it outlives the mapped one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let renewed = certs::generate(&server.db, &["localhost".into()], Some("EdgeShare Test CA"), KeyKind::EcdsaP256)
        .await
        .unwrap();
    assert_eq!(renewed.remapped.len(), 1, "the mapping should move to the renewed certificate");
    assert_eq!(
        (renewed.remapped[0].from.as_str(), renewed.remapped[0].to.as_str()),
        (old.as_str(), renewed.info.thumbprint.as_str())
    );
    server.apply().await;
    let (_, presented) = handshake(address, &ca, "localhost").await.unwrap();
    assert_eq!(presented, renewed.info.thumbprint, "new connections get the renewed certificate");
    assert!(established.close_reason().is_none(), "the established connection should live on");
    let (mut send, _) = established.open_bi().await.expect("the established connection still carries streams");
    send.write_all(&[0, 0, 0, 0]).await.expect("and data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_refuses_a_key_of_another_certificate_and_keeps_mapped_certificates() {
    let server = SmbServer::start().await;
    let first = certs::generate(&server.db, &["a.example".into()], None, KeyKind::EcdsaP256).await.unwrap();
    let chain =
        String::from_utf8(certs::export(&server.db, &first.info.thumbprint, false, false).await.unwrap()).unwrap();
    let other = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let refused = certs::import_pem(&server.db, &chain, &other).await;
    assert!(
        refused.is_err_and(|e| e.for_field("key").is_some()),
        "a foreign key should be refused next to the key field"
    );
    let mapping = Mapping {
        name: "a.example".into(),
        thumbprint: first.info.thumbprint.clone(),
        require_client_auth: false,
        skip_client_access_check: false,
        allow_named_pipes: false,
        is_default: false,
    };
    certs::map(&server.db, &mapping).await.unwrap();
    assert!(certs::remove(&server.db, &first.info.thumbprint).await.is_err(), "a mapped certificate stays");
    let wrong_name = Mapping { name: "b.example".into(), ..mapping.clone() };
    assert!(certs::map(&server.db, &wrong_name).await.is_err(), "a name outside the certificate is refused");
    certs::unmap(&server.db, "a.example").await.unwrap();
    certs::remove(&server.db, &first.info.thumbprint).await.unwrap();
    assert!(certs::list(&server.db).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_turns_off_and_on_without_a_restart() {
    let server = SmbServer::start().await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    handshake(address, &ca, "localhost").await.unwrap();
    server.set("quic_enabled", "false").await;
    assert_eq!(server.engine.quic_address(), None);
    assert!(handshake(address, &ca, "localhost").await.is_err(), "nothing should answer once disabled");
    server.set("quic_port", &address.port().to_string()).await;
    server.set("quic_enabled", "true").await;
    // The old socket may linger while its connections drain; the server retries each second,
    // as the test does here.
    let mut again = server.engine.quic_address();
    for _ in 0..50 {
        if again.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.engine.start();
        again = server.engine.quic_address();
    }
    let again = again.unwrap_or_else(|| panic!("listening again: {:?}", server.engine.quic_error()));
    assert_eq!(again, address);
    handshake(again, &ca, "localhost").await.expect("connects again");
}

/// A NEGOTIATE offering `dialects`, with the contexts 3.1.1 requires.
fn negotiate(dialects: Vec<smb_core::proto::negotiate::Dialect>, message_id: u64) -> Vec<u8> {
    use smb_core::proto::Writer;
    use smb_core::proto::header::{Command, Header};
    use smb_core::proto::negotiate::{HASH_SHA512, NegotiateContext, NegotiateRequest};
    let mut out = Writer::new();
    Header { command: Command::NEGOTIATE, credits: 8, message_id, ..Header::default() }.encode(&mut out);
    NegotiateRequest {
        security_mode: 1,
        capabilities: 0,
        client_guid: [7; 16],
        dialects,
        contexts: vec![NegotiateContext::PreauthIntegrity { hash_algorithms: vec![HASH_SHA512], salt: vec![1; 32] }],
    }
    .encode(&mut out);
    out.into_vec()
}

fn echo(message_id: u64) -> Vec<u8> {
    use smb_core::proto::Writer;
    use smb_core::proto::echo::EchoRequest;
    use smb_core::proto::header::{Command, Header};
    let mut out = Writer::new();
    Header { command: Command::ECHO, credits: 8, message_id, ..Header::default() }.encode(&mut out);
    EchoRequest::default().encode(&mut out);
    out.into_vec()
}

/// Sends one framed message on the SMB stream and reads the framed answer.
async fn exchange(send: &mut quinn::SendStream, recv: &mut quinn::RecvStream, message: &[u8]) -> Option<Vec<u8>> {
    use smb_core::proto::framing;
    send.write_all(&framing::frame_header(message.len()).unwrap()).await.ok()?;
    send.write_all(message).await.ok()?;
    let mut header = [0_u8; framing::HEADER_LENGTH];
    tokio::time::timeout(LIMIT, recv.read_exact(&mut header)).await.ok()?.ok()?;
    let mut body = vec![0_u8; framing::frame_length(header).ok()?];
    tokio::time::timeout(LIMIT, recv.read_exact(&mut body)).await.ok()?.ok()?;
    Some(body)
}

fn status_of(message: &[u8]) -> smb_core::proto::NtStatus {
    smb_core::proto::header::Header::decode(&mut smb_core::proto::Reader::new(message)).unwrap().status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialects_below_3_1_1_are_refused_over_quic() {
    use smb_core::proto::negotiate::Dialect;
    let server = SmbServer::start().await;
    server.set("smb_min_dialect", "2.0.2").await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    let (connection, _) = handshake(address, &ca, "localhost").await.unwrap();
    let (mut send, mut recv) = connection.open_bi().await.unwrap();
    let offered = vec![Dialect::SMB2_0_2, Dialect::SMB2_1, Dialect::SMB3_0, Dialect::SMB3_0_2];
    let answer = exchange(&mut send, &mut recv, &negotiate(offered, 0)).await.expect("an answer");
    assert_eq!(status_of(&answer), smb_core::proto::NtStatus::NOT_SUPPORTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_changes_its_address_keeps_its_smb_connection() {
    use smb_core::proto::negotiate::Dialect;
    let server = SmbServer::start().await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    let (endpoint, config) = client(&ca);
    let connection = endpoint.connect_with(config, address, "localhost").unwrap().await.unwrap();
    let (mut send, mut recv) = connection.open_bi().await.unwrap();
    let answer = exchange(&mut send, &mut recv, &negotiate(vec![Dialect::SMB3_1_1], 0)).await.expect("negotiated");
    assert_eq!(status_of(&answer), smb_core::proto::NtStatus::SUCCESS);
    let before = endpoint.local_addr().unwrap();
    // A new UDP socket: a new source port, as after a NAT rebinding or a network change.
    endpoint.rebind(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    assert_ne!(endpoint.local_addr().unwrap(), before);
    for id in 1..=3 {
        let answer = exchange(&mut send, &mut recv, &echo(id)).await.expect("the connection should survive the move");
        assert_eq!(status_of(&answer), smb_core::proto::NtStatus::SUCCESS, "ECHO {id} after the move");
    }
}

/// A certificate and key made by the `openssl` command line for `name`, in `dir`.
async fn openssl_certificate(dir: &Path, name: &str, days: u32) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join(format!("{name}-{days}.crt.pem")), dir.join(format!("{name}-{days}.key.pem")));
    let days = days.to_string();
    let subject = format!("/CN={name}");
    let san = format!("subjectAltName=DNS:{name}");
    let output = support::run_tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            &days,
            "-subj",
            &subject,
            "-addext",
            &san,
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-addext",
            "keyUsage=critical,digitalSignature",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
        LIMIT,
    )
    .await;
    assert!(output.status.success(), "openssl req: {}", support::transcript(&output));
    (cert, key)
}

/// Packs a certificate and key into a PFX with `openssl pkcs12`, with the extra arguments.
async fn openssl_pfx(cert: &Path, key: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "pkcs12",
        "-export",
        "-in",
        cert.to_str().unwrap(),
        "-inkey",
        key.to_str().unwrap(),
        "-out",
        out.to_str().unwrap(),
        "-passout",
        "pass:Pfx password 1",
    ];
    args.extend_from_slice(extra);
    let output = support::run_tool("openssl", &args, LIMIT).await;
    assert!(output.status.success(), "openssl pkcs12: {}", support::transcript(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_from_openssl_import_as_pem_and_as_current_and_legacy_pfx() {
    let server = SmbServer::start().await;
    let dir = server.dir.path();
    let (cert, key) = openssl_certificate(dir, "pem.example", 90).await;
    let added = certs::import_pem(
        &server.db,
        &std::fs::read_to_string(&cert).unwrap(),
        &std::fs::read_to_string(&key).unwrap(),
    )
    .await
    .expect("PEM import");
    assert_eq!(added.info.dns_names, ["pem.example"]);

    // Current PFX (PBES2, AES-256), legacy 3DES, and legacy RC2-40 certificates with 3DES keys
    // (`openssl pkcs12 -legacy`, as older Windows exports).
    let cases: [(&str, &[&str]); 3] = [
        ("modern.example", &[]),
        ("des.example", &["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"]),
        ("rc2.example", &["-legacy"]),
    ];
    for (name, extra) in cases {
        let (cert, key) = openssl_certificate(dir, name, 90).await;
        let pfx = dir.join(format!("{name}.pfx"));
        openssl_pfx(&cert, &key, &pfx, extra).await;
        let data = std::fs::read(&pfx).unwrap();
        let wrong = certs::import_pfx(&server.db, &data, "not the password").await;
        assert!(wrong.is_err_and(|e| e.for_field("password").is_some()), "{name}: a wrong password is named as such");
        let added =
            certs::import_pfx(&server.db, &data, "Pfx password 1").await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(added.info.dns_names, [name]);
        let stored = certs::get(&server.db, &added.info.thumbprint).await.unwrap().unwrap();
        assert!(
            stored.has_key && stored.usable(app::backend::now()),
            "{name} should be usable: {:?}",
            stored.checks(app::backend::now())
        );
    }
    assert_eq!(certs::list(&server.db).await.unwrap().len(), 4);
}

/// A client CA and a client certificate it issued (chain leaf first, and the key), made with
/// rcgen; the CA as PEM for the server's store.
fn client_identity(subject: &str) -> (String, Vec<CertificateDer<'static>>, rustls::pki_types::PrivateKeyDer<'static>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, "Example Client CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name.push(DnType::CommonName, subject);
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let leaf = leaf.signed_by(&key, &issuer).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    (ca_cert.pem(), vec![leaf.der().clone(), ca_cert.der().clone()], key)
}

/// Connects as `localhost`, presenting `identity` when given, and negotiates SMB: `Ok` when the
/// server answers, `Err` with why not.
async fn attempt(
    address: SocketAddr,
    ca: &Path,
    identity: Option<(Vec<CertificateDer<'static>>, rustls::pki_types::PrivateKeyDer<'static>)>,
) -> Result<(), String> {
    use smb_core::proto::negotiate::Dialect;
    let builder = tls13().with_root_certificates(roots(ca));
    let tls = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    let (connection, _) = dial(tls, address, "localhost").await.map_err(|e| format!("handshake: {e}"))?;
    let (mut send, mut recv) = connection.open_bi().await.map_err(|e| format!("stream: {e}"))?;
    match exchange(&mut send, &mut recv, &negotiate(vec![Dialect::SMB3_1_1], 0)).await {
        Some(_) => Ok(()),
        None => Err(format!("closed: {:?}", connection.close_reason())),
    }
}

/// The next refusal the engine reports.
async fn next_refusal(events: &mut tokio::sync::broadcast::Receiver<Event>) -> String {
    tokio::time::timeout(LIMIT, async {
        loop {
            if let Ok(Event::QuicRefused { reason, .. }) = events.recv().await {
                return reason;
            }
        }
    })
    .await
    .expect("a refusal event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_admitted_and_blocked_by_the_mapping_access_lists() {
    use smb_core::ClientMatch;
    let server = SmbServer::start().await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    let (client_ca, chain, key) = client_identity("laptop-17");
    certs::import_ca(&server.db, &client_ca).await.expect("client CA import");
    map_localhost(&server, true, false).await;
    let mut events = server.engine.subscribe();
    let leaf = certs::inspect(&chain[0]).unwrap();
    let identity = || Some((chain.clone(), key.clone_key()));

    assert!(attempt(address, &ca, None).await.is_err(), "no client certificate: refused");
    assert!(next_refusal(&mut events).await.contains("presented none"));
    assert!(attempt(address, &ca, identity()).await.is_err(), "no allow entry yet: refused");
    let refusal = next_refusal(&mut events).await;
    assert!(
        refusal.contains(&leaf.thumbprint) && refusal.contains(&leaf.sha256) && refusal.contains("laptop-17"),
        "{refusal}"
    );

    let by_issuer = ClientMatch::Issuer("CN=Example Client CA".into());
    certs::change_access(&server.db, "localhost", &by_issuer, true, true).await.unwrap();
    server.apply().await;
    attempt(address, &ca, identity()).await.expect("allowed by its issuer");

    let by_hash = ClientMatch::Sha256(leaf.sha256.clone());
    certs::change_access(&server.db, "localhost", &by_hash, false, true).await.unwrap();
    server.apply().await;
    assert!(attempt(address, &ca, identity()).await.is_err(), "a block of the leaf wins over the issuer's allow");
    assert!(next_refusal(&mut events).await.contains("blocked"));

    certs::change_access(&server.db, "localhost", &by_hash, false, false).await.unwrap();
    server.apply().await;
    attempt(address, &ca, identity()).await.expect("unblocked again");

    // A certificate from a CA the store does not hold fails the TLS handshake itself.
    let (_, foreign_chain, foreign_key) = client_identity("stranger");
    let foreign = attempt(address, &ca, Some((foreign_chain, foreign_key))).await;
    assert!(foreign.is_err(), "an untrusted client chain is refused");
}

/// Runs `openssl` with `args` in `dir`, failing the test when it fails.
async fn openssl(dir: &Path, args: &[&str]) {
    let output = support::run_tool_in("openssl", args, Some(dir), LIMIT).await;
    assert!(output.status.success(), "openssl {args:?}: {}", support::transcript(&output));
}

/// A self-signed CA made by `openssl`: `NAME.crt.pem` and `NAME.key.pem` in `dir`.
async fn openssl_ca(dir: &Path, name: &str) {
    let (cert, key, subject) = (format!("{name}.crt.pem"), format!("{name}.key.pem"), format!("/CN={name}"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-subj",
            &subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-keyout",
            &key,
            "-out",
            &cert,
        ],
    )
    .await;
}

/// A client certificate for `name` issued by the `openssl_ca` named `ca`: `NAME.crt.pem` and
/// `NAME.key.pem` in `dir`.
async fn openssl_client(dir: &Path, name: &str, ca: &str) {
    let (cert, key, csr, subject) =
        (format!("{name}.crt.pem"), format!("{name}.key.pem"), format!("{name}.csr"), format!("/CN={name}"));
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &subject,
            "-keyout",
            &key,
            "-out",
            &csr,
        ],
    )
    .await;
    let extensions = dir.join(format!("{name}.ext"));
    std::fs::write(&extensions, "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n").unwrap();
    let (ca_cert, ca_key) = (format!("{ca}.crt.pem"), format!("{ca}.key.pem"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_cert,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            extensions.to_str().unwrap(),
            "-out",
            &cert,
        ],
    )
    .await;
}

fn pem_certificate(dir: &Path, name: &str) -> CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_file(dir.join(format!("{name}.crt.pem"))).unwrap()
}

fn pem_key(dir: &Path, name: &str) -> rustls::pki_types::PrivateKeyDer<'static> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::PrivateKeyDer::from_pem_file(dir.join(format!("{name}.key.pem"))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_appended_after_the_clients_own_never_decide_its_access() {
    use smb_core::ClientMatch;
    let server = SmbServer::start().await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    let dir = server.dir.path();
    // A trusted client CA with two clients, and a CA the server does not trust.
    openssl_ca(dir, "Trusted Client CA").await;
    openssl_ca(dir, "Partner CA").await;
    openssl_client(dir, "victim", "Trusted Client CA").await;
    openssl_client(dir, "mallory", "Trusted Client CA").await;
    openssl_client(dir, "forged", "Partner CA").await;
    let trusted_ca = std::fs::read_to_string(dir.join("Trusted Client CA.crt.pem")).unwrap();
    certs::import_ca(&server.db, &trusted_ca).await.expect("client CA import");
    map_localhost(&server, true, false).await;
    let mut events = server.engine.subscribe();
    let victim = pem_certificate(dir, "victim");
    let victim_sha256 = certs::inspect(&victim).unwrap().sha256;

    // The victim's own certificate is allowed by its SHA-256.
    let by_hash = ClientMatch::Sha256(victim_sha256);
    certs::change_access(&server.db, "localhost", &by_hash, true, true).await.unwrap();
    server.apply().await;
    attempt(address, &ca, Some((vec![victim.clone()], pem_key(dir, "victim")))).await.expect("the victim is admitted");

    // Mallory holds a valid certificate of the same CA and appends the victim's public one.
    let mallory = || pem_certificate(dir, "mallory");
    let appended = vec![mallory(), victim.clone()];
    let refused = attempt(address, &ca, Some((appended, pem_key(dir, "mallory")))).await;
    assert!(refused.is_err(), "an appended certificate must not admit its sender");
    let reason = next_refusal(&mut events).await;
    assert!(reason.contains("CN=mallory") && reason.contains("no allow entry"), "{reason}");

    // An issuer entry for a CA the server does not trust: a certificate that names it, appended
    // after a valid one, decides nothing either.
    let by_issuer = ClientMatch::Issuer("CN=Partner CA".into());
    certs::change_access(&server.db, "localhost", &by_issuer, true, true).await.unwrap();
    server.apply().await;
    let forged = vec![mallory(), pem_certificate(dir, "forged"), pem_certificate(dir, "Partner CA")];
    let refused = attempt(address, &ca, Some((forged, pem_key(dir, "mallory")))).await;
    assert!(refused.is_err(), "a self-made certificate naming an allowed issuer must not admit");
    let reason = next_refusal(&mut events).await;
    assert!(reason.contains("CN=mallory") && reason.contains("no allow entry"), "{reason}");

    // A block entry of an appended certificate does not refuse a client it does not describe.
    let block_victim = ClientMatch::Sha256(certs::inspect(&victim).unwrap().sha256);
    certs::change_access(&server.db, "localhost", &block_victim, false, true).await.unwrap();
    let by_trusted_issuer = ClientMatch::Issuer("CN=Trusted Client CA".into());
    certs::change_access(&server.db, "localhost", &by_trusted_issuer, true, true).await.unwrap();
    server.apply().await;
    attempt(address, &ca, Some((vec![mallory(), victim.clone()], pem_key(dir, "mallory"))))
        .await
        .expect("mallory is admitted by the trusted issuer; the victim's block is about the victim only");
    let refused = attempt(address, &ca, Some((vec![victim], pem_key(dir, "victim")))).await;
    assert!(refused.is_err(), "the victim itself is blocked");
}

/// Checks the server's chain for `localhost` whatever address the client dialled: a client that
/// connects by IP address (and so sends no SNI) yet still verifies the certificate.
#[derive(Debug)]
struct AsLocalhost(Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for AsLocalhost {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        self.0.verify_server_cert(end_entity, intermediates, &name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Connects to `address` by its IP address (no SNI); the thumbprint the server presented.
async fn handshake_without_server_name(address: SocketAddr, ca: &Path) -> Result<String, String> {
    let webpki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots(ca)), provider()).build().unwrap();
    let tls = tls13().dangerous().with_custom_certificate_verifier(Arc::new(AsLocalhost(webpki))).with_no_client_auth();
    let (_, thumbprint) = dial(tls, address, &address.ip().to_string()).await?;
    Ok(thumbprint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_a_server_name_need_the_default_mapping() {
    let server = SmbServer::start().await;
    let mut events = server.engine.subscribe();
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    assert!(handshake_without_server_name(address, &ca).await.is_err(), "no default mapping: refused");
    let reason = next_refusal(&mut events).await;
    assert!(reason.starts_with("the client sent no server name and no default mapping is set"), "{reason}");
    let mapping = map_localhost(&server, false, true).await;
    let presented = handshake_without_server_name(address, &ca).await.expect("the default mapping answers");
    assert_eq!(presented, mapping.thumbprint);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_made_by_openssl_takes_over_its_name_though_openssl_marks_it_a_ca() {
    let server = SmbServer::start().await;
    let (dir, db) = (server.dir.path(), &server.db);
    let import = |days: u32| async move {
        let (cert, key) = openssl_certificate(dir, "renew.example", days).await;
        let (cert, key) = (std::fs::read_to_string(cert).unwrap(), std::fs::read_to_string(key).unwrap());
        certs::import_pem(db, &cert, &key).await.expect("PEM import")
    };
    let first = import(90).await;
    assert!(first.info.is_ca, "openssl req -x509 adds CA:TRUE (the case this test is about)");
    let mapping = Mapping {
        name: "renew.example".into(),
        thumbprint: first.info.thumbprint.clone(),
        require_client_auth: false,
        skip_client_access_check: false,
        allow_named_pipes: false,
        is_default: false,
    };
    certs::map(&server.db, &mapping).await.unwrap();
    let renewed = import(180).await;
    assert_eq!(renewed.remapped.len(), 1, "the longer-lived certificate should take the mapping over");
    assert_eq!(thumbprint_of(&server, "renew.example").await, renewed.info.thumbprint);
}

/// How often the server's limit named `name` has refused something.
fn refused(server: &SmbServer, name: &str) -> u64 {
    server.engine.refusals().into_iter().find(|(limit, _)| limit.name() == name).map_or(0, |(_, count)| count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quic_connection_that_never_opens_its_smb_stream_is_closed_at_the_preauth_deadline() {
    let server = SmbServer::start().await;
    server.set("limit_preauth_timeout_seconds", "2").await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    let (connection, _) = handshake(address, &ca, "localhost").await.expect("handshake");
    // The server's keep-alives would hold it forever; the deadline does not.
    let closed = tokio::time::timeout(Duration::from_secs(10), connection.closed()).await;
    assert!(closed.is_ok(), "a handshaken connection without a stream outlived the deadline");
    assert_eq!(refused(&server, "preauth_timeout"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_new_quic_clients_first_prove_their_address_with_a_retry() {
    let server = SmbServer::start().await;
    // Every handshake counts as load: each new client gets a Retry, which quinn's client follows.
    server.set("quic_handshakes_before_retry", "0").await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    for _ in 0..3 {
        handshake(address, &ca, "localhost").await.expect("a client that follows the Retry gets in");
    }
    assert_eq!(refused(&server, "quic_retry"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_connections_past_the_per_client_limit_are_refused() {
    let server = SmbServer::start().await;
    server.set("limit_connections_per_client", "3").await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    let mut held = Vec::new();
    let mut refusals = 0;
    for _ in 0..5 {
        match handshake(address, &ca, "localhost").await {
            Ok((connection, _)) => held.push(connection),
            Err(_) => refusals += 1,
        }
    }
    assert_eq!((held.len(), refusals), (3, 2));
    assert_eq!(refused(&server, "connections_per_client"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quic_client_without_a_session_can_send_only_a_small_window_ahead_of_the_server() {
    let server = SmbServer::start().await;
    let (address, ca) = server.enable_quic(&["localhost"], false).await;
    let (connection, _) = handshake(address, &ca, "localhost").await.expect("handshake");
    let (mut send, _recv) = connection.open_bi().await.expect("the SMB stream");
    // A frame announcing 9 MiB: refused unread, after which the server reads nothing more.
    send.write_all(&[0, 0x90, 0, 0]).await.unwrap();
    let junk = vec![0xEE_u8; 64 << 10];
    let mut accepted = 0;
    while accepted < 16 << 20 {
        match tokio::time::timeout(Duration::from_secs(2), send.write(&junk)).await {
            Ok(Ok(written)) => accepted += written,
            Ok(Err(_)) | Err(_) => break,
        }
    }
    // Before sign-in, QUIC flow control lets a client send 64 KiB ahead (16 MiB after sign-in).
    assert!(accepted <= 128 << 10, "the server took {accepted} bytes it will never read");
}
