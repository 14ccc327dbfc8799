//! TREE_DISCONNECT (MS-SMB2 3.3.5.8): the tree connect ends with its opens.

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::proto::Writer;
use crate::proto::tree_disconnect::{TreeDisconnectRequest, TreeDisconnectResponse};

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    TreeDisconnectRequest::decode(req.message)?;
    let (session_id, tree_id) = (req.session_id(), req.tree_id());
    let opens: Vec<u64> = conn.sessions[&session_id]
        .opens
        .values()
        .filter(|o| o.tree_id == tree_id)
        .map(|o| o.file_id.volatile)
        .collect();
    for volatile in opens {
        crate::engine::handlers::close::close_open(conn, session_id, volatile);
    }
    if let Some(session) = conn.sessions.get_mut(&session_id) {
        session.trees.remove(&tree_id);
    }
    TreeDisconnectResponse::default().encode(out);
    Outcome::ok()
}
