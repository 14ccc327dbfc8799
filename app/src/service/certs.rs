//! The certificate store: generate, import and remove certificates. Adding a renewal moves the
//! SMB over QUIC mappings of the certificate it renews (when automatic remapping is on), and
//! each move is audited with the addition.

use crate::backend::certs::{self, Added, KeyKind, StoredCert};
use crate::backend::{health, now, rfc3339};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::model::certs::{CertCheck, CertificateRow};
use crate::model::health::Level;
use crate::service::{Actor, Control};

/// Every certificate of the store, with its checks as of now.
pub async fn list(control: &Control) -> AppResult<Vec<CertificateRow>> {
    let at = now();
    Ok(certs::list(&control.db).await?.into_iter().map(|cert| row(cert, at)).collect())
}

fn row(cert: StoredCert, at: i64) -> CertificateRow {
    let checks: Vec<CertCheck> = cert
        .checks(at)
        .into_iter()
        .map(|c| CertCheck {
            name: c.name.to_owned(),
            level: health::level_of(c.status),
            detail: c.detail,
            fix: c.fix.map(str::to_owned),
        })
        .collect();
    let info = cert.info;
    CertificateRow {
        health: checks.iter().map(|c| c.level).max().unwrap_or(Level::Good),
        checks,
        days_left: (info.not_after - at).div_euclid(86_400),
        thumbprint: info.thumbprint,
        sha256: info.sha256,
        subject: info.subject,
        issuer: info.issuer,
        serial: info.serial,
        not_before: rfc3339(info.not_before),
        not_after: rfc3339(info.not_after),
        dns_names: info.dns_names,
        ip_addresses: info.ip_addresses.iter().map(ToString::to_string).collect(),
        key: info.key,
        signature: info.signature,
        is_ca: info.is_ca,
        self_signed: info.self_signed,
        has_key: cert.has_key,
        origin: cert.origin,
        local_ca: cert.local_ca,
        mapped_names: cert.mapped_names,
    }
}

/// Audits an addition and the mappings that moved to it, and applies them to the engine.
async fn added(control: &Control, actor: &Actor, action: Action, added: Added) -> AppResult<Added> {
    added.audit(&control.db, actor.name(), &actor.source(), action).await;
    control.apply().await?;
    Ok(added)
}

/// Makes a key pair and a certificate for `names`: self-signed, or issued by the local CA named
/// `ca` (made on first use). `key` is `ecdsa-p256` or `rsa-2048`.
pub async fn generate(
    control: &Control,
    actor: &Actor,
    names: &[String],
    ca: Option<&str>,
    key: &str,
) -> AppResult<Added> {
    if names.is_empty() {
        return Err(AppError::invalid("dns", "Enter at least one DNS name clients will use."));
    }
    let key = KeyKind::parse(key)?;
    let ca = ca.map(str::trim).filter(|ca| !ca.is_empty());
    let result = certs::generate(&control.db, names, ca, key).await?;
    added(control, actor, Action::CertGenerate, result).await
}

/// Imports a PEM chain (leaf first) with its private key, or without one a CA certificate that
/// client certificates may chain to.
pub async fn import_pem(control: &Control, actor: &Actor, chain: &str, key: Option<&str>) -> AppResult<Added> {
    if chain.trim().is_empty() {
        return Err(AppError::invalid("certificate", "Paste the certificate (PEM), leaf first."));
    }
    let result = match key.filter(|key| !key.trim().is_empty()) {
        Some(key) => certs::import_pem(&control.db, chain, key).await?,
        None => certs::import_ca(&control.db, chain).await?,
    };
    added(control, actor, Action::CertImport, result).await
}

/// Imports a PFX (PKCS #12) file with its password.
pub async fn import_pfx(control: &Control, actor: &Actor, pfx: &[u8], password: &str) -> AppResult<Added> {
    if pfx.is_empty() {
        return Err(AppError::invalid("pfx", "Choose a PFX (.pfx or .p12) file."));
    }
    let result = certs::import_pfx(&control.db, pfx, password).await?;
    added(control, actor, Action::CertImport, result).await
}

/// A PFX file as the console's form sends it (base64).
pub fn pfx_from_base64(text: &str) -> AppResult<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| AppError::invalid("pfx", "Choose a PFX (.pfx or .p12) file."))
}

/// Removes a certificate no mapping uses; returns its thumbprint.
pub async fn remove(control: &Control, actor: &Actor, thumbprint: &str) -> AppResult<String> {
    let removed = certs::remove(&control.db, thumbprint).await?;
    control.apply().await?;
    control.audit(actor.did(Action::CertRemove, &removed)).await;
    Ok(removed)
}
