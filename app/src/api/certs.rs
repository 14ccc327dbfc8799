//! The certificate store: list with every requirement check, import (PEM, PFX), generate or issue
//! from a local CA, export the public parts, delete. Private keys never leave the server.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;
use crate::model::certs::{AddedCertificate, CertificateRow, ExportedCertificate};
#[cfg(feature = "ssr")]
use crate::model::certs::{CertCheck, split_names};
#[cfg(feature = "ssr")]
use crate::model::health::Level;

#[cfg(feature = "ssr")]
fn row(cert: crate::backend::certs::StoredCert, at: i64) -> CertificateRow {
    use crate::backend::rfc3339;
    let checks: Vec<CertCheck> = cert
        .checks(at)
        .into_iter()
        .map(|c| CertCheck {
            name: c.name.to_owned(),
            level: crate::backend::health::level_of(c.status),
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

#[cfg(feature = "ssr")]
async fn added(
    result: crate::error::AppResult<crate::backend::certs::Added>,
    action: Action,
) -> crate::error::AppResult<AddedCertificate> {
    use crate::backend::{session, state};
    let actor = session::require_admin().await?;
    let added = result?;
    added.audit(&state()?.db, &actor.name, &session::client_address().await, action).await;
    Ok(AddedCertificate {
        thumbprint: added.info.thumbprint.clone(),
        subject: added.info.subject.clone(),
        remapped: added.remapped.iter().map(|r| r.name.clone()).collect(),
    })
}

#[server(endpoint = "list_certificates")]
pub async fn list_certificates() -> Result<Vec<CertificateRow>, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{certs, now, session, state};
        let state = state()?;
        session::require_signed_in().await?;
        let at = now();
        Ok(certs::list(&state.db).await?.into_iter().map(|c| row(c, at)).collect())
    })
    .await
}

#[server(endpoint = "generate_certificate")]
pub async fn generate_certificate(dns: String, ca: String, key: String) -> Result<AddedCertificate, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{certs, session, state};
        let state = state()?;
        session::require_admin().await?;
        let names = split_names(&dns);
        if names.is_empty() {
            return Err(AppError::invalid("dns", "Enter at least one DNS name clients will use."));
        }
        let key = certs::KeyKind::parse(&key)?;
        let ca = Some(ca.trim()).filter(|c| !c.is_empty());
        let action = Action::CertGenerate;
        added(certs::generate(&state.db, &names, ca, key).await, action).await
    })
    .await
}

#[server(endpoint = "import_certificate_pem")]
pub async fn import_certificate_pem(certificate: String, key: String) -> Result<AddedCertificate, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{certs, session, state};
        let state = state()?;
        session::require_admin().await?;
        if certificate.trim().is_empty() {
            return Err(AppError::invalid("certificate", "Paste the certificate (PEM), leaf first."));
        }
        let result = if key.trim().is_empty() {
            certs::import_ca(&state.db, &certificate).await
        } else {
            certs::import_pem(&state.db, &certificate, &key).await
        };
        added(result, Action::CertImport).await
    })
    .await
}

#[server(endpoint = "import_certificate_pfx")]
pub async fn import_certificate_pfx(pfx_base64: String, password: String) -> Result<AddedCertificate, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{certs, session, state};
        use base64::Engine;
        let state = state()?;
        session::require_admin().await?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(pfx_base64.trim())
            .map_err(|_| AppError::invalid("pfx", "Choose a PFX (.pfx or .p12) file."))?;
        if data.is_empty() {
            return Err(AppError::invalid("pfx", "Choose a PFX (.pfx or .p12) file."));
        }
        added(certs::import_pfx(&state.db, &data, &password).await, Action::CertImport).await
    })
    .await
}

#[server(endpoint = "export_certificate")]
pub async fn export_certificate(thumbprint: String, ca: bool) -> Result<ExportedCertificate, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{certs, session, state};
        let state = state()?;
        session::require_signed_in().await?;
        let thumbprint = certs::normalize_thumbprint(&thumbprint)?;
        let bytes = certs::export(&state.db, &thumbprint, ca, false).await?;
        let pem = String::from_utf8(bytes).map_err(|_| AppError::Internal("the export is not PEM text".into()))?;
        let file_name = if ca { format!("{thumbprint}-ca.pem") } else { format!("{thumbprint}.pem") };
        Ok(ExportedCertificate { file_name, pem })
    })
    .await
}

#[server(endpoint = "remove_certificate")]
pub async fn remove_certificate(thumbprint: String) -> Result<(), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, certs, session, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let removed = certs::remove(&state.db, &thumbprint).await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::CertRemove, &removed).source(&session::client_address().await),
        )
        .await;
        Ok(())
    })
    .await
}
