//! The certificate store: list with every requirement check, import (PEM, PFX), generate or issue
//! from a local CA, export the public parts, delete. Private keys never leave the server.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::health::Level;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;

/// One requirement check of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertCheck {
    pub name: String,
    pub level: Level,
    pub detail: String,
    pub fix: Option<String>,
}

/// A certificate of the store as the console shows it. No key material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRow {
    /// SHA-1, upper-case hex, as Windows shows it.
    pub thumbprint: String,
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_after: String,
    /// Whole days until it expires; negative once expired.
    pub days_left: i64,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    /// e.g. "ECDSA P-256".
    pub key: String,
    pub signature: String,
    pub is_ca: bool,
    pub self_signed: bool,
    pub has_key: bool,
    /// `imported`, `generated`, `issued`, ...
    pub origin: String,
    pub local_ca: Option<String>,
    pub mapped_names: Vec<String>,
    /// The worst check.
    pub health: Level,
    pub checks: Vec<CertCheck>,
}

/// What adding a certificate did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedCertificate {
    pub thumbprint: String,
    pub subject: String,
    /// Server names whose mapping moved to it (renewal).
    pub remapped: Vec<String>,
}

/// A certificate exported as text, for the browser to save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedCertificate {
    pub file_name: String,
    pub pem: String,
}

/// The names typed in one box: separated by commas, spaces or new lines.
pub fn split_names(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|n| !n.is_empty()).map(str::to_owned).collect()
}

/// The command line that does the same as the generate form.
pub fn generate_command(names: &[String], ca: Option<&str>, key: &str) -> String {
    let mut command = String::from("edgeshare cert generate");
    for name in names {
        command.push_str(&format!(" --dns {name}"));
    }
    if let Some(ca) = ca.filter(|c| !c.trim().is_empty()) {
        command.push_str(&format!(" --ca '{}'", ca.trim()));
    }
    if key != "ecdsa-p256" {
        command.push_str(&format!(" --key {key}"));
    }
    command
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_typed_in_one_box_split_on_commas_spaces_and_lines() {
        assert_eq!(
            split_names("fs.example.com, files.example.com\nx.example.com  "),
            ["fs.example.com", "files.example.com", "x.example.com"]
        );
        assert!(split_names(" ,\n").is_empty());
    }

    #[test]
    fn the_generate_command_names_every_choice_that_is_not_the_default() {
        let names = vec!["fs.example.com".to_owned()];
        assert_eq!(generate_command(&names, None, "ecdsa-p256"), "edgeshare cert generate --dns fs.example.com");
        assert_eq!(
            generate_command(&names, Some("Office CA"), "rsa-2048"),
            "edgeshare cert generate --dns fs.example.com --ca 'Office CA' --key rsa-2048"
        );
    }
}
