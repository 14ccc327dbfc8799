//! SMB over QUIC: on or off and where it listens, server name mappings (like
//! `New-SmbServerCertificateMapping`), client access control per name, and live status. Every
//! change reaches the running engine within a second, without a restart.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;
use crate::model::quic::{AccessPreview, QuicStatus};

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
    crate::backend::respond(async move {
        use crate::backend::{audit, session, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let target = crate::backend::quic::set(&state, enabled, &address, &port).await?;
        let action = if enabled { Action::QuicEnable } else { Action::QuicDisable };
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, action, &target).source(&session::client_address().await),
        )
        .await;
        Ok(())
    })
    .await
}

#[server(endpoint = "set_quic_options")]
pub async fn set_quic_options(encrypt_smb: Option<String>, auto_remap: Option<String>) -> Result<(), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let (encrypt, remap) = (encrypt_smb.is_some(), auto_remap.is_some());
        smb::change_setting(&state.db, "quic_encrypt_smb", &encrypt.to_string()).await?;
        smb::change_setting(&state.db, "quic_auto_remap", &remap.to_string()).await?;
        let detail = format!("encrypt SMB over QUIC {encrypt}, move mappings to renewals {remap}");
        let entry = audit::Entry::success(&actor.name, Action::SettingsChange, "SMB over QUIC options").detail(detail);
        audit::record(&state.db, entry.source(&session::client_address().await)).await;
        Ok(())
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
    crate::backend::respond(async move {
        use crate::backend::certs::{self, Mapping};
        use crate::backend::{audit, session, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let mapping = Mapping {
            name,
            thumbprint,
            require_client_auth: require_client_auth.is_some(),
            skip_client_access_check: skip_client_access_check.is_some(),
            allow_named_pipes: allow_named_pipes.is_some(),
            is_default: is_default.is_some(),
        };
        let stored = certs::map(&state.db, &mapping).await?;
        let detail = format!(
            "{}{}{}{}",
            stored.thumbprint,
            if stored.require_client_auth { ", client authentication required" } else { "" },
            if stored.allow_named_pipes { ", named pipes allowed" } else { "" },
            if stored.is_default { ", default for clients without a server name" } else { "" }
        );
        let entry = audit::Entry::success(&actor.name, Action::QuicMappingSet, &stored.name).detail(detail);
        audit::record(&state.db, entry.source(&session::client_address().await)).await;
        Ok(())
    })
    .await
}

#[server(endpoint = "unmap_name")]
pub async fn unmap_name(name: String) -> Result<(), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, certs, session, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let name = certs::unmap(&state.db, &name).await?;
        let entry = audit::Entry::success(&actor.name, Action::QuicMappingRemove, &name);
        audit::record(&state.db, entry.source(&session::client_address().await)).await;
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
    crate::backend::respond(async move {
        use crate::backend::{audit, certs, session, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let some = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let matches = certs::client_match(some(&sha256).as_deref(), some(&issuer).as_deref())?;
        let name = certs::change_access(&state.db, &name, &matches, allow, add).await?;
        let action = Action::quic_access(allow, add);
        let detail = match &matches {
            smb_core::ClientMatch::Sha256(hex) => format!("SHA-256 {hex}"),
            smb_core::ClientMatch::Issuer(dn) => format!("issuer {dn}"),
        };
        let entry = audit::Entry::success(&actor.name, action, &name).detail(detail);
        audit::record(&state.db, entry.source(&session::client_address().await)).await;
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
