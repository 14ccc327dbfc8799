//! Live SMB sessions and open files, as the running engine sees them, and closing them (like
//! `Get-SmbSession` / `Close-SmbSession` and `Get-SmbOpenFile` / `Close-SmbOpenFile`).

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;
use crate::model::sessions::LiveStatus;

#[server(endpoint = "get_live_status")]
pub async fn get_live_status() -> Result<LiveStatus, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{session, state};
        // The state first: during server rendering, a page drawn twice may drop its first
        // drawing's context while this waits for the session check.
        let state = state()?;
        session::require_signed_in().await?;
        Ok(crate::backend::sessions::live(&state.engine))
    })
    .await
}

#[server(endpoint = "close_session")]
pub async fn close_session(connection: u64, session_id: u64) -> Result<(), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, state};
        let actor = session::require_admin().await?;
        let state = state()?;
        let closed = crate::backend::sessions::close_session(&state.engine, connection, session_id)?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::SessionClose, &closed.user)
                .detail(format!("{} session from {} ({})", closed.transport, closed.client, closed.dialect))
                .source(&session::client_address().await),
        )
        .await;
        Ok(())
    })
    .await
}

#[server(endpoint = "close_file")]
pub async fn close_file(connection: u64, file_id: u64) -> Result<(), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, state};
        let actor = session::require_admin().await?;
        let state = state()?;
        let closed = crate::backend::sessions::close_file(&state.engine, connection, file_id)?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::FileClose, &format!("\\\\{}\\{}", closed.share, closed.path))
                .detail(format!("opened by {} from {}", closed.user, closed.client))
                .source(&session::client_address().await),
        )
        .await;
        Ok(())
    })
    .await
}
