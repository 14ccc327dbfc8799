//! The engine's live sessions and open files as the console's DTOs, and closing them.

use smb_core::{EngineHandle, OpenFileStatus, SessionStatus};

use crate::error::{AppError, AppResult};
use crate::model::sessions::{LiveStatus, OpenFileRow, SessionRow};

fn session_row(s: SessionStatus) -> SessionRow {
    SessionRow {
        connection: s.connection,
        session_id: s.session_id,
        user: s.user,
        client: s.client.to_string(),
        transport: s.transport.as_str().to_owned(),
        dialect: s.dialect,
        signing: s.signing,
        encryption: s.encryption,
        shares: s.shares,
        opens: s.opens as u64,
        channels: s.channels as u64,
        connected_seconds: s.connected_seconds,
        idle_seconds: s.idle_seconds,
    }
}

fn file_row(f: OpenFileStatus) -> OpenFileRow {
    OpenFileRow {
        connection: f.connection,
        session_id: f.session_id,
        file_id: f.file_id,
        user: f.user,
        client: f.client.to_string(),
        share: f.share,
        path: f.path,
        access: f.access.into_iter().map(str::to_owned).collect(),
        locks: f.locks as u64,
        is_directory: f.is_directory,
        durable: f.durable,
        persistent: f.persistent,
        waiting_seconds: f.waiting_seconds,
    }
}

pub fn live(engine: &EngineHandle) -> LiveStatus {
    LiveStatus {
        sessions: engine.sessions().into_iter().map(session_row).collect(),
        files: engine.open_files().into_iter().map(file_row).collect(),
    }
}

/// Ends a session; returns it as it was, or NotFound when it has already ended.
pub fn close_session(engine: &EngineHandle, connection: u64, session_id: u64) -> AppResult<SessionRow> {
    let gone = || AppError::NotFound("That session has already ended.".into());
    let session = engine
        .sessions()
        .into_iter()
        .find(|s| s.connection == connection && s.session_id == session_id)
        .ok_or_else(gone)?;
    if !engine.close_session(connection, session_id) {
        return Err(gone());
    }
    Ok(session_row(session))
}

/// Closes an open file; returns it as it was, or NotFound when it is no longer open.
pub fn close_file(engine: &EngineHandle, connection: u64, file_id: u64) -> AppResult<OpenFileRow> {
    let gone = || AppError::NotFound("That file is no longer open.".into());
    let file = engine
        .open_files()
        .into_iter()
        .find(|f| f.connection == connection && f.file_id == file_id)
        .ok_or_else(gone)?;
    if !engine.close_file(connection, file_id) {
        return Err(gone());
    }
    Ok(file_row(file))
}
