//! SMB over QUIC: on or off and where it listens, server name mappings (like
//! `New-SmbServerCertificateMapping`), client access control per name, and live status. Every
//! change reaches the running engine within a second, without a restart.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::quic::{AccessPreview, QuicStatus};
#[cfg(feature = "ssr")]
use crate::service::quic;

#[server(endpoint = "get_quic_status")]
pub async fn get_quic_status() -> Result<QuicStatus, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{session, state};
        let state = state()?;
        session::require_signed_in().await?;
        crate::backend::quic::status(&state).await
    })
    .await
}

/// Turns SMB over QUIC on (on `address`, `port`) or off.
#[server(endpoint = "set_quic")]
pub async fn set_quic(enabled: bool, address: String, port: String) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move {
        quic::set(&control, &actor, enabled, Some(&address), Some(&port)).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "set_quic_options")]
pub async fn set_quic_options(encrypt_smb: Option<String>, auto_remap: Option<String>) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move {
        quic::set_options(&control, &actor, encrypt_smb.is_some(), auto_remap.is_some()).await
    })
    .await
}

/// Maps `name` to a certificate, or changes its flags. Checkboxes arrive only when ticked.
#[server(endpoint = "map_name")]
pub async fn map_name(
    name: String,
    thumbprint: String,
    require_client_auth: Option<String>,
    skip_client_access_check: Option<String>,
    allow_named_pipes: Option<String>,
    is_default: Option<String>,
) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move {
        let mapping = crate::backend::certs::Mapping {
            name,
            thumbprint,
            require_client_auth: require_client_auth.is_some(),
            skip_client_access_check: skip_client_access_check.is_some(),
            allow_named_pipes: allow_named_pipes.is_some(),
            is_default: is_default.is_some(),
        };
        quic::map(&control, &actor, &mapping).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "unmap_name")]
pub async fn unmap_name(name: String) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move {
        quic::unmap(&control, &actor, &name).await?;
        Ok(())
    })
    .await
}

/// Adds (`add`) or removes an allow (`allow`) or block entry of `name`: by SHA-256 or by issuer.
#[server(endpoint = "change_client_access")]
pub async fn change_client_access(
    name: String,
    allow: bool,
    add: bool,
    sha256: String,
    issuer: String,
) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move {
        quic::change_access(&control, &actor, &name, allow, add, Some(&sha256), Some(&issuer)).await?;
        Ok(())
    })
    .await
}

/// Tells whether a client presenting `certificate` (PEM, leaf first, CA optional) would pass
/// `name`'s access lists, and which entry decides. Changes nothing.
#[server(endpoint = "preview_client_access")]
pub async fn preview_client_access(name: String, certificate: String) -> Result<AccessPreview, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{session, state};
        let state = state()?;
        session::require_signed_in().await?;
        crate::backend::quic::preview(&state, &name, &certificate).await
    })
    .await
}
