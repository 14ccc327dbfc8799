//! The dashboard's data: the console's own TLS, activity over time and the overview counts.

use serde::{Deserialize, Serialize};

use crate::model::audit::AuditEvent;

/// The certificate the console itself is served with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleTls {
    pub subject: String,
    pub names: Vec<String>,
    pub self_signed: bool,
    /// RFC 3339, UTC.
    pub not_after: String,
    pub not_after_unix: i64,
    /// Path of the certificate file, so an administrator knows what to replace.
    pub path: String,
}

/// How often the dashboard fetches the activity again (the server samples every 15 s).
pub const ACTIVITY_REFRESH: std::time::Duration = std::time::Duration::from_secs(15);

/// One interval of the last hour's activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPoint {
    /// Unix seconds at the end of the interval.
    pub at: i64,
    pub read_per_second: u64,
    pub written_per_second: u64,
    pub sessions: u64,
    pub connections: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub server_name: String,
    pub version: String,
    pub started_at: String,
    pub uptime_seconds: u64,
    pub console_url: String,
    pub console_tls: Option<ConsoleTls>,
    /// Days until the console certificate expires (negative once expired).
    pub console_tls_days_left: Option<i64>,
    pub database_path: String,
    pub database_bytes: u64,
    pub admins: u64,
    pub readers: u64,
    pub failed_sign_ins_24h: u64,
    pub recent_events: Vec<AuditEvent>,
}
