//! Live SMB sessions and open files, as the running engine sees them, and closing them (like
//! `Get-SmbSession` / `Close-SmbSession` and `Get-SmbOpenFile` / `Close-SmbOpenFile`).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::sessions::LiveStatus;
#[cfg(feature = "ssr")]
use crate::service::sessions;

#[server(endpoint = "get_live_status")]
pub async fn get_live_status() -> Result<LiveStatus, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        Ok(crate::backend::sessions::live(&crate::backend::state()?.engine))
    })
    .await
}

#[server(endpoint = "close_session")]
pub async fn close_session(connection: u64, session_id: u64) -> Result<(), AppError> {
    super::as_admin(
        |control, actor| async move { sessions::close_session(&control, &actor, connection, session_id).await },
    )
    .await
}

#[server(endpoint = "close_file")]
pub async fn close_file(connection: u64, file_id: u64) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move { sessions::close_file(&control, &actor, connection, file_id).await })
        .await
}
