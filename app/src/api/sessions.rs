//! Live SMB sessions and open files, as the running engine sees them, and closing them (like
//! `Get-SmbSession` / `Close-SmbSession` and `Get-SmbOpenFile` / `Close-SmbOpenFile`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;

/// One signed-in SMB session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// The engine's connection number: with `session_id`, what closing the session names.
    pub connection: u64,
    pub session_id: u64,
    pub user: String,
    /// `address:port` of the client.
    pub client: String,
    /// `QUIC` or `TCP`.
    pub transport: String,
    pub dialect: String,
    /// Signing algorithm, `None` when the session does not sign.
    pub signing: Option<String>,
    /// Cipher, `None` when the session does not encrypt.
    pub encryption: Option<String>,
    pub shares: Vec<String>,
    pub opens: u64,
    pub connected_seconds: u64,
    pub idle_seconds: u64,
}

/// One open file or directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenFileRow {
    pub connection: u64,
    pub session_id: u64,
    /// What closing the file names.
    pub file_id: u64,
    pub user: String,
    pub client: String,
    pub share: String,
    /// Share-relative, `\`-separated.
    pub path: String,
    /// `read`, `write`, `delete` as granted.
    pub access: Vec<String>,
    pub locks: u64,
    pub is_directory: bool,
}

/// Everything the Sessions page shows, taken at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStatus {
    pub sessions: Vec<SessionRow>,
    pub files: Vec<OpenFileRow>,
}

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
