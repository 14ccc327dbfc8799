//! The dashboard: this server at a glance.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;
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

#[server(endpoint = "activity")]
pub async fn get_activity() -> Result<Vec<ActivityPoint>, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{session, state};
        let state = state()?;
        session::require_signed_in().await?;
        Ok(state.history.points())
    })
    .await
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

#[server(endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{accounts, audit, session, state};
        session::require_signed_in().await?;
        let state = state()?;
        let info = &state.info;
        let now = crate::backend::now();
        let (admins, readers) = accounts::count_by_role(&state.db).await?;
        let database_bytes = database_bytes(&info.database_path);
        Ok(Overview {
            server_name: info.server_name.clone(),
            version: info.version.clone(),
            started_at: crate::backend::rfc3339(info.started_at),
            uptime_seconds: (now - info.started_at).max(0) as u64,
            console_url: info.console_url.clone(),
            console_tls_days_left: info.console_tls.as_ref().map(|tls| (tls.not_after_unix - now).div_euclid(86_400)),
            console_tls: info.console_tls.clone(),
            database_path: info.database_path.display().to_string(),
            database_bytes,
            admins,
            readers,
            failed_sign_ins_24h: audit::count_failures_since(&state.db, Action::ConsoleSignIn, now - 86_400).await?,
            recent_events: audit::recent(&state.db, 8).await?,
        })
    })
    .await
}

/// The database file with its write-ahead log: what the data directory holds for it.
#[cfg(feature = "ssr")]
fn database_bytes(path: &std::path::Path) -> u64 {
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(std::path::Path::new(&wal))
}
