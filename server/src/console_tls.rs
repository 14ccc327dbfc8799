//! The console's own HTTPS certificate: one given by the administrator, or a self-signed one made
//! at first start and kept in the data directory (renewed there when it nears expiry).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use app::model::overview::ConsoleTls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// A generated certificate is replaced at start when fewer days than this remain.
const RENEW_WITHIN_DAYS: i64 = 30;
const GENERATED_LIFETIME_DAYS: i64 = 397;

pub struct Loaded {
    pub config: Arc<rustls::ServerConfig>,
    pub info: ConsoleTls,
}

/// Where the generated certificate lives.
pub fn generated_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("console");
    (dir.join("console-cert.pem"), dir.join("console-key.pem"))
}

/// Loads the configured certificate, or the generated one (making it when missing or expiring).
pub fn load(data_dir: &Path, cert: Option<&Path>, key: Option<&Path>, server_name: &str) -> anyhow::Result<Loaded> {
    let (cert_path, key_path) = match (cert, key) {
        (Some(cert), Some(key)) => (cert.to_owned(), key.to_owned()),
        _ => {
            let (cert_path, key_path) = generated_paths(data_dir);
            if needs_generation(&cert_path, &key_path) {
                generate(&cert_path, &key_path, server_name)?;
                tracing::info!(path = %cert_path.display(), "generated a self-signed console certificate");
            }
            (cert_path, key_path)
        }
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .with_context(|| format!("cannot read the console certificate {}", cert_path.display()))?;
    let Some(leaf) = chain.first() else {
        bail!("the console certificate file {} holds no certificate", cert_path.display());
    };
    let info = describe(leaf, &cert_path)?;
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .with_context(|| format!("cannot read the console private key {}", key_path.display()))?;
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .with_context(|| format!("the console certificate {} does not match its key", cert_path.display()))?;
    // HTTP/1.1 only: the console needs nothing of HTTP/2, whose connections hung a page load
    // now and then in the browser tests (a navigation cancelling requests in flight on the
    // one multiplexed connection), and HTTP/1.1's header-read timeout bounds every connection.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Loaded { config: Arc::new(config), info })
}

fn needs_generation(cert_path: &Path, key_path: &Path) -> bool {
    let Ok(pem) = std::fs::read(cert_path) else { return true };
    if !key_path.exists() {
        return true;
    }
    let Some(Ok(der)) = CertificateDer::pem_slice_iter(&pem).next() else { return true };
    match X509Certificate::from_der(&der) {
        Ok((_, cert)) => {
            let not_after = cert.validity().not_after.timestamp();
            not_after - OffsetDateTime::now_utc().unix_timestamp() < RENEW_WITHIN_DAYS * 86_400
        }
        Err(_) => true,
    }
}

fn generate(cert_path: &Path, key_path: &Path, server_name: &str) -> anyhow::Result<()> {
    let mut names = vec!["localhost".to_owned()];
    if !server_name.is_empty() && server_name != "localhost" && server_name.parse::<IpAddr>().is_err() {
        names.push(server_name.to_owned());
    }
    let mut params = rcgen::CertificateParams::new(names)?;
    params.subject_alt_names.push(rcgen::SanType::IpAddress("127.0.0.1".parse()?));
    params.subject_alt_names.push(rcgen::SanType::IpAddress("::1".parse()?));
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, format!("EdgeShare console ({server_name})"));
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(GENERATED_LIFETIME_DAYS);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    if let Some(dir) = cert_path.parent() {
        crate::db::create_private_dir(dir)?;
    }
    write_private(key_path, key.serialize_pem().as_bytes())
        .with_context(|| format!("cannot write {}", key_path.display()))?;
    std::fs::write(cert_path, cert.pem()).with_context(|| format!("cannot write {}", cert_path.display()))?;
    Ok(())
}

/// Writes a file readable by its owner only, replacing it atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

fn describe(der: &CertificateDer<'_>, path: &Path) -> anyhow::Result<ConsoleTls> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| anyhow::anyhow!("cannot parse the console certificate {}: {e}", path.display()))?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => names.push(ip_text(bytes)),
                _ => {}
            }
        }
    }
    let not_after_unix = cert.validity().not_after.timestamp();
    Ok(ConsoleTls {
        subject: cert.subject().to_string(),
        names,
        self_signed: cert.subject() == cert.issuer(),
        not_after: OffsetDateTime::from_unix_timestamp(not_after_unix)?.format(&Rfc3339)?,
        not_after_unix,
        path: path.display().to_string(),
    })
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap_or_default()).to_string(),
        16 => IpAddr::from(<[u8; 16]>::try_from(bytes).unwrap_or_default()).to_string(),
        _ => format!("{bytes:02x?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load(dir.path(), None, None, "files.example.com").unwrap();
        assert!(first.info.self_signed);
        assert!(first.info.names.contains(&"files.example.com".to_owned()));
        assert!(first.info.names.contains(&"127.0.0.1".to_owned()));
        let (cert_path, key_path) = generated_paths(dir.path());
        let pem = std::fs::read(&cert_path).unwrap();
        load(dir.path(), None, None, "files.example.com").unwrap();
        assert_eq!(std::fs::read(&cert_path).unwrap(), pem, "a valid certificate is not replaced");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_key_that_does_not_match_the_certificate_is_refused() {
        let one = tempfile::tempdir().unwrap();
        let two = tempfile::tempdir().unwrap();
        load(one.path(), None, None, "a").unwrap();
        load(two.path(), None, None, "b").unwrap();
        let (cert, _) = generated_paths(one.path());
        let (_, key) = generated_paths(two.path());
        let error = load(one.path(), Some(&cert), Some(&key), "a").err().unwrap();
        assert!(format!("{error:#}").contains("does not match"), "{error:#}");
    }
}
