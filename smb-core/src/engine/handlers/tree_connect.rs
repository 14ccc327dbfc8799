//! TREE_CONNECT (MS-SMB2 3.3.5.7): a share by name, the user's share permission, the share's
//! encryption and user limit; IPC$ for named pipes.

use crate::engine::config::{Access, fold_name, same_name};
use crate::engine::connection::Connection;
use crate::engine::dispatch::{Done, Error, Outcome, Request};
use crate::engine::events::{Event, Transport};
use crate::engine::ids::TreeId;
use crate::engine::session::{Tree, TreeKind};
use crate::engine::shared::lock;
use crate::proto::tree_connect::{
    TreeConnectRequest, TreeConnectResponse, share_capabilities, share_flags, share_type,
};
use crate::proto::{NtStatus, Writer};

/// What IPC$ allows: reading and writing pipes.
const IPC_ACCESS: u32 = 0x001F_00A9 | 0x0000_0116;

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = TreeConnectRequest::decode(req.message)?;
    let share_name = request.share_name().to_owned();
    let session_id = req.session_id();
    let user = conn.sessions[&session_id].user().to_owned();
    let deny = |conn: &Connection, reason: &str, status: NtStatus| -> Result<Outcome, Error> {
        conn.shared.emit(Event::TreeConnectDenied {
            connection: conn.info.id.0,
            client: conn.info.client,
            user: user.clone(),
            share: share_name.clone(),
            reason: reason.to_owned(),
        });
        Err(status.into())
    };
    if share_name.is_empty() || share_name.len() > 80 {
        return deny(conn, "malformed share path", NtStatus::BAD_NETWORK_NAME);
    }
    let (kind, maximal_access, encrypt_data, flags) = if share_name.eq_ignore_ascii_case("IPC$") {
        if conn.info.transport == Transport::Quic && !conn.info.allow_named_pipes {
            return deny(conn, "named pipes are not allowed over QUIC for this server name", NtStatus::ACCESS_DENIED);
        }
        (TreeKind::Ipc, IPC_ACCESS, false, 0)
    } else {
        let runtime = conn.shared.runtime();
        let Some(share) = runtime.share(&share_name).cloned() else {
            return deny(conn, "no such share", NtStatus::BAD_NETWORK_NAME);
        };
        if let Err(problem) = &share.root {
            tracing::warn!(share = %share.config.name, %problem, "share unavailable");
            return deny(conn, "the share's directory is unavailable", NtStatus::BAD_NETWORK_NAME);
        }
        let access = match conn.sessions[&session_id].identity() {
            Some(identity) => runtime.access(&share.config, identity),
            None => Access::Deny,
        };
        if access == Access::Deny {
            return deny(conn, "no share permission", NtStatus::ACCESS_DENIED);
        }
        let encrypt = share.config.encrypt_data || runtime.config.server.encryption_required;
        let session = &conn.sessions[&session_id];
        let can_encrypt = session.crypto().is_some_and(|c| c.encryptor.is_some());
        if share.config.encrypt_data && !can_encrypt && !conn.transport_protects() {
            return deny(conn, "the share requires encryption and the client cannot encrypt", NtStatus::ACCESS_DENIED);
        }
        if let Some(limit) = share.config.max_users {
            let users = connected_users(conn, &share.config.name);
            if users >= limit as usize {
                return deny(conn, "the share's user limit is reached", NtStatus::REQUEST_NOT_ACCEPTED);
            }
        }
        let mut flags = share_flags::MANUAL_CACHING;
        if encrypt && !conn.transport_protects() {
            flags |= share_flags::ENCRYPT_DATA;
        }
        if share.config.access_based_enumeration {
            flags |= share_flags::ACCESS_BASED_DIRECTORY_ENUM;
        }
        let encrypt_tree = share.config.encrypt_data && can_encrypt && !conn.transport_protects();
        (TreeKind::Disk(share), access.mask(), encrypt_tree, flags)
    };
    let session = conn.sessions.get_mut(&session_id).expect("checked by the table");
    let tree_id = session.next_tree_id;
    session.next_tree_id = TreeId(tree_id.0.wrapping_add(1).max(1));
    let share_type = if matches!(kind, TreeKind::Ipc) { share_type::PIPE } else { share_type::DISK };
    // A continuously available share says so to SMB 3 clients (MS-SMB2 3.3.5.7), which then ask
    // for persistent handles.
    let capabilities = match &kind {
        TreeKind::Disk(share)
            if share.config.continuous_availability
                && conn.negotiated.as_ref().is_some_and(|n| n.dialect.is_smb3()) =>
        {
            share_capabilities::CONTINUOUS_AVAILABILITY
        }
        _ => 0,
    };
    session.trees.insert(tree_id, Tree { share_name: share_name.clone(), kind, encrypt_data });
    TreeConnectResponse { share_type, reserved: 0, share_flags: flags, capabilities, maximal_access }.encode(out);
    conn.shared.emit(Event::TreeConnected {
        connection: conn.info.id.0,
        client: conn.info.client,
        user,
        share: share_name,
    });
    Ok(Outcome::Done(Done { tree_id: Some(tree_id), ..Done::default() }))
}

/// Distinct users connected to a share now, across all connections.
fn connected_users(conn: &Connection, share: &str) -> usize {
    let mut users: Vec<String> = lock(&conn.shared.connections)
        .values()
        .flat_map(|c| {
            c.sessions.iter().filter(|s| s.shares.iter().any(|n| same_name(n, share))).map(|s| fold_name(&s.user))
        })
        .collect();
    users.sort();
    users.dedup();
    users.len()
}
