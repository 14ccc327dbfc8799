//! The console's HTTP routes: the Leptos app and its server functions, static files, `/healthz`,
//! `/metrics`, `/api/health`, and the layers every request passes (the console's own host names,
//! sessions, cross-site request refusal, security headers).

use std::sync::Arc;

use app::app::RequestConsoleState;
use app::backend::setup_token::SetupToken;
use app::backend::{AppState, ServerInfo};
use app::{App, shell};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::uri::{Authority, Scheme};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos::config::LeptosOptions;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::SqlitePool;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::db::ConsoleSessions;
use crate::hosts::AllowedHosts;

/// Everything the router needs, gathered by `serve` (or by a test).
pub struct WebConfig {
    pub leptos_options: LeptosOptions,
    pub db: SqlitePool,
    pub sessions: ConsoleSessions,
    pub info: ServerInfo,
    /// Whether the console is served over TLS: cookies are then `Secure` and `__Host-` prefixed.
    pub tls: bool,
    pub session_idle_minutes: u32,
    pub engine: smb_core::EngineHandle,
    /// The host names requests may state; others are refused (DNS rebinding).
    pub allowed_hosts: AllowedHosts,
    /// Required to create the first administrator, when the console is reachable beyond loopback.
    pub setup_token: Option<SetupToken>,
    /// The KDC proxy's state, for the console and `/metrics`.
    pub kdc_proxy: Arc<app::backend::kdc_proxy::KdcProxyState>,
}

pub fn router(config: WebConfig) -> Router {
    let state = AppState {
        leptos_options: config.leptos_options,
        db: config.db,
        info: Arc::new(config.info),
        engine: config.engine,
        history: Default::default(),
        setup_token: config.setup_token.map(Arc::new),
        kdc_proxy: config.kdc_proxy,
    };
    let scheme = if config.tls { Scheme::HTTPS } else { Scheme::HTTP };
    let allowed_hosts = Arc::new(config.allowed_hosts);
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
        .leptos_routes_with_context(&state, routes, provide_request_context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .route_layer(middleware::from_fn_with_state(state.clone(), attach_console_state))
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::handler))
        .route("/api/health", get(health_report))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(provide_request_context, shell))
        .layer(middleware::from_fn_with_state(scheme, refuse_cross_site))
        .layer(session_layer)
        .layer(middleware::from_fn_with_state(allowed_hosts, refuse_other_hosts))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(middleware::from_fn(content_security_policy));
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
            let status = if report.status == app::model::health::Level::Critical {
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

/// Makes a nonce for the request, which Leptos puts on the inline scripts of a page (see
/// [`provide_request_context`]), and sends the Content-Security-Policy that allows them. Set here
/// rather than through Leptos' response options, which a page's response did not always carry.
async fn content_security_policy(mut request: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    let policy = HeaderValue::try_from(app::app::content_security_policy(&nonce));
    request.extensions_mut().insert(nonce);
    let mut response = next.run(request).await;
    match policy {
        Ok(policy) => {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        Err(error) => tracing::error!(%error, "Content-Security-Policy"),
    }
    response
}

/// Works out, before a page renders, whether setup is pending and who is signed in (the page's
/// frame depends on it; see [`app::app::RequestConsoleState`]). Server functions, also served by
/// these routes, find out for themselves when they need to.
async fn attach_console_state(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let page = request.method() == Method::GET && !request.uri().path().starts_with("/api/");
    if let Some(session) = request.extensions().get::<Session>().filter(|_| page).cloned() {
        let console_state = app::backend::session::console_state_of(&state, &session).await;
        request.extensions_mut().insert(RequestConsoleState(console_state));
    }
    next.run(request).await
}

/// Hands Leptos what the request brought: its nonce, in place of the one Leptos would make
/// itself, and the console state worked out by [`attach_console_state`].
fn provide_request_context() {
    let Some(parts) = use_context::<Parts>() else { return };
    if let Some(nonce) = parts.extensions.get::<Nonce>().cloned() {
        provide_context(nonce);
    }
    if let Some(console_state) = parts.extensions.get::<RequestConsoleState>().cloned() {
        provide_context(console_state);
    }
}

/// The host a request names: its Host header, or the `:authority` of an HTTP/2 request.
fn requested_host(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
}

/// Refuses requests for a host name that is not the console's (421 Misdirected Request): a page
/// of another site that rebinds its name to this server's address sends its own name.
async fn refuse_other_hosts(State(allowed): State<Arc<AllowedHosts>>, request: Request, next: Next) -> Response {
    match requested_host(&request) {
        Some(host) if allowed.allows(host) => next.run(request).await,
        Some(host) => {
            tracing::debug!(host, path = %request.uri().path(), "refused a request for another host name");
            let message = format!(
                "This console does not answer to the name '{host}'. If it is one of this server's names, \
                 add it with --console-hosts (EDGESHARE_CONSOLE_HOSTS).\n"
            );
            (StatusCode::MISDIRECTED_REQUEST, message).into_response()
        }
        None => (StatusCode::BAD_REQUEST, "The request names no host.\n").into_response(),
    }
}

/// Refuses state-changing requests that a browser sent from another site (CSRF): the Origin the
/// browser states must be this console's own, scheme included. Requests without Origin or
/// Sec-Fetch-Site do not come from a browser's cross-site context and pass (the command line,
/// monitoring).
async fn refuse_cross_site(State(scheme): State<Scheme>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    match cross_site_reason(&request, &scheme) {
        Some(reason) => {
            tracing::warn!(path = %request.uri().path(), reason, "refused a cross-site request");
            (StatusCode::FORBIDDEN, format!("Cross-site request refused: {reason}.")).into_response()
        }
        None => next.run(request).await,
    }
}

fn cross_site_reason(request: &Request, scheme: &Scheme) -> Option<&'static str> {
    let headers = request.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Some((origin_scheme, origin)) = origin.to_str().ok().and_then(parse_origin) else {
            return Some("the Origin header is not an origin");
        };
        if origin_scheme != *scheme {
            return Some("the Origin header names another scheme");
        }
        let host = requested_host(request).and_then(|host| host.parse::<Authority>().ok());
        return match host {
            Some(host) if same_authority(&origin, &host, scheme) => None,
            _ => Some("the Origin header names another site"),
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site" | "same-site") => Some("the browser marked it as coming from another site"),
        _ => None,
    }
}

/// An Origin header's scheme and authority (RFC 6454: `scheme://host[:port]`, nothing more).
fn parse_origin(origin: &str) -> Option<(Scheme, Authority)> {
    let uri: Uri = origin.parse().ok()?;
    let no_path = matches!(uri.path_and_query().map(|p| p.as_str()), None | Some("" | "/"));
    let parts = uri.into_parts();
    let (scheme, authority) = (parts.scheme?, parts.authority?);
    let plain = no_path && !authority.as_str().contains('@');
    (plain && (scheme == Scheme::HTTP || scheme == Scheme::HTTPS)).then_some((scheme, authority))
}

fn same_authority(origin: &Authority, host: &Authority, scheme: &Scheme) -> bool {
    let default_port = if *scheme == Scheme::HTTPS { 443 } else { 80 };
    origin.host().eq_ignore_ascii_case(host.host())
        && origin.port_u16().unwrap_or(default_port) == host.port_u16().unwrap_or(default_port)
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

    fn reason(headers: &[(&str, &str)]) -> Option<&'static str> {
        cross_site_reason(&post(headers), &Scheme::HTTPS)
    }

    #[test]
    fn same_origin_posts_pass() {
        assert_eq!(reason(&[("host", "127.0.0.1:8443"), ("origin", "https://127.0.0.1:8443")]), None);
        assert_eq!(reason(&[("host", "Files.Example.com"), ("origin", "https://files.example.com")]), None);
        assert_eq!(reason(&[("host", "files.example.com:443"), ("origin", "https://files.example.com")]), None);
    }

    #[test]
    fn posts_from_another_origin_are_refused() {
        assert!(reason(&[("host", "127.0.0.1:8443"), ("origin", "https://evil.example")]).is_some());
        assert!(reason(&[("host", "127.0.0.1:8443"), ("origin", "https://127.0.0.1:8444")]).is_some());
    }

    #[test]
    fn posts_with_an_unparsable_origin_are_refused() {
        for origin in [
            "null",
            "127.0.0.1:8443",
            "https://",
            "https://127.0.0.1:8443/path",
            "https://u@127.0.0.1:8443",
            "ftp://127.0.0.1:8443",
        ] {
            assert!(reason(&[("host", "127.0.0.1:8443"), ("origin", origin)]).is_some(), "{origin}");
        }
    }

    #[test]
    fn posts_from_the_same_host_under_another_scheme_are_refused() {
        assert_eq!(
            reason(&[("host", "127.0.0.1:8443"), ("origin", "http://127.0.0.1:8443")]),
            Some("the Origin header names another scheme")
        );
        let plain = post(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")]);
        assert_eq!(cross_site_reason(&plain, &Scheme::HTTP), None);
    }

    #[test]
    fn posts_marked_cross_site_without_origin_are_refused() {
        assert!(reason(&[("host", "a"), ("sec-fetch-site", "cross-site")]).is_some());
        assert_eq!(reason(&[("host", "a")]), None);
    }
}
