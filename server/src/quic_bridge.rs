//! A TCP-to-QUIC bridge: accepts plain SMB-over-TCP connections and carries each over its own
//! SMB-over-QUIC connection (ALPN `smb`, one bidirectional stream), so that tools that speak only
//! TCP (Samba's smbclient and smbtorture) can test and measure the QUIC listener. A test and
//! benchmark tool, reachable as `edgeshare quic bridge`; the bytes it moves are unchanged, since
//! both transports use Direct-TCP framing.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use quinn::crypto::rustls::QuicClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::net::{TcpListener, TcpStream};

/// Where the bridge sends its connections.
#[derive(Clone)]
pub struct Target {
    pub address: SocketAddr,
    /// The server name presented in TLS (SNI), which picks the certificate mapping.
    pub server_name: String,
    config: quinn::ClientConfig,
}

impl Target {
    /// A target trusting the certificates of `ca_file` (DER or PEM).
    pub fn new(address: SocketAddr, server_name: &str, ca_file: &Path) -> anyhow::Result<Target> {
        let bytes = std::fs::read(ca_file).with_context(|| format!("cannot read {}", ca_file.display()))?;
        let certificates: Vec<CertificateDer<'static>> = if bytes.starts_with(b"-----") {
            CertificateDer::pem_slice_iter(&bytes).collect::<Result<_, _>>().context("unreadable PEM")?
        } else {
            vec![CertificateDer::from(bytes)]
        };
        let mut roots = rustls::RootCertStore::empty();
        for certificate in certificates {
            roots.add(certificate).context("unusable CA certificate")?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![smb_core::transport::quic::ALPN.to_vec()];
        let mut config = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(tls)?));
        let mut transport = quinn::TransportConfig::default();
        // Room for 8 MiB READs and WRITEs in flight, as the server allows.
        transport
            .stream_receive_window((16_u32 << 20).into())
            .receive_window((32_u32 << 20).into())
            .send_window(32 << 20)
            .keep_alive_interval(Some(std::time::Duration::from_secs(5)));
        config.transport_config(Arc::new(transport));
        Ok(Target { address, server_name: server_name.to_owned(), config })
    }
}

/// Accepts TCP connections on `listener` and bridges each until either side ends.
pub async fn run(listener: TcpListener, target: Target) {
    let local = match (target.address.is_ipv4(), target.address.ip().is_loopback()) {
        (true, true) => SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
        (true, false) => SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0)),
        (false, true) => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0)),
        (false, false) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
    };
    let endpoint = match quinn::Endpoint::client(local) {
        Ok(endpoint) => endpoint,
        Err(error) => {
            tracing::error!(%error, "bridge: cannot open a UDP socket");
            return;
        }
    };
    loop {
        let (tcp, client) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "bridge: accept failed");
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let endpoint = endpoint.clone();
        let target = target.clone();
        tokio::spawn(async move {
            if let Err(error) = bridge(tcp, &endpoint, &target).await {
                tracing::info!(%client, %error, "bridge: connection ended");
            }
        });
    }
}

async fn bridge(tcp: TcpStream, endpoint: &quinn::Endpoint, target: &Target) -> anyhow::Result<()> {
    let connection = endpoint
        .connect_with(target.config.clone(), target.address, &target.server_name)?
        .await
        .context("QUIC handshake")?;
    let (mut send, mut recv) = connection.open_bi().await.context("opening the SMB stream")?;
    let (mut tcp_read, mut tcp_write) = tcp.into_split();
    let upstream = async {
        let copied = tokio::io::copy(&mut tcp_read, &mut send).await;
        let _ = send.finish();
        copied
    };
    let downstream = async {
        let copied = tokio::io::copy(&mut recv, &mut tcp_write).await;
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut tcp_write).await;
        copied
    };
    // Either direction ending ends the bridge: a client that hangs up, or a server that closes.
    tokio::select! {
        result = upstream => { result?; }
        result = downstream => { result?; }
    }
    connection.close(0_u8.into(), b"");
    Ok(())
}
