//! LOGOFF (MS-SMB2 3.3.5.6): the session ends, with its tree connects and opens.

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::ids::SessionId;
use crate::proto::Writer;
use crate::proto::logoff::{LogoffRequest, LogoffResponse};

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    LogoffRequest::decode(req.message)?;
    LogoffResponse::default().encode(out);
    // The session ends once its response is signed and sent (MS-SMB2 3.3.5.6).
    conn.ending_sessions.push(req.session_id());
    Outcome::ok()
}

/// Closes everything of a session and forgets it (logoff, a failed setup, a lost connection).
pub(crate) fn end_session(conn: &mut Connection, session_id: SessionId) {
    let Some(session) = conn.sessions.get(&session_id) else { return };
    let opens: Vec<u64> = session.opens.keys().copied().collect();
    for volatile in opens {
        crate::engine::handlers::close::close_open(conn, session_id, volatile);
    }
    let waiting: Vec<_> = conn.pending.values().filter(|p| p.session_id == session_id).map(|p| p.async_id).collect();
    for async_id in waiting {
        conn.pending.remove(&async_id);
    }
    conn.sessions.remove(&session_id);
}
