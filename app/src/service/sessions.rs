//! Closing an SMB session or an open file of the running engine (like `Close-SmbSession` and
//! `Close-SmbOpenFile`).

use crate::backend::sessions;
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::service::{Actor, Control};

fn engine(control: &Control) -> AppResult<&smb_core::EngineHandle> {
    control.engine().ok_or_else(|| AppError::Conflict("Sessions and open files live in the running server.".into()))
}

/// Ends a session (its opens close); the client sees it as logged off.
pub async fn close_session(control: &Control, actor: &Actor, connection: u64, session_id: u64) -> AppResult<()> {
    let closed = sessions::close_session(engine(control)?, connection, session_id)?;
    let detail = format!("{} session from {} ({})", closed.transport, closed.client, closed.dialect);
    control.audit(actor.did(Action::SessionClose, &closed.user).detail(detail)).await;
    Ok(())
}

/// Closes an open file, as if its client had closed it.
pub async fn close_file(control: &Control, actor: &Actor, connection: u64, file_id: u64) -> AppResult<()> {
    let closed = sessions::close_file(engine(control)?, connection, file_id)?;
    let target = format!("\\\\{}\\{}", closed.share, closed.path);
    let detail = format!("opened by {} from {}", closed.user, closed.client);
    control.audit(actor.did(Action::FileClose, &target).detail(detail)).await;
    Ok(())
}
