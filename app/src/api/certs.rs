//! The certificate store: list with every requirement check, import (PEM, PFX), generate or issue
//! from a local CA, export the public parts, delete. Private keys never leave the server.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::certs::split_names;
use crate::model::certs::{AddedCertificate, CertificateRow, ExportedCertificate};
#[cfg(feature = "ssr")]
use crate::service::{Control, certs};

/// What the console shows of a certificate just added.
#[cfg(feature = "ssr")]
fn summary(added: crate::backend::certs::Added) -> AddedCertificate {
    AddedCertificate {
        thumbprint: added.info.thumbprint.clone(),
        subject: added.info.subject.clone(),
        remapped: added.remapped.iter().map(|r| r.name.clone()).collect(),
    }
}

#[server(endpoint = "list_certificates")]
pub async fn list_certificates() -> Result<Vec<CertificateRow>, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        certs::list(&Control::console()?).await
    })
    .await
}

#[server(endpoint = "generate_certificate")]
pub async fn generate_certificate(dns: String, ca: String, key: String) -> Result<AddedCertificate, AppError> {
    super::as_admin(|control, actor| async move {
        let added = certs::generate(&control, &actor, &split_names(&dns), Some(&ca), &key).await?;
        Ok(summary(added))
    })
    .await
}

#[server(endpoint = "import_certificate_pem")]
pub async fn import_certificate_pem(certificate: String, key: String) -> Result<AddedCertificate, AppError> {
    super::as_admin(|control, actor| async move {
        Ok(summary(certs::import_pem(&control, &actor, &certificate, Some(&key)).await?))
    })
    .await
}

#[server(endpoint = "import_certificate_pfx")]
pub async fn import_certificate_pfx(pfx_base64: String, password: String) -> Result<AddedCertificate, AppError> {
    super::as_admin(|control, actor| async move {
        let pfx = certs::pfx_from_base64(&pfx_base64)?;
        Ok(summary(certs::import_pfx(&control, &actor, &pfx, &password).await?))
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
    super::as_admin(|control, actor| async move {
        certs::remove(&control, &actor, &thumbprint).await?;
        Ok(())
    })
    .await
}
