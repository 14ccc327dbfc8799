//! A native SMB over QUIC client (the `smb` crate) for the console's end-to-end tests: connects to
//! `\\NAME\SHARE` over QUIC at ADDRESS, trusting the CA in CA_FILE (DER or PEM, as the console
//! exports it), writes FILE with CONTENT, reads it back and prints what it read.
//!
//! quic_client [--kerberos] ADDRESS NAME CA_FILE SHARE USER PASSWORD FILE CONTENT
//!
//! With `--kerberos` it signs in with Kerberos only (USER is `name@REALM`): sspi-rs finds the
//! realm's KDC in `SSPI_KDC_URL_<REALM>`, which may be a KDC proxy (`https://NAME:PORT/KdcProxy`,
//! its certificate trusted through `SSL_CERT_FILE`).

use std::net::SocketAddr;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;

use smb::connection::AuthMethodsConfig;
use smb::transport::{QuicCertValidationOptions, QuicConfig, TransportConfig};
use smb::{
    Client, ClientConfig, ConnectionConfig, CreateOptions, FileAccessMask, FileAttributes, FileCreateArgs, ReadAt,
    Resource, UncPath, WriteAt,
};

const LIMIT: Duration = Duration::from_secs(20);

fn client(port: u16, ca_der: &str, kerberos: bool) -> Client {
    Client::new(ClientConfig {
        dfs: false,
        connection: ConnectionConfig {
            port: Some(port),
            auth_methods: AuthMethodsConfig { ntlm: !kerberos, kerberos },
            timeout: Some(LIMIT),
            smb2_only_negotiate: true,
            transport: TransportConfig::Quic(QuicConfig {
                local_address: None,
                cert_validation: QuicCertValidationOptions::CustomRootCerts(vec![ca_der.to_owned()]),
            }),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// The CA as DER in a file next to the given one: the smb crate reads DER only.
fn der_file(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    if !bytes.starts_with(b"-----BEGIN") {
        return Ok(path.to_owned());
    }
    let der = rustls::pki_types::CertificateDer::pem_slice_iter(&bytes)
        .next()
        .ok_or("no certificate in the PEM file")?
        .map_err(|e| format!("unreadable PEM: {e}"))?;
    let out = format!("{path}.der");
    std::fs::write(&out, der.as_ref()).map_err(|e| format!("cannot write {out}: {e}"))?;
    Ok(out)
}

async fn run(args: &[String]) -> Result<String, String> {
    let (kerberos, args) = match args.split_first() {
        Some((first, rest)) if first == "--kerberos" => (true, rest),
        _ => (false, args),
    };
    let [address, name, ca, share, user, password, file, content] = args else {
        return Err("usage: quic_client [--kerberos] ADDRESS NAME CA_FILE SHARE USER PASSWORD FILE CONTENT".into());
    };
    let address: SocketAddr = address.parse().map_err(|e| format!("ADDRESS: {e}"))?;
    let ca = der_file(ca)?;
    let unc = UncPath::new(name).map_err(|e| format!("{e:?}"))?.with_share(share).map_err(|e| format!("{e:?}"))?;
    // smb 0.12.1 sometimes loses a race over QUIC between the server's signed final
    // SESSION_SETUP response and its own key setup; such attempts are retried on a new client.
    let mut attempts = 0;
    let connected = loop {
        attempts += 1;
        let client = client(address.port(), &ca, kerberos);
        match tokio::time::timeout(LIMIT, client.share_connect(&unc, user, password.clone())).await {
            Err(_) => return Err(format!("connecting to {unc} did not finish within {LIMIT:?}")),
            Ok(Err(error)) if attempts < 5 && format!("{error:?}").contains("phase: SignVerify, session_id") => {
                let _ = client.close().await;
            }
            Ok(Err(error)) => return Err(format!("connecting to {unc} over QUIC failed: {error:?}")),
            Ok(Ok(())) => break client,
        }
    };
    let path = unc.with_path(file);
    let args = FileCreateArgs::make_overwrite(FileAttributes::new(), CreateOptions::new());
    let Resource::File(written) = connected.create_file(&path, &args).await.map_err(|e| format!("create: {e:?}"))?
    else {
        return Err(format!("{path} is not a file"));
    };
    written.write_at(content.as_bytes(), 0).await.map_err(|e| format!("write: {e:?}"))?;
    written.close().await.map_err(|e| format!("close: {e:?}"))?;
    let args = FileCreateArgs::make_open_existing(FileAccessMask::new().with_generic_read(true));
    let Resource::File(read) = connected.create_file(&path, &args).await.map_err(|e| format!("open: {e:?}"))? else {
        return Err(format!("{path} is not a file"));
    };
    let mut buffer = vec![0; content.len() + 64];
    let n = read.read_at(&mut buffer, 0).await.map_err(|e| format!("read: {e:?}"))?;
    read.close().await.map_err(|e| format!("close: {e:?}"))?;
    connected.close().await.map_err(|e| format!("disconnect: {e:?}"))?;
    Ok(String::from_utf8_lossy(&buffer[..n]).into_owned())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(read) => println!("{read}"),
        Err(error) => {
            eprintln!("quic_client: {error}");
            std::process::exit(1);
        }
    }
}
