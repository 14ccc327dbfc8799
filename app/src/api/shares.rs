//! Shares: list, create, change and remove them (like `Get-SmbShare`, `New-SmbShare`,
//! `Set-SmbShare`, `Grant-SmbShareAccess` and `Remove-SmbShare`). Each is one call into
//! [`crate::service::shares`], which the `edgeshare share` command line calls too.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::shares::{ShareForm, ShareSummary};

#[server(endpoint = "list_shares")]
pub async fn list_shares() -> Result<Vec<ShareSummary>, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        crate::service::shares::list(&crate::backend::state()?.db).await
    })
    .await
}

/// Creates a share; returns its name as stored.
#[server(endpoint = "create_share")]
pub async fn create_share(share: ShareForm) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move { crate::service::shares::create(&control, &actor, &share).await })
        .await
}

/// Changes the share named `original` in one step; returns its name as stored now.
#[server(endpoint = "update_share")]
pub async fn update_share(original: String, share: ShareForm) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move {
        crate::service::shares::update(&control, &actor, &original, &share).await
    })
    .await
}

/// Stops sharing a directory (its files stay); returns the name as it was stored.
#[server(endpoint = "remove_share")]
pub async fn remove_share(name: String) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move { crate::service::shares::remove(&control, &actor, &name).await }).await
}
