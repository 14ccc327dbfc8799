//! OPLOCK_BREAK acknowledgments (MS-SMB2 3.3.5.22): a client gives up the caching a break asked
//! for; the opens waiting for that break go on.

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::FileKey;
use crate::engine::ids::Waiter;
use crate::engine::leases::{self, LeaseId};
use crate::engine::shared::{Control, lock};
use crate::proto::oplock_break::OplockBreakAcknowledgment;
use crate::proto::{NtStatus, Writer};

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    match OplockBreakAcknowledgment::decode(req.message)? {
        OplockBreakAcknowledgment::Oplock { oplock_level, file_id } => {
            // MS-SMB2 3.3.5.22.1.
            let session = conn.sessions.get(&req.session_id()).ok_or(NtStatus::USER_SESSION_DELETED)?;
            let open = session.opens.get(&file_id.volatile).filter(|o| o.file_id == file_id);
            let key = open.and_then(|o| o.key).ok_or(NtStatus::FILE_CLOSED)?;
            let owner = conn.open_ref(req.session_id(), file_id.volatile);
            let level = {
                let mut files = lock(&conn.shared.files);
                let shared = files.open_mut(&key, owner).ok_or(NtStatus::FILE_CLOSED)?;
                leases::acknowledge_oplock(shared, oplock_level)?
            };
            wake_waiters(conn, &key);
            crate::engine::persistent::journal_change(conn, req.session_id(), file_id.volatile);
            OplockBreakAcknowledgment::Oplock { oplock_level: level, file_id }.encode(out);
            Outcome::ok()
        }
        OplockBreakAcknowledgment::Lease { lease_key, lease_state, .. } => {
            // MS-SMB2 3.3.5.22.2.
            let client_guid = conn.negotiated.as_ref().map(|n| n.client_guid).unwrap_or_default();
            let id = LeaseId { client_guid, key: lease_key };
            let (file, state) = lock(&conn.shared.files).leases.acknowledge(&id, lease_state)?;
            wake_waiters(conn, &file);
            journal_holders(conn, &file);
            OplockBreakAcknowledgment::Lease { flags: 0, lease_key, lease_state: state, lease_duration: 0 }.encode(out);
            Outcome::ok()
        }
    }
}

/// A lease acknowledged on `file`: the persistent opens of this connection on it are journaled
/// with their new state (a restart then restores what the client keeps).
fn journal_holders(conn: &Connection, file: &FileKey) {
    let holders: Vec<_> = conn
        .sessions
        .iter()
        .flat_map(|(session_id, session)| {
            session
                .opens
                .iter()
                .filter(|(_, open)| open.key == Some(*file) && open.durable.is_some_and(|t| t.persistent))
                .map(|(volatile, _)| (*session_id, *volatile))
        })
        .collect();
    for (session_id, volatile) in holders {
        crate::engine::persistent::journal_change(conn, session_id, volatile);
    }
}

fn wake_waiters(conn: &Connection, key: &FileKey) {
    let waiters = lock(&conn.shared.files).take_break_waiters(key);
    for Waiter { connection, async_id } in waiters {
        conn.shared.control(connection, Control::Wake { async_id });
    }
}
