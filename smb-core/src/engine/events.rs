//! What the engine tells the rest of the program: events (for the audit log and the console)
//! and status snapshots (sessions, open files).

use std::net::SocketAddr;

use crate::proto::NtStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp,
    Quic,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP",
            Transport::Quic => "QUIC",
        }
    }
}

/// Something that happened, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Connected {
        connection: u64,
        client: SocketAddr,
        transport: Transport,
    },
    Disconnected {
        connection: u64,
        client: SocketAddr,
        transport: Transport,
    },
    LogonSucceeded {
        connection: u64,
        client: SocketAddr,
        user: String,
        dialect: String,
        signing: String,
        encryption: String,
    },
    /// A session gained a channel: another connection of its client bound to it (multichannel).
    ChannelBound {
        connection: u64,
        client: SocketAddr,
        user: String,
        session_id: u64,
    },
    LogonFailed {
        connection: u64,
        client: SocketAddr,
        user: Option<String>,
        reason: String,
        status: NtStatus,
    },
    /// `until` in Unix seconds.
    AccountLockedOut {
        user: String,
        until: i64,
        failures: u32,
    },
    TreeConnected {
        connection: u64,
        client: SocketAddr,
        user: String,
        share: String,
    },
    TreeConnectDenied {
        connection: u64,
        client: SocketAddr,
        user: String,
        share: String,
        reason: String,
    },
    /// A client reclaimed a durable open on a new connection after losing one.
    DurableReclaimed {
        user: String,
        share: String,
        path: String,
        client: SocketAddr,
    },
    /// A durable open waiting for its client was closed: its time ran out, a conflicting open
    /// needed the file, or an administrator closed it.
    DurableExpired {
        share: String,
        path: String,
        reason: String,
    },
    /// A QUIC connection completed its handshake with a mapped server name.
    QuicAccepted {
        client: SocketAddr,
        server_name: Option<String>,
        /// The certificate mapping that answered, by name.
        mapping: String,
        thumbprint: String,
        /// The client's certificate and the access entry that admitted it, when the mapping
        /// asks for one; empty otherwise.
        client_certificate: String,
    },
    /// A QUIC connection was refused: no mapping for its server name, a failed handshake, or
    /// no SMB stream.
    QuicRefused {
        client: SocketAddr,
        server_name: Option<String>,
        reason: String,
    },
    /// An administrator ended a session or closed a file from the console.
    ClosedByAdministrator {
        what: String,
    },
}

/// One session, as the console's Sessions page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionStatus {
    pub connection: u64,
    pub session_id: u64,
    pub user: String,
    pub client: SocketAddr,
    pub transport: Transport,
    pub dialect: String,
    /// The signing algorithm in use, or `None` when the session does not sign.
    pub signing: Option<String>,
    /// The cipher in use, or `None` when the session does not encrypt.
    pub encryption: Option<String>,
    pub shares: Vec<String>,
    pub opens: usize,
    /// The connections the session is bound to (multichannel); listed once, under the one
    /// its opens belong to.
    pub channels: usize,
    pub connected_seconds: u64,
    pub idle_seconds: u64,
}

/// One open file, as the console's Open files table shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFileStatus {
    pub connection: u64,
    pub session_id: u64,
    /// The volatile part of the file id: what closing the file names.
    pub file_id: u64,
    pub user: String,
    pub client: SocketAddr,
    pub share: String,
    /// Share-relative, `\`-separated.
    pub path: String,
    /// `read`, `write`, `delete` as granted.
    pub access: Vec<&'static str>,
    pub locks: usize,
    pub is_directory: bool,
    /// A durable open (it outlives a lost connection).
    pub durable: bool,
    /// A persistent open (a continuously available share): it outlives a restart of the server.
    pub persistent: bool,
    /// For a durable open whose connection was lost: the seconds it still waits for its client
    /// to reclaim it (the connection and session named above are gone).
    pub waiting_seconds: Option<u64>,
}

/// Running totals since start (for metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub connections_accepted: u64,
    pub logons: u64,
    pub logon_failures: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    /// QUIC connections refused: failed handshakes, unknown server names, client access denied.
    pub quic_refused: u64,
}
