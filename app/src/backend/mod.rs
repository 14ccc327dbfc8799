//! Server-side half of the console: state shared by the server functions, and the stores they use.
//! Compiled only with the `ssr` feature; nothing here reaches the browser.

pub mod accounts;
pub mod audit;
pub mod certs;
pub mod health;
pub mod history;
pub mod kdc_proxy;
pub mod kerberos;
pub mod passwords;
pub mod quic;
pub mod session;
pub mod sessions;
pub mod setup_token;
pub mod smb;
pub mod throttle;

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::SqlitePool;

use crate::error::{AppError, AppResult};
use crate::model::overview::ConsoleTls;

/// Facts about this running server, fixed at start.
#[derive(Clone, Debug)]
pub struct ServerInfo {
    pub server_name: String,
    pub version: String,
    /// Unix seconds.
    pub started_at: i64,
    pub console_url: String,
    pub console_tls: Option<ConsoleTls>,
    pub database_path: PathBuf,
}

/// What every request handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: SqlitePool,
    pub info: Arc<ServerInfo>,
    pub engine: smb_core::EngineHandle,
    /// The last hour of activity, for the dashboard's charts.
    pub history: Arc<history::History>,
    /// Required to create the first administrator from a browser; `None` when the console listens
    /// on a loopback address (only this machine can reach it) or an administrator existed at start.
    pub setup_token: Option<Arc<setup_token::SetupToken>>,
    /// Where the KDC proxy listens and what it did.
    pub kdc_proxy: Arc<kdc_proxy::KdcProxyState>,
}

impl AppState {
    /// Applies the stored configuration to the engine now: a console change is in force when its
    /// page says so, not a second later when the server's watcher would see it (a user trying a
    /// password just reset would otherwise fail against the old one, and could lock the account).
    pub async fn apply_configuration(&self) -> crate::error::AppResult<()> {
        let config = smb::engine_config(&self.db, &self.info.server_name).await?;
        self.engine.apply(config);
        Ok(())
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state provided to server functions by the router.
pub fn state() -> AppResult<AppState> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::Internal("server state missing from the request context".into()))
}

/// Unix seconds now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Unix seconds as RFC 3339 in UTC, as DTOs carry times.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// Runs a server function's work and gives a failure its HTTP status (401, 403, 409, 429 ...), so
/// that clients other than the console see what went wrong too.
pub async fn respond<T>(work: impl std::future::Future<Output = AppResult<T>>) -> AppResult<T> {
    let result = work.await;
    if let (Err(error), Some(response)) = (&result, leptos::prelude::use_context::<leptos_axum::ResponseOptions>()) {
        use http::{HeaderValue, StatusCode, header};
        let status = match error {
            AppError::Invalid { .. } | AppError::Transport(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Throttled { retry_after_seconds } | AppError::Busy { retry_after_seconds } => {
                response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        response.set_status(status);
    }
    result
}
