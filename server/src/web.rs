//! The console's HTTP routes: the Leptos app and its server functions, static files, `/healthz`,
//! `/metrics`, `/api/health`, and the layers every request passes (sessions, cross-site request
//! refusal, security headers).

use std::sync::Arc;

use app::backend::{AppState, ServerInfo};
use app::{App, shell};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::SqlitePool;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

/// Everything the router needs, gathered by `serve` (or by a test).
pub struct WebConfig {
    pub leptos_options: LeptosOptions,
    pub db: SqlitePool,
    pub sessions: SqliteStore,
    pub info: ServerInfo,
    /// Whether the console is served over TLS: cookies are then `Secure` and `__Host-` prefixed.
    pub tls: bool,
    pub session_idle_minutes: u32,
    pub engine: smb_core::EngineHandle,
}

pub fn router(config: WebConfig) -> Router {
    let state = AppState {
        leptos_options: config.leptos_options,
        db: config.db,
        info: Arc::new(config.info),
        engine: config.engine,
        history: Default::default(),
    };
    app::backend::history::spawn_sampler(&state.history, state.engine.clone());
    let session_layer = SessionManagerLayer::new(config.sessions)
        .with_name(if config.tls { "__Host-edgeshare_session" } else { "edgeshare_session" })
        .with_secure(config.tls)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(i64::from(config.session_idle_minutes))));
    let routes = generate_route_list(App);
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::handler))
        .route("/api/health", get(health_report))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(refuse_cross_site))
        .layer(session_layer)
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"),
        ));
    if config.tls {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    router.with_state(state)
}

/// Liveness and readiness for load balancers and monitoring: the process answers and its
/// database is usable. No authentication, and nothing secret in the answer.
async fn healthz(State(state): State<AppState>) -> Response {
    let database = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&state.db).await;
    let body = |status: &str, database: String| {
        serde_json::json!({
            "status": status,
            "version": state.info.version,
            "server_name": state.info.server_name,
            "uptime_seconds": (app::backend::now() - state.info.started_at).max(0),
            "database": database,
        })
    };
    match database {
        Ok(_) => (StatusCode::OK, Json(body("ok", "ok".into()))).into_response(),
        Err(error) => {
            tracing::error!(%error, "health check: database unusable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(body("unavailable", "unusable".into()))).into_response()
        }
    }
}

/// The health report of the certificate and SMB over QUIC configuration as JSON, for monitoring:
/// 200 while nothing is critical, 503 otherwise. No authentication; it names server names,
/// certificate thumbprints and ports, which clients see anyway, and nothing secret.
async fn health_report(State(state): State<AppState>) -> Response {
    match app::backend::health::collect(&state).await {
        Ok(report) => {
            let status = if report.status == app::api::health::Level::Critical {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            };
            (status, Json(report)).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "health report failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "error": error.to_string() }))).into_response()
        }
    }
}

/// Refuses state-changing requests that a browser sent from another site (CSRF): the Origin the
/// browser states must be this console's own. Requests without Origin or Sec-Fetch-Site do not
/// come from a browser's cross-site context and pass (the command line, monitoring).
async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    match cross_site_reason(&request) {
        Some(reason) => {
            tracing::warn!(path = %request.uri().path(), reason, "refused a cross-site request");
            (StatusCode::FORBIDDEN, format!("Cross-site request refused: {reason}.")).into_response()
        }
        None => next.run(request).await,
    }
}

fn cross_site_reason(request: &Request) -> Option<&'static str> {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().ok()?;
        let origin_host = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'));
        return match (origin_host, host) {
            (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host) => None,
            _ => Some("the Origin header names another site"),
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site" | "same-site") => Some("the browser marked it as coming from another site"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method(Method::POST).uri("/api/sign_in");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn same_origin_posts_pass() {
        assert_eq!(cross_site_reason(&post(&[("host", "127.0.0.1:8443"), ("origin", "https://127.0.0.1:8443")])), None);
    }

    #[test]
    fn posts_from_another_origin_are_refused() {
        assert!(cross_site_reason(&post(&[("host", "127.0.0.1:8443"), ("origin", "https://evil.example")])).is_some());
        assert!(cross_site_reason(&post(&[("host", "127.0.0.1:8443"), ("origin", "null")])).is_some());
    }

    #[test]
    fn posts_marked_cross_site_without_origin_are_refused() {
        assert!(cross_site_reason(&post(&[("host", "a"), ("sec-fetch-site", "cross-site")])).is_some());
        assert_eq!(cross_site_reason(&post(&[("host", "a")])), None);
    }
}
