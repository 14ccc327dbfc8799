//! The dashboard: this server at a glance.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;
use crate::model::overview::{ActivityPoint, Overview};

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
