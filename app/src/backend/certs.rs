//! The certificate store of SMB over QUIC: import, generation (self-signed, or issued by a local
//! CA), the requirement checks Windows applies, and the server-name mappings the engine serves
//! (like `New-SmbServerCertificateMapping`). Private keys stay in the database; nothing here
//! returns one.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use smb_core::{CertificateMapping, ClientAccess, ClientMatch, QuicSettings};
use sqlx::SqlitePool;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};
use zeroize::Zeroizing;

use crate::backend::now;
use crate::backend::smb::{bump_version, setting};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;

/// A certificate expiring within this many days gets a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;
/// Lifetime of generated server certificates (the most public CAs may issue).
const SERVER_LIFETIME_DAYS: i64 = 397;
/// Lifetime of a generated local CA.
const CA_LIFETIME_DAYS: i64 = 3650;

/// What a stored certificate is, as the console and command line show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// SHA-1, upper-case hex (Windows' thumbprint).
    pub thumbprint: String,
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub is_ca: bool,
    pub self_signed: bool,
    /// e.g. "ECDSA P-256", "RSA 2048".
    pub key: String,
    /// e.g. "ECDSA with SHA-256".
    pub signature: String,
    /// `None`: no key usage extension (any use).
    pub digital_signature: Option<bool>,
    /// `None`: no extended key usage extension.
    pub server_auth: Option<bool>,
    /// Key strength and algorithm pass Windows' rules.
    pub key_acceptable: bool,
    pub signature_acceptable: bool,
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn digest(algorithm: &'static aws_lc_rs::digest::Algorithm, der: &[u8]) -> String {
    hex_upper(aws_lc_rs::digest::digest(algorithm, der).as_ref())
}

/// Parses a DER certificate into what the store shows and checks.
pub fn inspect(der: &[u8]) -> AppResult<CertInfo> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| AppError::invalid("certificate", format!("This is not an X.509 certificate: {e}.")))?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    let mut digital_signature = None;
    let mut server_auth = None;
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(dns) => dns_names.push((*dns).to_owned()),
                        GeneralName::IPAddress(bytes) => {
                            if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                                ip_addresses.push(IpAddr::from(v4));
                            } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                                ip_addresses.push(IpAddr::from(v6));
                            }
                        }
                        _ => {}
                    }
                }
            }
            ParsedExtension::KeyUsage(usage) => digital_signature = Some(usage.digital_signature()),
            ParsedExtension::ExtendedKeyUsage(eku) => server_auth = Some(eku.server_auth || eku.any),
            _ => {}
        }
    }
    let (key, key_acceptable) = describe_key(&cert);
    let (signature, signature_acceptable) = describe_signature(&cert);
    Ok(CertInfo {
        thumbprint: digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der),
        sha256: digest(&aws_lc_rs::digest::SHA256, der),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex_upper(cert.raw_serial()),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        dns_names,
        ip_addresses,
        is_ca: cert.is_ca(),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        key,
        signature,
        digital_signature,
        server_auth,
        key_acceptable,
        signature_acceptable,
    })
}

fn describe_key(cert: &X509Certificate<'_>) -> (String, bool) {
    use x509_parser::public_key::PublicKey;
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = rsa.key_size();
            (format!("RSA {bits}"), bits >= 2048)
        }
        Ok(PublicKey::EC(point)) => {
            let curve = cert
                .public_key()
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_default();
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => ("ECDSA P-256".into(), true),
                "1.3.132.0.34" => ("ECDSA P-384".into(), true),
                "1.3.132.0.35" => ("ECDSA P-521".into(), true),
                other => (format!("EC curve {other} ({} bits)", point.key_size()), false),
            }
        }
        Ok(other) => (format!("{other:?}").split('(').next().unwrap_or("unknown").to_owned(), false),
        Err(_) => ("unreadable key".into(), false),
    }
}

fn describe_signature(cert: &X509Certificate<'_>) -> (String, bool) {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    let (name, acceptable) = match oid.as_str() {
        "1.2.840.113549.1.1.11" => ("RSA with SHA-256", true),
        "1.2.840.113549.1.1.12" => ("RSA with SHA-384", true),
        "1.2.840.113549.1.1.13" => ("RSA with SHA-512", true),
        "1.2.840.113549.1.1.10" => ("RSA-PSS", true),
        "1.2.840.10045.4.3.2" => ("ECDSA with SHA-256", true),
        "1.2.840.10045.4.3.3" => ("ECDSA with SHA-384", true),
        "1.2.840.10045.4.3.4" => ("ECDSA with SHA-512", true),
        "1.2.840.113549.1.1.5" => ("RSA with SHA-1", false),
        "1.2.840.10045.4.1" => ("ECDSA with SHA-1", false),
        "1.2.840.113549.1.1.4" => ("RSA with MD5", false),
        _ => return (format!("algorithm {oid}"), false),
    };
    (name.to_owned(), acceptable)
}

/// A DNS name as certificates carry it: labels of letters, digits and '-', optionally a
/// leading `*.` wildcard.
pub fn valid_dns_name(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Whether a certificate name (possibly `*.example.com`) covers `name`.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            name.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && rest.eq_ignore_ascii_case(suffix))
        }
        None => pattern.eq_ignore_ascii_case(name),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckStatus {
    Pass,
    Warning,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warning => "warning",
            CheckStatus::Fail => "fail",
        }
    }
}

/// One requirement of SMB over QUIC's certificates, with its result and how to fix a failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: CheckStatus,
    pub detail: String,
    /// What to do about a warning or failure.
    pub fix: Option<&'static str>,
}

fn check(name: &'static str, status: CheckStatus, detail: impl Into<String>, fix: &'static str) -> Check {
    Check { name, status, detail: detail.into(), fix: (status != CheckStatus::Pass).then_some(fix) }
}

/// The requirements Windows Server applies to SMB over QUIC certificates, checked at `at`
/// (Unix seconds). `has_key`: the store holds the private key; `local_ca`: the issuer is a CA
/// in this store.
pub fn checks(info: &CertInfo, has_key: bool, local_ca: Option<&str>, at: i64) -> Vec<Check> {
    use CheckStatus::{Fail, Pass, Warning};
    let mut out = Vec::new();
    out.push(match info.digital_signature {
        Some(true) => check("Key usage", Pass, "digital signature", ""),
        None => check("Key usage", Pass, "no key usage extension: any use", ""),
        Some(false) => check(
            "Key usage",
            Fail,
            "the key usage extension lacks digital signature",
            "Request a certificate whose key usage includes digital signature.",
        ),
    });
    out.push(match info.server_auth {
        Some(true) => check("Enhanced key usage", Pass, "server authentication (1.3.6.1.5.5.7.3.1)", ""),
        Some(false) => check(
            "Enhanced key usage",
            Fail,
            "server authentication (1.3.6.1.5.5.7.3.1) is missing",
            "Request a certificate with the Server Authentication enhanced key usage.",
        ),
        None => check(
            "Enhanced key usage",
            Fail,
            "no enhanced key usage extension",
            "Request a certificate with the Server Authentication enhanced key usage.",
        ),
    });
    out.push(check(
        "Signature algorithm",
        if info.signature_acceptable { Pass } else { Fail },
        info.signature.clone(),
        "Reissue the certificate signed with SHA-256 or stronger.",
    ));
    out.push(check(
        "Key",
        if info.key_acceptable { Pass } else { Fail },
        info.key.clone(),
        "Use an ECDSA P-256, P-384 or P-521 key, or RSA of 2048 bits or more.",
    ));
    let bad_names: Vec<&String> = info.dns_names.iter().filter(|n| !valid_dns_name(n)).collect();
    out.push(if info.dns_names.is_empty() {
        check(
            "Subject alternative names",
            Fail,
            "no DNS name",
            "Include every name clients use (e.g. fs.example.com) as a DNS subject alternative name.",
        )
    } else if !bad_names.is_empty() {
        let list: Vec<&str> = bad_names.iter().map(|n| n.as_str()).collect();
        check(
            "Subject alternative names",
            Fail,
            format!("not valid DNS names: {}", list.join(", ")),
            "Use DNS names of letters, digits, '-' and '.' only.",
        )
    } else {
        check("Subject alternative names", Pass, info.dns_names.join(", "), "")
    });
    if !info.ip_addresses.is_empty() {
        let list: Vec<String> = info.ip_addresses.iter().map(IpAddr::to_string).collect();
        out.push(check(
            "IP address names",
            Warning,
            list.join(", "),
            "Clients connecting by IP address fall back to NTLM and break behind NAT: have them use a DNS name.",
        ));
    }
    out.push(if info.subject.trim().is_empty() {
        check("Subject", Fail, "empty", "Reissue the certificate with a subject (e.g. CN=fs.example.com).")
    } else {
        check("Subject", Pass, info.subject.clone(), "")
    });
    out.push(if has_key {
        check("Private key", Pass, "present", "")
    } else {
        check("Private key", Fail, "missing", "Import the certificate together with its private key.")
    });
    let days_left = (info.not_after - at).div_euclid(86_400);
    out.push(if at < info.not_before {
        check("Validity", Fail, "not valid yet", "Check the server's clock, or wait until the certificate is valid.")
    } else if at > info.not_after {
        check("Validity", Fail, "expired", "Renew the certificate and import the new one: mappings move to it.")
    } else if days_left < EXPIRY_WARNING_DAYS {
        check(
            "Validity",
            Warning,
            format!("expires in {days_left} days"),
            "Renew the certificate and import the new one: mappings move to it.",
        )
    } else {
        check("Validity", Pass, format!("{days_left} days left"), "")
    });
    out.push(if info.self_signed {
        check(
            "Trust",
            Warning,
            "self-signed",
            "Clients must trust this certificate: install it in their trusted root store, or use one from a CA they trust.",
        )
    } else if let Some(ca) = local_ca {
        check(
            "Trust",
            Warning,
            format!("issued by the local CA {ca}"),
            "Clients must trust the local CA: export it (cert export --ca) and install it on them.",
        )
    } else {
        check("Trust", Pass, format!("issued by {}", info.issuer), "")
    });
    out
}

/// A stored certificate: what it is, where it came from, and which names map to it.
#[derive(Clone, Debug)]
pub struct StoredCert {
    pub info: CertInfo,
    pub has_key: bool,
    pub origin: String,
    pub created_at: i64,
    /// The local CA that issued it, when there is one in the store.
    pub local_ca: Option<String>,
    pub mapped_names: Vec<String>,
    /// Intermediate and root certificates stored with it (leaf excluded).
    pub chain_length: usize,
}

impl CertInfo {
    /// Whether the certificate names `name`: a DNS subject alternative name (wildcards
    /// included) or, as clients still accept, the subject's common name.
    pub fn covers(&self, name: &str) -> bool {
        let common_name = self.subject.strip_prefix("CN=").unwrap_or_default();
        self.dns_names.iter().any(|pattern| name_matches(pattern, name)) || name_matches(common_name, name)
    }
}

impl StoredCert {
    pub fn checks(&self, at: i64) -> Vec<Check> {
        checks(&self.info, self.has_key, self.local_ca.as_deref(), at)
    }

    /// Whether any check fails (warnings allowed).
    pub fn usable(&self, at: i64) -> bool {
        self.checks(at).iter().all(|c| c.status != CheckStatus::Fail)
    }
}

pub fn parse_chain(pem: &str) -> AppResult<Vec<CertificateDer<'static>>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| AppError::invalid("certificate", format!("The certificate file is not valid PEM: {e}.")))?;
    if chain.is_empty() {
        return Err(AppError::invalid("certificate", "The file holds no certificate (no BEGIN CERTIFICATE block)."));
    }
    Ok(chain)
}

fn chain_to_pem(chain: &[CertificateDer<'_>]) -> String {
    chain.iter().map(|der| pem_block("CERTIFICATE", der)).collect()
}

fn pem_block(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

/// Checks that `key_pem` is the private key of the leaf of `chain`.
fn key_matches(chain: &[CertificateDer<'static>], key_pem: &str) -> AppResult<()> {
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| AppError::invalid("key", format!("The key file holds no readable private key: {e}.")))?;
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
        .map_err(|e| AppError::invalid("key", format!("The private key cannot be used: {e}.")))?;
    rustls::sign::CertifiedKey::new(chain.to_vec(), signing)
        .keys_match()
        .map_err(|_| AppError::invalid("key", "The private key does not belong to the certificate."))
}

async fn insert(
    db: &SqlitePool,
    chain: &[CertificateDer<'static>],
    key_pem: Option<&str>,
    origin: &str,
) -> AppResult<CertInfo> {
    let info = inspect(&chain[0])?;
    let existing: Option<String> = sqlx::query_scalar("SELECT thumbprint FROM certificates WHERE thumbprint = ?")
        .bind(&info.thumbprint)
        .fetch_optional(db)
        .await?;
    if existing.is_some() {
        return Err(AppError::Conflict(format!("The store already holds certificate {}.", info.thumbprint)));
    }
    sqlx::query(
        "INSERT INTO certificates (thumbprint, sha256, subject, issuer, serial, not_before, not_after, dns_names, \
         is_ca, chain_pem, key_pem, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&info.thumbprint)
    .bind(&info.sha256)
    .bind(&info.subject)
    .bind(&info.issuer)
    .bind(&info.serial)
    .bind(info.not_before)
    .bind(info.not_after)
    .bind(info.dns_names.join(","))
    .bind(info.is_ca)
    .bind(chain_to_pem(chain))
    .bind(key_pem)
    .bind(origin)
    .bind(now())
    .execute(db)
    .await?;
    Ok(info)
}

/// What adding a certificate did: the certificate, and the mappings that moved to it.
#[derive(Clone, Debug)]
pub struct Added {
    pub info: CertInfo,
    pub remapped: Vec<Remap>,
}

impl Added {
    /// Audits the certificate added by `actor` (action `cert.import` or `cert.generate`) and
    /// each mapping that moved to it, so that a renewal's remap is never silent.
    pub async fn audit(&self, db: &SqlitePool, actor: &str, source: &str, action: Action) {
        use crate::backend::audit;
        let info = &self.info;
        let detail = format!("{} ({})", info.subject, info.dns_names.join(", "));
        audit::record(db, audit::Entry::success(actor, action, &info.thumbprint).detail(detail).source(source)).await;
        for remap in &self.remapped {
            let detail = format!("{} -> {}", remap.from, remap.to);
            let entry =
                audit::Entry::success(actor, Action::QuicMappingRenew, &remap.name).detail(detail).source(source);
            audit::record(db, entry).await;
        }
    }
}

/// A mapping that moved to a renewed certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remap {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// Imports a PEM certificate chain (leaf first) with its private key.
pub async fn import_pem(db: &SqlitePool, chain_pem: &str, key_pem: &str) -> AppResult<Added> {
    let chain = parse_chain(chain_pem)?;
    key_matches(&chain, key_pem)?;
    let key = Zeroizing::new(normalize_key(key_pem)?);
    let info = insert(db, &chain, Some(&key), "imported").await?;
    finish_add(db, info).await
}

/// Imports a CA certificate without a key: a trust anchor that client certificate chains are
/// validated against (client access control of SMB over QUIC).
pub async fn import_ca(db: &SqlitePool, chain_pem: &str) -> AppResult<Added> {
    let chain = parse_chain(chain_pem)?;
    let info = inspect(&chain[0])?;
    if !info.is_ca {
        return Err(AppError::invalid(
            "key",
            "This is not a CA certificate: import a server certificate together with its private key.",
        ));
    }
    let info = insert(db, &chain[..1], None, "imported").await?;
    bump_version(db).await?;
    Ok(Added { info, remapped: Vec::new() })
}

/// Imports a PKCS#12 (PFX) file: its private key and certificate chain. Reads current files
/// (PBES2/AES) and legacy ones (3DES keys, RC2-40 certificates, as older Windows exports).
pub async fn import_pfx(db: &SqlitePool, data: &[u8], password: &str) -> AppResult<Added> {
    use p12_keystore::error::Error;
    use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
    let store = KeyStore::from_pkcs12(data, password, Pkcs12ImportPolicy::Strict).map_err(|error| match error {
        Error::MacError(_) => AppError::invalid("password", "The password does not open this PFX file."),
        other => AppError::invalid("pfx", format!("This is not a PFX file EdgeShare can read: {other}.")),
    })?;
    let keychain = store
        .entries()
        .find_map(|(_, entry)| match entry {
            KeyStoreEntry::PrivateKeyChain(chain) if !chain.certs().is_empty() => Some(chain),
            _ => None,
        })
        .ok_or_else(|| AppError::invalid("pfx", "The PFX file holds no private key with its certificate."))?;
    let chain: Vec<CertificateDer<'static>> =
        keychain.certs().iter().map(|cert| CertificateDer::from(cert.as_der().to_vec())).collect();
    let key_pem = Zeroizing::new(pem_block("PRIVATE KEY", keychain.key().as_der()));
    key_matches(&chain, &key_pem)?;
    let info = insert(db, &chain, Some(&key_pem), "imported").await?;
    finish_add(db, info).await
}

/// The key as one PEM block of its own kind (dropping anything else in the file).
fn normalize_key(key_pem: &str) -> AppResult<String> {
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| AppError::invalid("key", format!("The key file holds no readable private key: {e}.")))?;
    let label = match &key {
        PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
        PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
        _ => "PRIVATE KEY",
    };
    Ok(pem_block(label, key.secret_der()))
}

async fn finish_add(db: &SqlitePool, info: CertInfo) -> AppResult<Added> {
    let remapped = if auto_remap_enabled(db).await? { remap_to(db, &info.thumbprint).await? } else { Vec::new() };
    bump_version(db).await?;
    Ok(Added { info, remapped })
}

async fn auto_remap_enabled(db: &SqlitePool) -> AppResult<bool> {
    Ok(setting(db, "quic_auto_remap").await?.is_none_or(|v| v == "true"))
}

/// Moves to the new certificate every mapping whose name it covers, when it is valid now,
/// passes the checks, and outlives the certificate the mapping uses.
async fn remap_to(db: &SqlitePool, thumbprint: &str) -> AppResult<Vec<Remap>> {
    let at = now();
    let Some(new) = get(db, thumbprint).await? else { return Ok(Vec::new()) };
    // Whether it can serve decides, not the CA flag: `openssl req -x509` marks self-signed
    // server certificates as CAs.
    if !new.usable(at) {
        return Ok(Vec::new());
    }
    let mut moved = Vec::new();
    for mapping in list_mappings(db).await? {
        if mapping.thumbprint == new.info.thumbprint
            || !new.info.dns_names.iter().any(|pattern| name_matches(pattern, &mapping.name))
        {
            continue;
        }
        let Some(old) = get(db, &mapping.thumbprint).await? else { continue };
        if new.info.not_after <= old.info.not_after {
            continue;
        }
        sqlx::query("UPDATE quic_mappings SET thumbprint = ? WHERE name = ?")
            .bind(&new.info.thumbprint)
            .bind(&mapping.name)
            .execute(db)
            .await?;
        moved.push(Remap { name: mapping.name, from: old.info.thumbprint, to: new.info.thumbprint.clone() });
    }
    Ok(moved)
}

/// Which key a generated certificate gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    EcdsaP384,
    Rsa(u32),
}

impl KeyKind {
    pub fn parse(text: &str) -> AppResult<KeyKind> {
        match text.to_ascii_lowercase().as_str() {
            "ecdsa" | "ecdsa-p256" | "p256" | "p-256" => Ok(KeyKind::EcdsaP256),
            "ecdsa-p384" | "p384" | "p-384" => Ok(KeyKind::EcdsaP384),
            "rsa" | "rsa2048" | "rsa-2048" => Ok(KeyKind::Rsa(2048)),
            "rsa3072" | "rsa-3072" => Ok(KeyKind::Rsa(3072)),
            "rsa4096" | "rsa-4096" => Ok(KeyKind::Rsa(4096)),
            _ => Err(AppError::invalid(
                "key",
                format!(
                    "Unknown key type '{text}': use ecdsa-p256 (the default), ecdsa-p384, rsa-2048, rsa-3072 or rsa-4096."
                ),
            )),
        }
    }

    pub fn generate(self) -> AppResult<KeyPair> {
        use aws_lc_rs::encoding::AsDer;
        let failed = |e: String| AppError::Internal(format!("key generation failed: {e}"));
        match self {
            KeyKind::EcdsaP256 => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| failed(e.to_string()))
            }
            KeyKind::EcdsaP384 => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(|e| failed(e.to_string()))
            }
            KeyKind::Rsa(bits) => {
                let size = match bits {
                    2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
                    3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
                    _ => aws_lc_rs::rsa::KeySize::Rsa4096,
                };
                let pair = aws_lc_rs::rsa::KeyPair::generate(size).map_err(|e| failed(e.to_string()))?;
                let der = pair.as_der().map_err(|e| failed(e.to_string()))?;
                let pkcs8 = rustls::pki_types::PrivatePkcs8KeyDer::from(der.as_ref().to_vec());
                KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
                    .map_err(|e| failed(e.to_string()))
            }
        }
    }
}

fn validity(params: &mut CertificateParams, days: i64) {
    let start = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    params.not_before = start;
    params.not_after = start + time::Duration::days(days);
}

fn check_dns_names(names: &[String]) -> AppResult<Vec<String>> {
    if names.is_empty() {
        return Err(AppError::invalid("dns", "Give at least one DNS name clients use (e.g. fs.example.com)."));
    }
    let mut out = Vec::new();
    for name in names {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if !valid_dns_name(&name) {
            return Err(AppError::invalid("dns", format!("'{name}' is not a valid DNS name.")));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Generates a server certificate for `dns_names`: self-signed, or issued by the local CA named
/// `ca` (made first when the store has none of that name).
pub async fn generate(db: &SqlitePool, dns_names: &[String], ca: Option<&str>, key: KeyKind) -> AppResult<Added> {
    let names = check_dns_names(dns_names)?;
    let mut params = CertificateParams::new(names.clone())
        .map_err(|e| AppError::invalid("dns", format!("The names cannot go into a certificate: {e}.")))?;
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, names[0].clone());
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = ca.is_some();
    validity(&mut params, SERVER_LIFETIME_DAYS);
    let pair = key.generate()?;
    let failed = |e: rcgen::Error| AppError::Internal(format!("certificate generation failed: {e}"));
    let (chain, origin) = match ca {
        None => (vec![params.self_signed(&pair).map_err(failed)?.der().clone()], "generated"),
        Some(ca_name) => {
            let (ca_der, ca_key_pem) = local_ca(db, ca_name).await?;
            let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(failed)?;
            let issuer = Issuer::from_ca_cert_der(&ca_der, ca_key).map_err(failed)?;
            (vec![params.signed_by(&pair, &issuer).map_err(failed)?.der().clone(), ca_der], "issued")
        }
    };
    let key_pem = Zeroizing::new(pair.serialize_pem());
    let info = insert(db, &chain, Some(&key_pem), origin).await?;
    finish_add(db, info).await
}

/// The local CA of that common name (certificate DER, key PEM), made when missing.
async fn local_ca(db: &SqlitePool, name: &str) -> AppResult<(CertificateDer<'static>, Zeroizing<String>)> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid("ca", "Name the CA with 1 to 64 printable characters."));
    }
    let subject = format!("CN={name}");
    let found: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT chain_pem, key_pem FROM certificates WHERE is_ca = 1 AND subject = ? AND key_pem IS NOT NULL \
         AND not_after > ? ORDER BY not_after DESC LIMIT 1",
    )
    .bind(&subject)
    .bind(now())
    .fetch_optional(db)
    .await?;
    if let Some((chain_pem, Some(key_pem))) = found {
        let chain = parse_chain(&chain_pem)?;
        return Ok((chain[0].clone(), Zeroizing::new(key_pem)));
    }
    let failed = |e: rcgen::Error| AppError::Internal(format!("CA generation failed: {e}"));
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name.to_owned());
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    validity(&mut params, CA_LIFETIME_DAYS);
    let pair = KeyKind::EcdsaP256.generate()?;
    let der = params.self_signed(&pair).map_err(failed)?.der().clone();
    let key_pem = Zeroizing::new(pair.serialize_pem());
    insert(db, std::slice::from_ref(&der), Some(&key_pem), "local-ca").await?;
    Ok((der, key_pem))
}

type Row = (String, Option<String>, String, i64);

fn stored(row: Row, authorities: &[CertInfo], mapped: Vec<String>) -> AppResult<StoredCert> {
    let (chain_pem, key_pem, origin, created_at) = row;
    let chain = parse_chain(&chain_pem)?;
    let info = inspect(&chain[0])?;
    let local_ca = if info.self_signed {
        None
    } else {
        authorities.iter().find(|ca| ca.subject == info.issuer).map(|ca| ca.subject.clone())
    };
    Ok(StoredCert {
        info,
        has_key: key_pem.is_some(),
        origin,
        created_at,
        local_ca,
        mapped_names: mapped,
        chain_length: chain.len() - 1,
    })
}

/// Every stored certificate, newest first.
pub async fn list(db: &SqlitePool) -> AppResult<Vec<StoredCert>> {
    let rows: Vec<(String, Row)> = sqlx::query_as::<_, (String, String, Option<String>, String, i64)>(
        "SELECT thumbprint, chain_pem, key_pem, origin, created_at FROM certificates ORDER BY created_at DESC, not_after DESC",
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|(t, c, k, o, at)| (t, (c, k, o, at)))
    .collect();
    let authorities = local_authorities(db).await?;
    let mappings = list_mappings(db).await?;
    rows.into_iter()
        .map(|(thumbprint, row)| {
            let mapped = mappings.iter().filter(|m| m.thumbprint == thumbprint).map(|m| m.name.clone()).collect();
            stored(row, &authorities, mapped)
        })
        .collect()
}

async fn local_authorities(db: &SqlitePool) -> AppResult<Vec<CertInfo>> {
    let chains: Vec<String> =
        sqlx::query_scalar("SELECT chain_pem FROM certificates WHERE origin = 'local-ca'").fetch_all(db).await?;
    chains.iter().map(|pem| inspect(&parse_chain(pem)?[0])).collect()
}

/// A thumbprint as the administrator may type it: any case, with spaces or colons.
pub fn normalize_thumbprint(text: &str) -> AppResult<String> {
    let hex: String = text.chars().filter(|c| !c.is_whitespace() && *c != ':').collect::<String>().to_ascii_uppercase();
    if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "thumbprint",
            "A thumbprint is 40 hexadecimal digits (the certificate's SHA-1).",
        ));
    }
    Ok(hex)
}

/// One stored certificate.
pub async fn get(db: &SqlitePool, thumbprint: &str) -> AppResult<Option<StoredCert>> {
    let row: Option<Row> =
        sqlx::query_as("SELECT chain_pem, key_pem, origin, created_at FROM certificates WHERE thumbprint = ?")
            .bind(thumbprint)
            .fetch_optional(db)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let mapped = list_mappings(db).await?.into_iter().filter(|m| m.thumbprint == thumbprint).map(|m| m.name).collect();
    Ok(Some(stored(row, &local_authorities(db).await?, mapped)?))
}

async fn require(db: &SqlitePool, thumbprint: &str) -> AppResult<StoredCert> {
    let thumbprint = normalize_thumbprint(thumbprint)?;
    get(db, &thumbprint).await?.ok_or_else(|| AppError::NotFound(format!("No certificate {thumbprint} in the store.")))
}

/// The public certificate (or, with `ca`, the CA that issued it) as PEM or DER. Never a key:
/// only the stored chain is read.
pub async fn export(db: &SqlitePool, thumbprint: &str, ca: bool, der: bool) -> AppResult<Vec<u8>> {
    let thumbprint = normalize_thumbprint(thumbprint)?;
    let chain_pem: String = sqlx::query_scalar("SELECT chain_pem FROM certificates WHERE thumbprint = ?")
        .bind(&thumbprint)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("No certificate {thumbprint} in the store.")))?;
    let chain = parse_chain(&chain_pem)?;
    let leaf = inspect(&chain[0])?;
    let wanted = if !ca || leaf.self_signed {
        &chain[0]
    } else if let Some(root) = chain.iter().skip(1).find(|c| inspect(c).is_ok_and(|i| i.subject == leaf.issuer)) {
        root
    } else {
        return Err(AppError::NotFound(format!(
            "The store holds no certificate of the issuer ({}) with {thumbprint}.",
            leaf.issuer
        )));
    };
    Ok(if der { wanted.to_vec() } else { pem_block("CERTIFICATE", wanted).into_bytes() })
}

/// Removes a certificate; refused while a mapping uses it.
pub async fn remove(db: &SqlitePool, thumbprint: &str) -> AppResult<String> {
    let cert = require(db, thumbprint).await?;
    if !cert.mapped_names.is_empty() {
        return Err(AppError::Conflict(format!(
            "Certificate {} is mapped to {}: map those names to another certificate or unmap them first.",
            cert.info.thumbprint,
            cert.mapped_names.join(", ")
        )));
    }
    sqlx::query("DELETE FROM certificates WHERE thumbprint = ?").bind(&cert.info.thumbprint).execute(db).await?;
    bump_version(db).await?;
    Ok(cert.info.thumbprint)
}

/// A server name's certificate mapping, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub name: String,
    pub thumbprint: String,
    pub require_client_auth: bool,
    pub skip_client_access_check: bool,
    pub allow_named_pipes: bool,
    pub is_default: bool,
}

pub async fn list_mappings(db: &SqlitePool) -> AppResult<Vec<Mapping>> {
    let rows: Vec<(String, String, bool, bool, bool, bool)> = sqlx::query_as(
        "SELECT name, thumbprint, require_client_auth, skip_client_access_check, allow_named_pipes, is_default \
         FROM quic_mappings ORDER BY name",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, thumbprint, require_client_auth, skip_client_access_check, allow_named_pipes, is_default)| {
            Mapping { name, thumbprint, require_client_auth, skip_client_access_check, allow_named_pipes, is_default }
        })
        .collect())
}

/// Maps a server name to a certificate (replacing its mapping, if any). The name must be among
/// the certificate's names (subject alternative names, or its subject's common name) and the
/// certificate must pass the checks.
pub async fn map(db: &SqlitePool, mapping: &Mapping) -> AppResult<Mapping> {
    let name = mapping.name.trim().trim_end_matches('.').to_ascii_lowercase();
    if !valid_dns_name(&name) || name.starts_with("*.") {
        return Err(AppError::invalid("name", format!("'{name}' is not a server name clients can use.")));
    }
    let cert = require(db, &mapping.thumbprint).await?;
    if !cert.info.covers(&name) {
        return Err(AppError::invalid(
            "name",
            format!(
                "{name} is not among the certificate's names ({}).",
                if cert.info.dns_names.is_empty() { cert.info.subject.clone() } else { cert.info.dns_names.join(", ") }
            ),
        ));
    }
    let at = now();
    if let Some(failed) = cert.checks(at).into_iter().find(|c| c.status == CheckStatus::Fail) {
        return Err(AppError::invalid(
            "thumbprint",
            format!(
                "Certificate {} cannot serve SMB over QUIC: {}: {}. {}",
                cert.info.thumbprint,
                failed.name,
                failed.detail,
                failed.fix.unwrap_or_default()
            ),
        ));
    }
    let mut stored = Mapping { name, thumbprint: cert.info.thumbprint.clone(), ..mapping.clone() };
    let mut tx = db.begin().await?;
    if stored.is_default {
        sqlx::query("UPDATE quic_mappings SET is_default = 0 WHERE is_default = 1").execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO quic_mappings (name, thumbprint, require_client_auth, skip_client_access_check, allow_named_pipes, \
         is_default, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO UPDATE SET thumbprint = ?2, \
         require_client_auth = ?3, skip_client_access_check = ?4, allow_named_pipes = ?5, is_default = ?6",
    )
    .bind(&stored.name)
    .bind(&stored.thumbprint)
    .bind(stored.require_client_auth)
    .bind(stored.skip_client_access_check)
    .bind(stored.allow_named_pipes)
    .bind(stored.is_default)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    bump_version(db).await?;
    stored.is_default = mapping.is_default;
    Ok(stored)
}

/// Removes a server name's mapping: clients using that name are refused from then on.
pub async fn unmap(db: &SqlitePool, name: &str) -> AppResult<String> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let removed = sqlx::query("DELETE FROM quic_mappings WHERE name = ?").bind(&name).execute(db).await?;
    if removed.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("No mapping for {name}.")));
    }
    bump_version(db).await?;
    Ok(name)
}

/// The port SMB over QUIC listens on unless configured.
pub const DEFAULT_QUIC_PORT: u16 = 443;

/// SMB over QUIC as the engine needs it: listener settings and the mappings with their chains
/// and keys.
/// A mapping with its certificate, as the engine needs it.
#[derive(sqlx::FromRow)]
struct MappedRow {
    name: String,
    thumbprint: String,
    chain_pem: String,
    key_pem: String,
    allow_named_pipes: bool,
    is_default: bool,
    require_client_auth: bool,
    skip_client_access_check: bool,
}

pub async fn quic_settings(db: &SqlitePool) -> AppResult<QuicSettings> {
    let defaults = QuicSettings::default();
    let flag = |value: Option<String>| value.is_some_and(|v| v == "true");
    let number = |value: Option<String>, default: u64| value.and_then(|v| v.parse().ok()).unwrap_or(default);
    let port = number(setting(db, "quic_port").await?, u64::from(DEFAULT_QUIC_PORT)) as u16;
    let ip: IpAddr = setting(db, "quic_address").await?.and_then(|v| v.parse().ok()).unwrap_or(defaults.address.ip());
    let rows: Vec<MappedRow> = sqlx::query_as(
        "SELECT m.name, m.thumbprint, c.chain_pem, c.key_pem, m.allow_named_pipes, m.is_default, \
         m.require_client_auth, m.skip_client_access_check FROM quic_mappings m \
         JOIN certificates c ON c.thumbprint = m.thumbprint WHERE c.key_pem IS NOT NULL",
    )
    .fetch_all(db)
    .await?;
    let all_access = list_access(db).await?;
    let mut mappings = Vec::new();
    let mut default_mapping = None;
    for row in rows {
        let chain = parse_chain(&row.chain_pem)?.into_iter().map(|der| der.to_vec()).collect();
        if row.is_default {
            default_mapping = Some(row.name.clone());
        }
        let access =
            all_access.iter().filter(|a| a.name.eq_ignore_ascii_case(&row.name)).map(|a| a.entry.clone()).collect();
        mappings.push(CertificateMapping {
            name: row.name,
            thumbprint: row.thumbprint,
            chain,
            key: Zeroizing::new(row.key_pem.into_bytes()),
            allow_named_pipes: row.allow_named_pipes,
            require_client_auth: row.require_client_auth,
            skip_client_access_check: row.skip_client_access_check,
            access,
        });
    }
    let seconds = |key: &'static str, default: Duration| async move {
        AppResult::Ok(Duration::from_secs(number(setting(db, key).await?, default.as_secs())))
    };
    Ok(QuicSettings {
        enabled: flag(setting(db, "quic_enabled").await?),
        address: SocketAddr::new(ip, port),
        mappings,
        default_mapping,
        idle_timeout: seconds("quic_idle_timeout_seconds", defaults.idle_timeout).await?,
        keep_alive: seconds("quic_keep_alive_seconds", defaults.keep_alive).await?,
        client_cas: client_cas(db).await?,
    })
}

/// Every CA certificate of the store (DER): the anchors client certificate chains must reach.
async fn client_cas(db: &SqlitePool) -> AppResult<Vec<Vec<u8>>> {
    let chains: Vec<String> =
        sqlx::query_scalar("SELECT chain_pem FROM certificates WHERE is_ca = 1 AND not_after > ?")
            .bind(now())
            .fetch_all(db)
            .await?;
    let mut cas = Vec::new();
    for pem in chains {
        cas.push(parse_chain(&pem)?[0].to_vec());
    }
    Ok(cas)
}

/// One client access entry of a server name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessEntry {
    pub name: String,
    pub entry: ClientAccess,
}

pub async fn list_access(db: &SqlitePool) -> AppResult<Vec<AccessEntry>> {
    let rows: Vec<(String, String, String, bool)> =
        sqlx::query_as("SELECT name, kind, value, allow FROM quic_client_access ORDER BY name, allow, kind, value")
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(name, kind, value, allow)| {
            let matches = if kind == "sha256" { ClientMatch::Sha256(value) } else { ClientMatch::Issuer(value) };
            AccessEntry { name, entry: ClientAccess { matches, allow } }
        })
        .collect())
}

/// Checks what an administrator typed for an access entry: a SHA-256 (64 hex digits, spaces or
/// colons allowed) or an issuer distinguished name.
pub fn client_match(sha256: Option<&str>, issuer: Option<&str>) -> AppResult<ClientMatch> {
    match (sha256, issuer) {
        (Some(hash), None) => {
            let hex: String =
                hash.chars().filter(|c| !c.is_whitespace() && *c != ':').collect::<String>().to_ascii_uppercase();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(AppError::invalid("sha256", "A SHA-256 is 64 hexadecimal digits."));
            }
            Ok(ClientMatch::Sha256(hex))
        }
        (None, Some(issuer)) => {
            let issuer = issuer.trim();
            if issuer.is_empty() || !issuer.contains('=') {
                return Err(AppError::invalid(
                    "issuer",
                    "Give the issuer's distinguished name, e.g. CN=Example Issuing CA, O=Example.",
                ));
            }
            Ok(ClientMatch::Issuer(issuer.to_owned()))
        }
        _ => Err(AppError::invalid("sha256", "Give either a SHA-256 or an issuer, not both.")),
    }
}

/// Adds (`add`) or removes an allow (`allow`) or block entry for the mapped server `name`.
pub async fn change_access(
    db: &SqlitePool,
    name: &str,
    matches: &ClientMatch,
    allow: bool,
    add: bool,
) -> AppResult<String> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if !list_mappings(db).await?.iter().any(|m| m.name.eq_ignore_ascii_case(&name)) {
        return Err(AppError::NotFound(format!("No mapping for {name}: map it first (edgeshare quic map).")));
    }
    let (kind, value) = match matches {
        ClientMatch::Sha256(hash) => ("sha256", hash.as_str()),
        ClientMatch::Issuer(issuer) => ("issuer", issuer.as_str()),
    };
    if add {
        sqlx::query(
            "INSERT OR IGNORE INTO quic_client_access (name, kind, value, allow, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&name)
        .bind(kind)
        .bind(value)
        .bind(allow)
        .bind(now())
        .execute(db)
        .await?;
    } else {
        let removed =
            sqlx::query("DELETE FROM quic_client_access WHERE name = ? AND kind = ? AND value = ? AND allow = ?")
                .bind(&name)
                .bind(kind)
                .bind(value)
                .bind(allow)
                .execute(db)
                .await?;
        if removed.rows_affected() == 0 {
            let what = if allow { "allow" } else { "block" };
            return Err(AppError::NotFound(format!("{name} has no such {what} entry.")));
        }
    }
    bump_version(db).await?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate made by rcgen with `edit` applied to its parameters.
    fn made(edit: impl FnOnce(&mut CertificateParams)) -> CertInfo {
        let mut params = CertificateParams::new(vec!["fs.example.com".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "fs.example.com");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut params, 100);
        edit(&mut params);
        let key = KeyKind::EcdsaP256.generate().unwrap();
        inspect(params.self_signed(&key).unwrap().der()).unwrap()
    }

    fn status(checks: &[Check], name: &str) -> CheckStatus {
        checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no check {name}")).status
    }

    #[test]
    fn a_generated_server_certificate_passes_with_a_trust_warning_only() {
        let info = made(|_| {});
        let checks = checks(&info, true, None, now());
        let not_passed: Vec<_> = checks.iter().filter(|c| c.status != CheckStatus::Pass).map(|c| c.name).collect();
        assert_eq!(not_passed, ["Trust"]);
        assert_eq!(info.thumbprint.len(), 40);
        assert_eq!(info.sha256.len(), 64);
        assert_eq!(info.key, "ECDSA P-256");
    }

    #[test]
    fn a_certificate_without_server_authentication_fails() {
        let info = made(|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]);
        assert_eq!(status(&checks(&info, true, None, now()), "Enhanced key usage"), CheckStatus::Fail);
    }

    #[test]
    fn ip_address_names_get_a_warning_and_a_missing_key_fails() {
        let info = made(|p| p.subject_alt_names.push(rcgen::SanType::IpAddress("192.0.2.7".parse().unwrap())));
        let checks = checks(&info, false, None, now());
        assert_eq!(status(&checks, "IP address names"), CheckStatus::Warning);
        assert_eq!(status(&checks, "Private key"), CheckStatus::Fail);
    }

    #[test]
    fn expiry_within_thirty_days_warns_and_after_it_fails() {
        let info = made(|_| {});
        let soon = info.not_after - 10 * 86_400;
        assert_eq!(status(&checks(&info, true, None, soon), "Validity"), CheckStatus::Warning);
        assert_eq!(status(&checks(&info, true, None, info.not_after + 1), "Validity"), CheckStatus::Fail);
        assert_eq!(status(&checks(&info, true, None, info.not_before - 1), "Validity"), CheckStatus::Fail);
    }

    #[test]
    fn a_certificate_without_dns_names_fails() {
        let info = made(|p| p.subject_alt_names = vec![rcgen::SanType::IpAddress("192.0.2.7".parse().unwrap())]);
        assert_eq!(status(&checks(&info, true, None, now()), "Subject alternative names"), CheckStatus::Fail);
    }

    #[test]
    fn dns_names_follow_the_label_rules() {
        assert!(valid_dns_name("fs.example.com") && valid_dns_name("*.example.com") && valid_dns_name("localhost"));
        assert!(!valid_dns_name("fs..example.com") && !valid_dns_name("-fs.example.com") && !valid_dns_name("fs_1.x"));
        assert!(!valid_dns_name("") && !valid_dns_name(&"a".repeat(64)));
    }

    #[test]
    fn a_wildcard_covers_exactly_one_label() {
        assert!(name_matches("*.example.com", "fs.example.com"));
        assert!(!name_matches("*.example.com", "a.fs.example.com") && !name_matches("*.example.com", "example.com"));
        assert!(name_matches("FS.example.com", "fs.EXAMPLE.com"));
    }

    #[test]
    fn thumbprints_may_be_typed_with_spaces_colons_and_any_case() {
        let typed = "e5:a0 6b726b41f7cdd9ca0d4ab0aa692086882f1e";
        assert_eq!(normalize_thumbprint(typed).unwrap(), "E5A06B726B41F7CDD9CA0D4AB0AA692086882F1E");
        assert!(normalize_thumbprint("E5A0").is_err());
    }
}
