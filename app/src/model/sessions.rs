//! Connected SMB clients: their sessions and open files.

use serde::{Deserialize, Serialize};

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
    /// Connections the session runs over (multichannel): 1 for most.
    pub channels: u64,
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
    /// A durable open: it outlives a lost connection.
    pub durable: bool,
    /// A persistent open (continuously available share): it outlives a restart of the server.
    #[serde(default)]
    pub persistent: bool,
    /// For a durable open whose connection was lost: the seconds it still waits for its client.
    pub waiting_seconds: Option<u64>,
}

/// Everything the Sessions page shows, taken at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStatus {
    pub sessions: Vec<SessionRow>,
    pub files: Vec<OpenFileRow>,
}
