//! The certificate store: import (PEM, PFX, CA), generation (self-signed, or issued by a local CA),
//! listing, export of the public parts and removal. Private keys stay in the database.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sqlx::SqlitePool;
use zeroize::Zeroizing;

use super::*;
use crate::backend::now;
use crate::backend::smb::{bump_version, setting};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;

/// Lifetime of generated server certificates (the most public CAs may issue).
pub(super) const SERVER_LIFETIME_DAYS: i64 = 397;

/// Lifetime of a generated local CA.
pub(super) const CA_LIFETIME_DAYS: i64 = 3650;

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

pub(super) fn chain_to_pem(chain: &[CertificateDer<'_>]) -> String {
    chain.iter().map(|der| pem_block("CERTIFICATE", der)).collect()
}

pub(super) fn pem_block(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

/// Checks that `key_pem` is the private key of the leaf of `chain`.
pub(super) fn key_matches(chain: &[CertificateDer<'static>], key_pem: &str) -> AppResult<()> {
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| AppError::invalid("key", format!("The key file holds no readable private key: {e}.")))?;
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
        .map_err(|e| AppError::invalid("key", format!("The private key cannot be used: {e}.")))?;
    rustls::sign::CertifiedKey::new(chain.to_vec(), signing)
        .keys_match()
        .map_err(|_| AppError::invalid("key", "The private key does not belong to the certificate."))
}

pub(super) async fn insert(
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
pub(super) fn normalize_key(key_pem: &str) -> AppResult<String> {
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| AppError::invalid("key", format!("The key file holds no readable private key: {e}.")))?;
    let label = match &key {
        PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
        PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
        _ => "PRIVATE KEY",
    };
    Ok(pem_block(label, key.secret_der()))
}

pub(super) async fn finish_add(db: &SqlitePool, info: CertInfo) -> AppResult<Added> {
    let remapped = if auto_remap_enabled(db).await? { remap_to(db, &info.thumbprint).await? } else { Vec::new() };
    bump_version(db).await?;
    Ok(Added { info, remapped })
}

pub(super) async fn auto_remap_enabled(db: &SqlitePool) -> AppResult<bool> {
    Ok(setting(db, "quic_auto_remap").await?.is_none_or(|v| v == "true"))
}

/// Moves to the new certificate every mapping whose name it covers, when it is valid now,
/// passes the checks, and outlives the certificate the mapping uses.
pub(super) async fn remap_to(db: &SqlitePool, thumbprint: &str) -> AppResult<Vec<Remap>> {
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

pub(super) fn validity(params: &mut CertificateParams, days: i64) {
    let start = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    params.not_before = start;
    params.not_after = start + time::Duration::days(days);
}

pub(super) fn check_dns_names(names: &[String]) -> AppResult<Vec<String>> {
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
pub(super) async fn local_ca(db: &SqlitePool, name: &str) -> AppResult<(CertificateDer<'static>, Zeroizing<String>)> {
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

pub(super) type Row = (String, Option<String>, String, i64);

pub(super) fn stored(row: Row, authorities: &[CertInfo], mapped: Vec<String>) -> AppResult<StoredCert> {
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

pub(super) async fn local_authorities(db: &SqlitePool) -> AppResult<Vec<CertInfo>> {
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

pub(super) async fn require(db: &SqlitePool, thumbprint: &str) -> AppResult<StoredCert> {
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
