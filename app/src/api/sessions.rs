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

/// How long a durable open waits for its client after a lost connection when the client asks for
/// no particular time (the `durable_timeout_seconds` setting), in seconds.
#[server(endpoint = "get_durable_timeout")]
pub async fn get_durable_timeout() -> Result<String, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        let settings = crate::service::settings::list(&crate::service::Control::console()?).await?;
        Ok(settings
            .into_iter()
            .find(|(spec, _)| spec.key == "durable_timeout_seconds")
            .map(|(_, value)| value)
            .unwrap_or_default())
    })
    .await
}

/// Changes it (checked, audited with the old value, applied at once). Returns what changed.
#[server(endpoint = "set_durable_timeout")]
pub async fn set_durable_timeout(seconds: String) -> Result<Vec<(String, String)>, AppError> {
    super::as_admin(|control, actor| async move {
        use crate::service::settings::{Change, change};
        change(&control, &actor, &[Change { field: "seconds", key: "durable_timeout_seconds", value: &seconds }]).await
    })
    .await
}
